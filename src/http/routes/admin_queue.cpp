// GET /v1/admin/queue (SPEC §3 Admin): how much work waits, by state, and
// what the engine is doing now. The depth comes from counters the schema's
// triggers keep, so the call stays cheap on a queue of millions.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/jobs/engine.hpp"
#include "mailer/service/api_json.hpp"

namespace mailer::http {

namespace {

nlohmann::json engine_json(const jobs::EngineStats& stats) {
  return {{"workers", stats.workers},
          {"alive", stats.alive},
          {"bulk_held", stats.bulk_held},
          {"in_flight", stats.in_flight},
          {"send_rate_per_second", stats.send_rate},
          {"sending_on_hold", stats.sending_on_hold},
          {"hold_reason", stats.sending_on_hold ? nlohmann::json(stats.hold_reason) : nlohmann::json(nullptr)}};
}

// The engine's part of the answer; the SES quota limits stay null until
// GetAccount first answers (or without an engine).
void add_engine(service::QueueStatus& queue, const jobs::EngineStats& stats) {
  queue.in_flight = stats.in_flight;
  queue.send_rate_per_second = stats.send_rate;
  queue.max_24_hour_send = stats.account_max_24_hour_send;
  queue.max_send_rate = stats.account_max_send_rate;
  queue.engine = engine_json(stats);
}

void queue_status(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto queue = service::read_queue_status(**db, context.deps.clock);
  if (!queue) return write_problem(res, queue.error());
  if (context.deps.engine != nullptr) add_engine(*queue, context.deps.engine->stats());
  write_json(res, 200, service::to_json(*queue));
}

}  // namespace

void register_admin_queue_routes(Router& router) {
  router.add({"GET", "/v1/admin/queue", Access::admin, BodyKind::none, queue_status});
}

}  // namespace mailer::http
