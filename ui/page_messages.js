// Messages and events: one search box for an address, a message id (msg_…)
// or the MessageId SES returned; one message with its timeline.
import { api, ApiError, withQuery } from './api.js';
import { card, h, link, pre, replace, table, time } from './dom.js';

function eventsTable(events) {
  return table(
    [
      { title: 'When', cell: (e) => time(e.occurred_at) },
      { title: 'Type', cell: (e) => h('span', { class: `event event-${e.type}`, text: e.type }) },
      { title: 'Address', cell: (e) => e.email },
      { title: 'Message', cell: (e) => (e.message_id ? link(`#/messages/${encodeURIComponent(e.message_id)}`, e.message_id) : '–') },
    ],
    events,
    'No events found.',
  );
}

// What the operator typed decides where to look.
function queryFor(text) {
  if (text.includes('@')) return { email: text };
  return { ses_message_id: text };
}

async function search(results, text, ctx) {
  if (text.startsWith('msg_')) {
    location.hash = `#/messages/${encodeURIComponent(text)}`;
    return;
  }
  try {
    const page = await api('GET', withQuery('/v1/events', { ...queryFor(text), limit: 200 }));
    replace(results, eventsTable(page.data));
  } catch (error) {
    if (error instanceof ApiError && error.status === 400) replace(results, h('p', { class: 'error', text: error.message }));
    else ctx.failed(error);
  }
}

function renderSearch(root, where, ctx) {
  const input = h('input', { id: 'message-search', type: 'search', placeholder: 'address, msg_… id or SES MessageId', 'aria-label': 'Search', value: where.query.get('q') || '' });
  const results = h('div', { id: 'message-results' });
  const form = h(
    'form',
    {
      class: 'search',
      onsubmit: (event) => {
        event.preventDefault();
        const text = input.value.trim();
        if (text) location.hash = `#/messages?q=${encodeURIComponent(text)}`;
      },
    },
    input,
    h('button', { type: 'submit', class: 'primary', text: 'Search' }),
  );
  replace(root, h('h1', { text: 'Messages and events' }), form, results);
  const q = where.query.get('q');
  if (q) search(results, q, ctx);
  else replace(results, h('p', { class: 'muted', text: 'Search by recipient address, message id or the MessageId SES returned.' }));
}

function field(name, value) {
  return [h('dt', { text: name }), h('dd', { text: value === null || value === undefined || value === '' ? '–' : value })];
}

function timeline(events) {
  if (!events.length) return h('p', { class: 'empty', text: 'No events yet.' });
  return h(
    'ol',
    { class: 'timeline', id: 'message-timeline' },
    events.map((e) =>
      h(
        'li',
        {},
        h('span', { class: `event event-${e.type}`, text: e.type }),
        h('span', { class: 'muted', text: ` ${time(e.occurred_at)} · ${e.email}` }),
        e.detail && Object.keys(e.detail).length ? pre(e.detail) : null,
      ),
    ),
  );
}

async function renderMessage(root, where) {
  const m = await api('GET', `/v1/messages/${encodeURIComponent(where.id)}`);
  replace(
    root,
    h('h1', {}, link('#/messages', 'Messages'), ' / ', h('span', { text: m.id })),
    h(
      'div',
      { class: 'grid' },
      card(
        'Message',
        h(
          'dl',
          {},
          field('status', m.status),
          field('kind', m.kind),
          field('to', (m.to || []).join(', ')),
          field('batch', m.batch_id),
          field('attempts', m.attempts),
          field('last error', m.last_error),
          field('SES MessageId', m.ses_message_id),
          field('created', time(m.created_at)),
          field('sent', time(m.sent_at)),
        ),
        m.batch_id && link(`#/batches/${encodeURIComponent(m.batch_id)}`, 'Open the batch'),
      ),
      card('Timeline', timeline(m.events || [])),
    ),
  );
}

export function render(root, where, ctx) {
  return where.id ? renderMessage(root, where, ctx) : renderSearch(root, where, ctx);
}
