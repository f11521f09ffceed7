// Overview: sending now and over the last day, the queue, the quota, the
// hold on sending and the account's reputation. Needs an admin key (the
// figures come from /v1/admin/queue and /v1/admin/metrics).
import { api } from './api.js';
import { barChart, horizontalBars, lineChart, rateAgainst } from './charts.js';
import { card, h, number, percent, replace } from './dom.js';

const k_samples = 1800; // an hour of samples, one every 2 s

function figure(label, value, note = '') {
  return h('div', { class: 'figure' }, h('div', { class: 'figure-value', text: value }), h('div', { class: 'figure-label', text: label }), note && h('div', { class: 'figure-note', text: note }));
}

function holdText(engine) {
  if (!engine) return 'no engine';
  if (engine.sending_on_hold) return `on hold: ${engine.hold_reason}`;
  if (engine.bulk_held) return 'bulk held (daily quota)';
  return 'sending';
}

function quotaText(quota) {
  if (quota.max_24_hour_send === null) return `${number(quota.sent_24h)} sent (quota not known yet)`;
  if (quota.max_24_hour_send < 0) return `${number(quota.sent_24h)} sent (unlimited)`;
  return `${number(quota.sent_24h)} of ${number(quota.max_24_hour_send)}`;
}

export async function render(root, _where, ctx) {
  replace(root, h('h1', { text: 'Overview' }));
  if (!ctx.can('admin')) {
    root.append(h('p', { class: 'notice', text: 'The overview needs an admin key. Batches, messages and suppressions are open to this key.' }));
    return;
  }
  const figures = h('div', { class: 'figures' });
  const rateCard = card('Send rate, measured since this page opened (up to an hour)');
  const hourCard = card('Sent per hour, last 24 hours');
  const queueCard = card('Queue depth by state');
  const reputationCard = card('Reputation, last 24 hours');
  root.append(figures, h('div', { class: 'grid' }, rateCard, hourCard, queueCard, reputationCard));
  const samples = [];
  let last = null;

  const pollQueue = async () => {
    try {
      const queue = await api('GET', '/v1/admin/queue');
      const now = Date.now();
      const sent = queue.depth.sent || 0;
      if (last) samples.push(Math.max(0, ((sent - last.sent) * 1000) / Math.max(1, now - last.at)));
      if (samples.length > k_samples) samples.shift();
      last = { sent, at: now };
      const rate = samples.length ? samples[samples.length - 1] : 0;
      replace(
        figures,
        figure('send rate now', `${rate.toFixed(1)}/s`, `limit ${queue.send_rate_per_second ?? '–'}/s`),
        figure('in flight', number(queue.in_flight)),
        figure('24 h quota used', quotaText(queue.quota)),
        figure('SES sending', holdText(queue.engine)),
      );
      replace(rateCard, h('h2', { text: rateCard.firstChild.textContent }), lineChart(samples, 'send rate'));
      replace(queueCard, h('h2', { text: 'Queue depth by state' }), horizontalBars(queue.depth, 'queue depth by state'));
    } catch (error) {
      ctx.failed(error);
    }
  };

  const pollMetrics = async () => {
    try {
      const metrics = await api('GET', '/v1/admin/metrics?period=24h');
      const hours = metrics.sent_per_hour.map((p) => ({ label: p.hour.slice(11, 16), value: p.sent }));
      const lastHour = hours.length ? hours[hours.length - 1].value : 0;
      replace(hourCard, h('h2', { text: `Sent per hour, last 24 hours (${number(lastHour)} this hour)` }), barChart(hours, 'sent per hour'));
      const a = metrics.account;
      replace(
        reputationCard,
        h('h2', { text: 'Reputation, last 24 hours' }),
        h('p', { text: `Bounce rate ${percent(a.bounce_rate, 2)} (${a.bounce_status})` }),
        rateAgainst(a.bounce_rate, a.guard_bounce_rate, a.ses_bounce_review_rate, 'bounce rate'),
        h('p', { text: `Complaint rate ${percent(a.complaint_rate, 3)} (${a.complaint_status})` }),
        rateAgainst(a.complaint_rate, a.guard_complaint_rate, a.ses_complaint_review_rate, 'complaint rate'),
        h('p', { class: 'muted', text: `${number(a.sent)} sent in the window.` }),
      );
    } catch (error) {
      ctx.failed(error);
    }
  };
  ctx.every(2000, pollQueue);
  ctx.every(15000, pollMetrics);
}
