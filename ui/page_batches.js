// Batches: the list with a status filter and a progress bar each, and one
// batch followed live (polled every second) with its actions.
import { api, withQuery } from './api.js';
import { progress } from './charts.js';
import { card, h, link, number, percent, replace, table, time } from './dom.js';

const k_statuses = ['scheduled', 'queued', 'sending', 'paused', 'completed', 'cancelled'];
const k_finished_states = ['sent', 'failed', 'suppressed', 'cancelled'];

// Messages finished (whatever the outcome) out of all the batch holds.
function done(batch) {
  const states = batch.states || {};
  const total = Object.values(states).reduce((a, b) => a + b, 0);
  const finished = k_finished_states.reduce((a, s) => a + (states[s] || 0), 0);
  if (total === 0) return { finished: batch.status === 'completed' ? 1 : 0, total: 1 };
  return { finished, total };
}

function batchProgress(batch) {
  const { finished, total } = done(batch);
  return progress(finished, total);
}

function batchName(batch) {
  return batch.metadata && typeof batch.metadata.name === 'string' ? batch.metadata.name : '';
}

async function renderList(root, where, ctx) {
  const status = where.query.get('status') || '';
  const select = h(
    'select',
    { id: 'batch-status', 'aria-label': 'Status', onchange: () => (location.hash = select.value ? `#/batches?status=${select.value}` : '#/batches') },
    h('option', { value: '', text: 'every status' }),
    k_statuses.map((s) => h('option', { value: s, text: s })),
  );
  select.value = status;
  const list = h('div', { id: 'batch-list' });
  replace(root, h('div', { class: 'title-row' }, h('h1', { text: 'Batches' }), select), list);
  ctx.every(2000, async () => {
    try {
      const page = await api('GET', withQuery('/v1/batches', { status, limit: 100 }));
      replace(
        list,
        table(
          [
            { title: 'Batch', cell: (b) => h('span', {}, link(`#/batches/${encodeURIComponent(b.id)}`, b.id), batchName(b) && h('span', { class: 'muted', text: ` ${batchName(b)}` })) },
            { title: 'Status', cell: (b) => h('span', { class: `status status-${b.status}`, text: b.status }) },
            { title: 'Recipients', cell: (b) => number(b.counts.accepted) },
            { title: 'Progress', cell: batchProgress },
            { title: 'Created', cell: (b) => time(b.created_at) },
          ],
          page.data,
          'No batches.',
        ),
      );
    } catch (error) {
      ctx.failed(error);
    }
  });
}

function actions(batch, ctx, refresh) {
  const act = async (action) => {
    try {
      await api('POST', `/v1/batches/${encodeURIComponent(batch.id)}/${action}`, action === 'pause' ? { reason: 'paused from the dashboard' } : undefined);
      ctx.flash(`Batch ${action === 'cancel' ? 'cancelled' : action + 'd'}.`, 'ok');
      refresh();
    } catch (error) {
      ctx.failed(error);
    }
  };
  const mayAct = ctx.can('send');
  const open = !['completed', 'cancelled'].includes(batch.status);
  const tip = mayAct ? undefined : 'needs a key of scope send';
  return h(
    'div',
    { class: 'actions' },
    h('button', { type: 'button', id: 'batch-pause', text: 'Pause', disabled: !mayAct || !open || batch.status === 'paused', title: tip, onclick: () => act('pause') }),
    h('button', { type: 'button', id: 'batch-resume', text: 'Resume', disabled: !mayAct || batch.status !== 'paused', title: tip, onclick: () => act('resume') }),
    h('button', { type: 'button', id: 'batch-cancel', class: 'danger', text: 'Cancel', disabled: !mayAct || !open, title: tip, onclick: () => act('cancel') }),
  );
}

function counts(object) {
  const rows = Object.entries(object || {}).map(([name, value]) => ({ name, value }));
  return table([{ title: '', cell: (r) => r.name }, { title: 'count', cell: (r) => number(r.value) }], rows, 'None yet.');
}

// How the batch is sent, when it says more than the defaults: its SES
// configuration set and SES list management (contact list, topic). Text only.
function sendingSettings(batch) {
  const rows = [];
  if (batch.configuration_set) rows.push(['configuration set', batch.configuration_set]);
  const lm = batch.list_management;
  if (lm && lm.contact_list_name) {
    rows.push(['list management', lm.topic_name ? `contact list ${lm.contact_list_name}, topic ${lm.topic_name}` : `contact list ${lm.contact_list_name}`]);
  }
  if (!rows.length) return null;
  return h('dl', { id: 'batch-sending' }, rows.flatMap(([name, value]) => [h('dt', { text: name }), h('dd', { text: value })]));
}

function showBatch(body, batch, ctx, refresh) {
  const e = batch.engagement || {};
  replace(
    body,
    h('div', { class: 'title-row' }, h('span', { id: 'batch-status-text', class: `status status-${batch.status}`, text: batch.status }), actions(batch, ctx, refresh)),
    batch.pause_reason && h('p', { class: 'notice', text: `Paused: ${batch.pause_reason}` }),
    h('div', { id: 'batch-progress' }, batchProgress(batch)),
    sendingSettings(batch),
    h(
      'div',
      { class: 'grid' },
      card('Recipients', counts(batch.counts)),
      card('Messages by state', counts(batch.states)),
      card('Events by type', counts(batch.events)),
      card(
        'Engagement',
        h('p', { text: `Delivered ${number(e.delivered)} · opened ${percent(e.open_rate)} · clicked ${percent(e.click_rate)}` }),
        h('p', { text: `Bounces ${percent(e.bounce_rate, 2)} · complaints ${percent(e.complaint_rate, 3)}` }),
      ),
    ),
    card(
      `Invalid rows (${number(batch.counts.invalid)}) and duplicates (${number(batch.counts.duplicate)})`,
      table(
        [
          { title: 'Index', cell: (r) => number(r.index) },
          { title: 'Address', cell: (r) => r.address },
          { title: 'Why', cell: (r) => r.reason },
        ],
        batch.invalid || [],
        'No invalid rows.',
      ),
      h('p', { class: 'muted', text: 'Duplicates are addresses given more than once; each was sent one message.' }),
    ),
  );
}

async function renderBatch(root, where, ctx) {
  const id = where.id;
  const body = h('div', { id: 'batch-body' });
  replace(root, h('h1', {}, link('#/batches', 'Batches'), ' / ', h('span', { text: id })), body);
  const recipients = card('Recipients (first 50)');
  root.append(recipients);
  const refresh = async () => {
    try {
      showBatch(body, await api('GET', `/v1/batches/${encodeURIComponent(id)}`), ctx, refresh);
    } catch (error) {
      ctx.failed(error);
    }
  };
  ctx.every(1000, refresh);
  try {
    const page = await api('GET', `/v1/batches/${encodeURIComponent(id)}/recipients?limit=50`);
    recipients.append(
      table(
        [
          { title: 'Message', cell: (r) => link(`#/messages/${encodeURIComponent(r.message_id)}`, r.message_id) },
          { title: 'Address', cell: (r) => r.email },
          { title: 'State', cell: (r) => r.state },
        ],
        page.data,
      ),
    );
  } catch (error) {
    ctx.failed(error);
  }
}

export function render(root, where, ctx) {
  return where.id ? renderBatch(root, where, ctx) : renderList(root, where, ctx);
}
