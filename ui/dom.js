// Building the page from data without ever parsing it as HTML: addresses,
// template names and subjects come from strangers, so text goes in through
// text nodes only (no innerHTML anywhere in ui/).
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name === 'text') node.textContent = String(value);
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else if (name === 'disabled' || name === 'hidden' || name === 'required') node[name] = Boolean(value);
    else if (name === 'value') node.value = value;
    else node.setAttribute(name, String(value));
  }
  append(node, children);
  return node;
}

export function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function replace(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}

export function link(href, text) {
  return h('a', { href, text });
}

export function time(iso) {
  if (!iso) return '–';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? String(iso) : date.toLocaleString();
}

export function number(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString();
}

export function percent(fraction, digits = 1) {
  return fraction === null || fraction === undefined ? '–' : `${(fraction * 100).toFixed(digits)} %`;
}

// A table of `rows` with `columns` = [{title, cell(row) -> Node|string}].
export function table(columns, rows, empty = 'Nothing here.') {
  if (!rows.length) return h('p', { class: 'empty', text: empty });
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { text: c.title })))),
    h('tbody', {}, rows.map((row) => h('tr', {}, columns.map((c) => h('td', {}, c.cell(row)))))),
  );
}

export function card(title, ...body) {
  return h('section', { class: 'card' }, h('h2', { text: title }), ...body);
}

export function pre(value) {
  return h('pre', { text: JSON.stringify(value, null, 2) });
}

// A question in the page with Yes / No buttons (no window.confirm: it blocks
// the page's timers). `onYes` runs once; either answer removes the box.
export function confirmBox(question, yesText, onYes) {
  const box = h('div', { class: 'confirm', role: 'alertdialog', 'aria-label': question });
  const close = () => box.remove();
  append(box, [
    h('p', { text: question }),
    h('button', { type: 'button', class: 'danger', id: 'confirm-yes', text: yesText, onclick: () => { close(); onYes(); } }),
    h('button', { type: 'button', id: 'confirm-no', text: 'Keep them', onclick: close }),
  ]);
  return box;
}
