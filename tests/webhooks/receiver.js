#!/usr/bin/env node
// A webhook receiver for mailerd's integration tests. It verifies every
// request with the standardwebhooks library (an implementation independent
// of mailerd's, pinned in package-lock.json) and remembers what arrived.
//
// Usage: node receiver.js   (listens on 127.0.0.1, a free port, and prints
// "webhook receiver listening port=N")
//
//   POST /hook          a delivery: verified, recorded, answered per the mode
//   POST /_control      {"secret": "whsec_...", "fail": N, "status": 500,
//                        "hang": true|false, "retry_after": "1"} (any subset):
//                       the secret to verify with, answer `status` to the next
//                       N deliveries (with Retry-After when given), or never
//                       answer at all
//   GET  /_stats        {"requests", "verified", "rejected", "answered_ok",
//                        "events", "unique_events", "duplicates",
//                        "duplicates_in_new_delivery", "test_deliveries",
//                        "webhook_ids": [...]}
//                        plus "latency_ms": {"p50", "p99", "max"}: from each
//                        event's occurred_at to its first arrival (make bench)
//   GET  /_events       {"ids": [event id received, once each], "types": {id: type}}
'use strict';
const http = require('http');
const { Webhook } = require('standardwebhooks');

const k_max_body = 16 * 1024 * 1024;
const state = {
  secret: null,
  fail: 0,
  status: 500,
  retryAfter: null,
  hang: false,
};
const stats = {
  requests: 0,
  verified: 0,
  rejected: 0,
  answered_ok: 0,
  events: 0,
  duplicates: 0,
  duplicates_in_new_delivery: 0,
  test_deliveries: 0,
};
const deliveriesOfEvent = new Map();  // event id -> Set of webhook-ids that carried it
const typeOfEvent = new Map();
const webhookIds = [];
const latencies = [];  // ms from occurred_at to first arrival, one per event
const hanging = [];

function readBody(req, done) {
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > k_max_body) { req.destroy(); return; }
    chunks.push(chunk);
  });
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function json(res, status, value) {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(value));
}

function record(body, webhookId) {
  const payload = JSON.parse(body);
  if (payload.type === 'mailer.test') { stats.test_deliveries++; return; }
  for (const event of payload.data) {
    stats.events++;
    let seen = deliveriesOfEvent.get(event.id);
    if (!seen) {
      seen = new Set();
      deliveriesOfEvent.set(event.id, seen);
      typeOfEvent.set(event.id, event.type);
      latencies.push(Date.now() - Date.parse(event.occurred_at));
    } else {
      stats.duplicates++;
      if (!seen.has(webhookId)) stats.duplicates_in_new_delivery++;
    }
    seen.add(webhookId);
  }
}

function percentiles() {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : null);
  return { p50: at(0.5), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1] : null };
}

function onHook(req, res, body) {
  stats.requests++;
  if (!state.secret) return json(res, 503, { error: 'no secret yet' });
  try {
    new Webhook(state.secret).verify(body, req.headers);
  } catch (e) {
    stats.rejected++;
    return json(res, 400, { error: 'signature: ' + e.message });
  }
  stats.verified++;
  if (state.hang) { hanging.push(res); return; }
  if (state.fail > 0) {
    state.fail--;
    const headers = { 'Content-Type': 'text/plain' };
    if (state.retryAfter !== null) headers['Retry-After'] = state.retryAfter;
    res.writeHead(state.status, headers);
    return res.end('failing on purpose');
  }
  const webhookId = req.headers['webhook-id'];
  webhookIds.push(webhookId);
  record(body, webhookId);
  stats.answered_ok++;
  json(res, 200, { ok: true });
}

function onControl(res, body) {
  const change = JSON.parse(body || '{}');
  if ('secret' in change) state.secret = change.secret;
  if ('fail' in change) state.fail = change.fail;
  if ('status' in change) state.status = change.status;
  if ('retry_after' in change) state.retryAfter = change.retry_after;
  if ('hang' in change) {
    state.hang = change.hang;
    if (!state.hang) while (hanging.length) hanging.pop().destroy();
  }
  json(res, 200, state);
}

const server = http.createServer((req, res) => {
  readBody(req, (body) => {
    try {
      if (req.method === 'POST' && req.url === '/hook') return onHook(req, res, body);
      if (req.method === 'POST' && req.url === '/_control') return onControl(res, body);
      if (req.method === 'GET' && req.url === '/_stats') {
        return json(res, 200, {
          ...stats, unique_events: deliveriesOfEvent.size, webhook_ids: webhookIds, latency_ms: percentiles(),
        });
      }
      if (req.method === 'GET' && req.url === '/_events') {
        return json(res, 200, { ids: [...deliveriesOfEvent.keys()], types: Object.fromEntries(typeOfEvent) });
      }
      json(res, 404, { error: 'no such path' });
    } catch (e) {
      json(res, 500, { error: String(e) });
    }
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  console.log('webhook receiver listening port=' + server.address().port);
});
process.on('SIGTERM', () => process.exit(0));
