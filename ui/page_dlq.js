// The dead-letter queue: failed messages, retried one by one or all, purged
// after a confirmation. Every call here needs an admin key.
import { api } from './api.js';
import { confirmBox, h, link, replace, table, time } from './dom.js';

export function render(root, _where, ctx) {
  const list = h('div', { id: 'dlq-list' });
  const bar = h('div', { class: 'actions' });
  replace(root, h('div', { class: 'title-row' }, h('h1', { text: 'Dead-letter queue' }), bar), list);
  // A lower key still asks: the API's 403 is the message the operator sees.
  const admin = ctx.can('admin');
  let entries = [];
  const retry = async (ids) => {
    let retried = 0;
    for (const id of ids) {
      try {
        await api('POST', `/v1/admin/dlq/${encodeURIComponent(id)}/retry`);
        retried += 1;
      } catch (error) {
        ctx.failed(error);
      }
    }
    ctx.flash(`${retried} message${retried === 1 ? '' : 's'} queued again.`, 'ok');
    load();
  };
  const purge = async () => {
    try {
      const answer = await api('DELETE', '/v1/admin/dlq?all=true');
      ctx.flash(`${answer.purged} failed messages purged.`, 'ok');
      load();
    } catch (error) {
      ctx.failed(error);
    }
  };
  async function load() {
    try {
      entries = (await api('GET', '/v1/admin/dlq?limit=1000')).data;
      replace(
        bar,
        h('button', { type: 'button', id: 'dlq-retry-all', text: 'Retry all', disabled: !admin || !entries.length, onclick: () => retry(entries.map((e) => e.id)) }),
        h('button', {
          type: 'button',
          id: 'dlq-purge',
          class: 'danger',
          text: 'Purge…',
          disabled: !admin || !entries.length,
          onclick: () => list.prepend(confirmBox(`Delete every failed message (${entries.length}${entries.length === 1000 ? ' or more' : ''})? They cannot be retried afterwards.`, 'Purge them', purge)),
        }),
      );
      replace(
        list,
        table(
          [
            { title: 'Message', cell: (e) => link(`#/messages/${encodeURIComponent(e.id)}`, e.id) },
            { title: 'Address', cell: (e) => e.email },
            { title: 'Error', cell: (e) => `${e.last_error_code}: ${e.last_error}` },
            { title: 'Attempts', cell: (e) => e.attempts },
            { title: 'Failed', cell: (e) => time(e.failed_at) },
            { title: '', cell: (e) => h('button', { type: 'button', class: 'small', text: 'Retry', disabled: !admin, onclick: () => retry([e.id]) }) },
          ],
          entries,
          'The dead-letter queue is empty.',
        ),
      );
    } catch (error) {
      ctx.failed(error);
    }
  }
  load();
}
