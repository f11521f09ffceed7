// The dashboard's shell: login, navigation between hash routes (#/batches/…,
// so the server only ever serves its fixed files), the calling key's scope,
// messages to the operator, and the timers of the page on screen.
import { api, ApiError, forgetKey, storedKey, storeKey } from './api.js';
import { h, replace } from './dom.js';
import * as batches from './page_batches.js';
import * as dlq from './page_dlq.js';
import * as keys from './page_keys.js';
import * as messages from './page_messages.js';
import * as overview from './page_overview.js';
import * as suppressions from './page_suppressions.js';

const k_pages = { '': overview, batches, messages, suppressions, dlq, keys };
const k_rank = { read: 1, send: 2, admin: 3 };

const view = document.getElementById('view');
let me = null;
let timers = [];
let cleanup = null;

function stopPage() {
  for (const id of timers) clearInterval(id);
  timers = [];
  if (cleanup) cleanup();
  cleanup = null;
}

function flash(text, kind = 'info') {
  const box = document.getElementById('flash');
  box.textContent = text;
  box.className = `flash ${kind}`;
  box.hidden = !text;
}

const context = {
  get me() {
    return me;
  },
  // Whether the key's scope reaches `scope`; the API decides in the end.
  can(scope) {
    return Boolean(me) && k_rank[me.scope] >= k_rank[scope];
  },
  flash,
  failed(error) {
    if (error instanceof ApiError && error.status === 403) {
      flash(`Not allowed with this key (scope ${me ? me.scope : '?'}): ${error.message}`, 'error');
    } else if (error instanceof ApiError && error.status === 401) {
      // handled by showLogin
    } else {
      flash(error.message || String(error), 'error');
    }
  },
  // Calls `fn` now and every `ms` while this page is on screen.
  every(ms, fn) {
    fn();
    timers.push(setInterval(fn, ms));
  },
};

// "#/batches/bat_1?status=sending" -> {page: "batches", id: "bat_1", query}
function parseHash() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, search] = hash.split('?');
  const [page = '', id = ''] = path.split('/').map(decodeURIComponent);
  return { page, id, query: new URLSearchParams(search || '') };
}

function markNav(page) {
  for (const a of document.querySelectorAll('#nav a')) {
    a.classList.toggle('active', a.dataset.page === (page || 'overview'));
  }
}

async function route() {
  stopPage();
  if (!storedKey() || !me) return showLogin();
  flash('');
  const where = parseHash();
  const page = k_pages[where.page];
  markNav(where.page);
  const root = h('div', { class: 'page', 'data-page': where.page || 'overview' });
  replace(view, root);
  if (!page) {
    replace(root, h('h1', { text: 'Not found' }), h('p', { text: 'No such page.' }));
    return;
  }
  try {
    cleanup = (await page.render(root, where, context)) || null;
  } catch (error) {
    context.failed(error);
  }
}

function showLogin(message = '') {
  stopPage();
  me = null;
  document.getElementById('top').hidden = true;
  flash('');
  const form = document.getElementById('login-template').content.cloneNode(true);
  replace(view, form);
  const error = document.getElementById('login-error');
  error.textContent = message;
  error.hidden = !message;
  document.getElementById('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = document.getElementById('login-key').value.trim();
    if (key) login(key);
  });
  document.getElementById('login-key').focus();
}

async function identify() {
  me = await api('GET', '/v1/me');
  document.getElementById('top').hidden = false;
  document.getElementById('who-name').textContent = me.name;
  document.getElementById('who-scope').textContent = me.scope;
}

async function login(key) {
  storeKey(key);
  try {
    await identify();
    route();
  } catch (error) {
    forgetKey();
    const unknown = error instanceof ApiError && error.status === 401;
    showLogin(unknown ? 'That key is unknown or revoked.' : `Could not check the key: ${error.message}`);
  }
}

window.addEventListener('mailerd:unauthorized', () => showLogin('The key is no longer accepted; enter one again.'));
window.addEventListener('hashchange', route);
document.getElementById('logout').addEventListener('click', () => {
  forgetKey();
  showLogin();
});

if (storedKey()) {
  identify().then(route, () => showLogin());
} else {
  showLogin();
}
