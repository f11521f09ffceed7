// Small SVG charts drawn here rather than by a library: bars, a line, a rate
// against its thresholds and a progress bar. Sizes are in SVG user units;
// the viewBox lets CSS scale them to the card's width.
import { h, percent } from './dom.js';

const k_svg = 'http://www.w3.org/2000/svg';

function svg(tag, attributes = {}, ...children) {
  const node = document.createElementNS(k_svg, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  for (const child of children) if (child) node.append(child);
  return node;
}

function titled(node, text) {
  node.append(svg('title', {}, document.createTextNode(text)));
  return node;
}

function frame(width, height, label) {
  return svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': label });
}

// Vertical bars, one per {label, value}; `label` also names the bar's tooltip.
export function barChart(points, label) {
  const width = 600;
  const height = 160;
  const chart = frame(width, height, label);
  const max = Math.max(1, ...points.map((p) => p.value));
  const step = width / Math.max(1, points.length);
  points.forEach((point, i) => {
    const bar = Math.round((point.value / max) * (height - 20));
    chart.append(
      titled(
        svg('rect', { x: i * step + 1, y: height - 16 - bar, width: Math.max(1, step - 2), height: bar, class: 'bar' }),
        `${point.label}: ${point.value}`,
      ),
    );
  });
  chart.append(svg('line', { x1: 0, y1: height - 16, x2: width, y2: height - 16, class: 'axis' }));
  const text = (x, anchor, value) =>
    svg('text', { x, y: height - 2, 'text-anchor': anchor, class: 'tick' }, document.createTextNode(value));
  if (points.length) {
    chart.append(text(0, 'start', points[0].label), text(width, 'end', points[points.length - 1].label));
  }
  chart.append(
    svg('text', { x: 0, y: 10, class: 'tick' }, document.createTextNode(`max ${max.toLocaleString()}`)),
  );
  return chart;
}

// A line through `values` (oldest first), scaled to their maximum.
export function lineChart(values, label) {
  const width = 600;
  const height = 120;
  const chart = frame(width, height, label);
  const max = Math.max(1, ...values);
  const step = width / Math.max(1, values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 4 - (v / max) * (height - 20)).toFixed(1)}`);
  chart.append(svg('line', { x1: 0, y1: height - 4, x2: width, y2: height - 4, class: 'axis' }));
  if (points.length > 1) chart.append(svg('polyline', { points: points.join(' '), class: 'line' }));
  chart.append(svg('text', { x: 0, y: 10, class: 'tick' }, document.createTextNode(`max ${max.toFixed(1)}/s`)));
  return chart;
}

// Horizontal bars for a {name: count} object, largest scale first.
export function horizontalBars(counts, label) {
  const entries = Object.entries(counts);
  const width = 600;
  const row = 22;
  const chart = frame(width, Math.max(row, entries.length * row), label);
  const max = Math.max(1, ...entries.map(([, v]) => v));
  entries.forEach(([name, value], i) => {
    const y = i * row;
    chart.append(svg('text', { x: 0, y: y + 15, class: 'tick' }, document.createTextNode(name)));
    chart.append(
      titled(
        svg('rect', { x: 110, y: y + 4, width: Math.max(1, (value / max) * (width - 190)), height: 14, class: 'bar' }),
        `${name}: ${value}`,
      ),
    );
    chart.append(
      svg('text', { x: width, y: y + 15, 'text-anchor': 'end', class: 'tick' }, document.createTextNode(value.toLocaleString())),
    );
  });
  return chart;
}

// `rate` (a fraction, or null) on a scale that shows both thresholds:
// `guard` (mailerd pauses a batch) and `review` (SES reviews the account).
export function rateAgainst(rate, guard, review, label) {
  const width = 600;
  const height = 46;
  const scale = Math.max(rate || 0, guard, review) * 1.25;
  const x = (v) => (v / scale) * width;
  const over = rate !== null && rate >= Math.min(guard, review);
  const chart = frame(width, height, label);
  chart.append(svg('rect', { x: 0, y: 14, width, height: 14, class: 'track' }));
  chart.append(svg('rect', { x: 0, y: 14, width: Math.max(0, x(rate || 0)), height: 14, class: over ? 'bar over' : 'bar' }));
  // The guard's label above the bar, SES's below, so equal thresholds stay legible.
  for (const [value, name, y] of [[guard, 'guard', 10], [review, 'SES review', 42]]) {
    const anchor = x(value) > width * 0.8 ? 'end' : 'middle';
    chart.append(titled(svg('line', { x1: x(value), y1: 12, x2: x(value), y2: 30, class: 'threshold' }), `${name} ${percent(value, 2)}`));
    chart.append(svg('text', { x: x(value), y, 'text-anchor': anchor, class: 'tick' }, document.createTextNode(`${name} ${percent(value, 2)}`)));
  }
  return chart;
}

// `done` of `total` as a <progress> with its percentage beside it.
export function progress(done, total) {
  const fraction = total > 0 ? Math.min(1, done / total) : 0;
  const text = `${Math.floor(fraction * 100)} %`;
  return h(
    'div',
    { class: 'progress' },
    h('progress', { max: 100, value: Math.floor(fraction * 100), 'aria-label': text }),
    h('span', { class: 'progress-text', text }),
  );
}
