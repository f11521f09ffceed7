// GET /metrics: Prometheus text format 0.0.4. The process-wide counters and
// histograms (metrics::global()) plus gauges read at scrape time from the
// store's maintained counts and the engine's stats (here and in
// metrics_gauges.cpp), and the process_* figures, so a scrape costs a few
// index lookups however large the queue or event history is.
//
// metrics.public=false asks for a key of any scope (read is the lowest): the
// route itself is registered without one because the router's access level
// is fixed at registration, before the configuration is known.
#include <httplib.h>

#include "mailer/core/metrics.hpp"
#include "mailer/http/auth.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/jobs/engine.hpp"
#include "mailer/store/metrics_queries.hpp"
#include "mailer/store/webhooks.hpp"

#include "http/routes/metrics_gauges.hpp"

namespace mailer::http {

namespace {

// Scrape-time gauges go into a registry of their own, made per scrape, so two
// concurrent scrapes never see each other's half-set values.
Status add_store_gauges(metrics::Registry& scrape, store::Database& db, const Clock& clock) {
  auto figures = store::queue_figures(db);
  if (!figures) return figures.error();
  auto sent = store::sent_last_24h(db, to_ms(clock.now()));
  if (!sent) return sent.error();
  auto& depth =
      scrape.gauge("mailer_queue_depth", "Messages waiting or being sent, by state and kind.", {"state", "kind"});
  for (const auto& [kind, states] : figures->depth_by_kind) {
    for (const auto& [state, count] : states) depth.set({state, kind}, static_cast<double>(count));
  }
  scrape.gauge("mailer_dlq_messages", "Messages in the dead-letter queue (state failed).")
      .set(static_cast<double>(figures->dead_lettered));
  scrape.gauge("mailer_ses_quota_used_24h", "Messages sent in the rolling 24 hours SES counts against its quota.")
      .set(static_cast<double>(*sent));
  return {};
}

// Per webhook endpoint (at most service::k_max_webhook_endpoints series each).
Status add_webhook_gauges(metrics::Registry& scrape, store::Database& db, const Clock& clock) {
  auto figures = store::WebhookRepo(db).figures();
  if (!figures) return figures.error();
  const auto now_ms = to_ms(clock.now());
  auto& enabled =
      scrape.gauge("mailer_webhook_endpoint_enabled", "1 while a webhook endpoint is enabled.", {"endpoint"});
  auto& pending = scrape.gauge("mailer_webhook_pending_deliveries",
                               "Webhook deliveries waiting for their (next) attempt.", {"endpoint"});
  auto& waiting = scrape.gauge("mailer_webhook_events_waiting",
                               "Events recorded after the endpoint's cursor, not yet in a delivery (before "
                               "its filters).",
                               {"endpoint"});
  auto& oldest = scrape.gauge("mailer_webhook_oldest_pending_age_seconds",
                              "Age of the oldest undelivered work of an endpoint: its oldest pending delivery or "
                              "the first event after its cursor; 0 when none or while the endpoint is disabled.",
                              {"endpoint"});
  for (const auto& f : *figures) {
    enabled.set({f.endpoint_id}, f.enabled ? 1 : 0);
    pending.set({f.endpoint_id}, static_cast<double>(f.pending_deliveries));
    waiting.set({f.endpoint_id}, static_cast<double>(f.events_after_cursor));
    // A disabled endpoint is waited on by nobody: no age to alert on.
    const auto age_ms = f.enabled && f.oldest_pending_ms ? std::max<std::int64_t>(0, now_ms - *f.oldest_pending_ms) : 0;
    oldest.set({f.endpoint_id}, static_cast<double>(age_ms) / 1000.0);
  }
  return {};
}

void add_engine_gauges(metrics::Registry& scrape, const jobs::Engine* engine, const jobs::EngineStats& stats) {
  scrape.gauge("mailer_in_flight_sends", "Messages claimed by workers and not yet recorded.").set(stats.in_flight);
  scrape.gauge("mailer_send_rate_limit_per_second", "The current SES send rate limit, messages per second.")
      .set(stats.send_rate);
  scrape.gauge("mailer_workers", "Sending threads (worker.concurrency); 0 when the engine is not running.")
      .set(engine ? stats.workers : 0);
  scrape.gauge("mailer_engine_alive", "1 while the job engine runs and its reaper ticks.").set(stats.alive ? 1 : 0);
  scrape
      .gauge("mailer_ses_account_last_success_timestamp_seconds",
             "Unix time of the last SES GetAccount answer; 0 before any.")
      .set(stats.account_last_success_seconds);
  scrape.gauge("mailer_ses_account_consecutive_failures", "SES GetAccount calls failed in a row.")
      .set(stats.account_failures);
}

// The same hook /ready reports "degraded" from (health.cpp).
void add_readiness_gauges(metrics::Registry& scrape, const ReadinessHooks& readiness) {
  const bool degraded = readiness.ses_account && readiness.ses_account().has_value();
  scrape.gauge("mailer_ready_degraded", "1 while /ready answers \"degraded\": working, with reasons to look at.")
      .set(degraded ? 1 : 0);
}

void get_metrics(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  if (!context.deps.config.metrics.is_public) {
    auto key = authenticate(req.get_header_value("Authorization"), Access::read, **db, context.deps.clock);
    if (!key) return write_problem(res, key.error());
  }
  const auto& deps = context.deps;
  metrics::Registry scrape;
  for (auto added : {add_store_gauges(scrape, **db, deps.clock), add_queue_age_gauges(scrape, **db, deps.clock),
                     add_guard_gauges(scrape, **db, deps), add_event_counters(scrape, **db),
                     add_webhook_gauges(scrape, **db, deps.clock), add_free_page_gauge(scrape, **db)}) {
    if (!added) return write_problem(res, added.error());
  }
  auto stats = deps.engine ? deps.engine->stats() : jobs::EngineStats{};
  add_engine_gauges(scrape, deps.engine, stats);
  add_account_gauges(scrape, stats, deps);
  add_readiness_gauges(scrape, deps.readiness);
  add_database_gauges(scrape, deps.config.db.path);
  metrics::add_process_metrics(scrape);
  res.status = 200;
  res.set_content(metrics::global().render() + scrape.render(), metrics::k_content_type);
}

}  // namespace

void register_metrics_routes(Router& router) {
  router.add({"GET", "/metrics", Access::none, BodyKind::none, get_metrics});
}

}  // namespace mailer::http
