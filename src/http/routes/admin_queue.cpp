// GET /v1/admin/queue (SPEC §3 Admin): how much work waits, by state, and
// what the engine is doing now. The depth comes from counters the schema's
// triggers keep, so the call stays cheap on a queue of millions.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/jobs/engine.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/metrics_queries.hpp"

namespace mailer::http {

namespace {

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json engine_json(const jobs::EngineStats& stats) {
  return {{"workers", stats.workers},
          {"alive", stats.alive},
          {"bulk_held", stats.bulk_held},
          {"in_flight", stats.in_flight},
          {"send_rate_per_second", stats.send_rate},
          {"sending_on_hold", stats.sending_on_hold},
          {"hold_reason", stats.sending_on_hold ? nlohmann::json(stats.hold_reason) : nlohmann::json(nullptr)}};
}

// The SES daily quota beside what counts against it; the limits are null
// until GetAccount first answers (or without an engine).
nlohmann::json quota_json(std::int64_t sent_24h, const std::optional<jobs::EngineStats>& stats) {
  return {{"sent_24h", sent_24h},
          {"max_24_hour_send", optional_json(stats ? stats->account_max_24_hour_send : std::nullopt)},
          {"max_send_rate", optional_json(stats ? stats->account_max_send_rate : std::nullopt)}};
}

void queue_status(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto depth = store::MessageRepo(**db, context.deps.clock).count_by_state();
  if (!depth) return write_problem(res, depth.error());
  auto sent = store::sent_last_24h(**db, to_ms(context.deps.clock.now()));
  if (!sent) return write_problem(res, sent.error());
  std::optional<jobs::EngineStats> stats;
  if (context.deps.engine != nullptr) stats = context.deps.engine->stats();
  auto engine = stats ? engine_json(*stats) : nlohmann::json(nullptr);
  nlohmann::json body{
      {"depth", *depth},
      {"in_flight", engine.is_null() ? nlohmann::json(nullptr) : engine["in_flight"]},
      {"send_rate_per_second", engine.is_null() ? nlohmann::json(nullptr) : engine["send_rate_per_second"]},
      {"quota", quota_json(*sent, stats)},
      {"engine", engine}};
  write_json(res, 200, body);
}

}  // namespace

void register_admin_queue_routes(Router& router) {
  router.add({"GET", "/v1/admin/queue", Access::admin, BodyKind::none, queue_status});
}

}  // namespace mailer::http
