// Suppressions: look one address up, list by reason, add (scope send) and
// remove (scope admin).
import { api, ApiError, withQuery } from './api.js';
import { card, h, replace, table, time } from './dom.js';

const k_reasons = ['bounce', 'complaint', 'unsubscribe', 'manual', 'soft_bounce'];

function rowsTable(rows, ctx, reload) {
  const remove = async (email) => {
    try {
      await api('DELETE', `/v1/suppressions/${encodeURIComponent(email)}`);
      ctx.flash(`${email} removed from the suppression list.`, 'ok');
      reload();
    } catch (error) {
      ctx.failed(error);
    }
  };
  return table(
    [
      { title: 'Address', cell: (s) => s.email },
      { title: 'Reason', cell: (s) => s.reason },
      { title: 'Scope', cell: (s) => s.scope },
      { title: 'Since', cell: (s) => time(s.created_at) },
      {
        title: '',
        cell: (s) =>
          h('button', { type: 'button', class: 'danger small', text: 'Remove', disabled: !ctx.can('admin'), title: ctx.can('admin') ? undefined : 'needs a key of scope admin', onclick: () => remove(s.email) }),
      },
    ],
    rows,
    'No suppressions.',
  );
}

export function render(root, where, ctx) {
  const reason = where.query.get('reason') || '';
  const q = where.query.get('q') || '';
  const input = h('input', { id: 'suppression-search', type: 'search', placeholder: 'address', 'aria-label': 'Address', value: q });
  const select = h('select', { id: 'suppression-reason', 'aria-label': 'Reason' }, h('option', { value: '', text: 'every reason' }), k_reasons.map((r) => h('option', { value: r, text: r })));
  select.value = reason;
  const go = (event) => {
    event.preventDefault();
    location.hash = `#/suppressions?${new URLSearchParams({ q: input.value.trim(), reason: select.value })}`;
  };
  const results = h('div', { id: 'suppression-results' });
  const addEmail = h('input', { id: 'suppression-add-email', type: 'email', placeholder: 'address to suppress', 'aria-label': 'Address to suppress', required: true });
  const mayAdd = ctx.can('send');
  const reload = () => load();
  const add = async (event) => {
    event.preventDefault();
    try {
      await api('POST', '/v1/suppressions', { email: addEmail.value.trim(), reason: 'manual' });
      ctx.flash(`${addEmail.value.trim()} added to the suppression list.`, 'ok');
      addEmail.value = '';
      reload();
    } catch (error) {
      ctx.failed(error);
    }
  };
  replace(
    root,
    h('h1', { text: 'Suppressions' }),
    h('form', { class: 'search', onsubmit: go }, input, select, h('button', { type: 'submit', class: 'primary', text: 'Search' })),
    results,
    card(
      'Add an address',
      h('form', { class: 'search', onsubmit: add }, addEmail, h('button', { type: 'submit', id: 'suppression-add', class: 'primary', text: 'Suppress', disabled: !mayAdd, title: mayAdd ? undefined : 'needs a key of scope send' })),
    ),
  );
  if (!mayAdd) addEmail.disabled = true;
  async function load() {
    try {
      if (q) {
        try {
          replace(results, rowsTable([await api('GET', `/v1/suppressions/${encodeURIComponent(q)}`)], ctx, reload));
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 404) throw error;
          replace(results, h('p', { class: 'empty', text: `${q} is not suppressed.` }));
        }
        return;
      }
      const page = await api('GET', withQuery('/v1/suppressions', { reason, limit: 200 }));
      replace(results, rowsTable(page.data, ctx, reload));
    } catch (error) {
      ctx.failed(error);
    }
  }
  load();
}
