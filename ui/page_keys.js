// API keys: list, create (the secret is shown once, here), revoke. Admin only.
import { api } from './api.js';
import { card, confirmBox, h, replace, table, time } from './dom.js';

export function render(root, _where, ctx) {
  const list = h('div', { id: 'key-list' });
  const created = h('div', { id: 'key-created' });
  replace(root, h('h1', { text: 'API keys' }));
  // A lower key still asks: the API's 403 is the message the operator sees.
  const admin = ctx.can('admin');
  const name = h('input', { id: 'key-name', placeholder: 'name, e.g. billing-app', 'aria-label': 'Key name', required: true });
  const scope = h('select', { id: 'key-scope', 'aria-label': 'Scope' }, ['read', 'send', 'admin'].map((s) => h('option', { value: s, text: s })));
  const create = async (event) => {
    event.preventDefault();
    try {
      const key = await api('POST', '/v1/admin/keys', { name: name.value.trim(), scope: scope.value });
      name.value = '';
      replace(
        created,
        h('div', { class: 'secret' }, h('p', { text: `Key "${key.name}" (${key.scope}) created. Copy it now: it is not shown again.` }), h('code', { id: 'key-secret', text: key.key })),
      );
      load();
    } catch (error) {
      ctx.failed(error);
    }
  };
  const revoke = async (key) => {
    try {
      await api('DELETE', `/v1/admin/keys/${encodeURIComponent(key.id)}`);
      ctx.flash(`Key "${key.name}" revoked.`, 'ok');
      load();
    } catch (error) {
      ctx.failed(error);
    }
  };
  root.append(
    card('New key', h('form', { class: 'search', onsubmit: create }, name, scope, h('button', { type: 'submit', class: 'primary', id: 'key-create', text: 'Create', disabled: !admin })), created),
    list,
  );
  async function load() {
    try {
      const keys = (await api('GET', '/v1/admin/keys')).data;
      replace(
        list,
        table(
          [
            { title: 'Name', cell: (k) => k.name },
            { title: 'Id', cell: (k) => k.id },
            { title: 'Scope', cell: (k) => k.scope },
            { title: 'Prefix', cell: (k) => h('code', { text: k.prefix }) },
            { title: 'Last used', cell: (k) => time(k.last_used_at) },
            { title: 'Revoked', cell: (k) => time(k.revoked_at) },
            {
              title: '',
              cell: (k) =>
                k.revoked_at
                  ? ''
                  : h('button', { type: 'button', class: 'danger small', text: 'Revoke', disabled: !admin, onclick: (event) => event.target.after(confirmBox(`Revoke "${k.name}"? Programs using it stop working at once.`, 'Revoke', () => revoke(k))) }),
            },
          ],
          keys,
        ),
      );
    } catch (error) {
      ctx.failed(error);
    }
  }
  load();
}
