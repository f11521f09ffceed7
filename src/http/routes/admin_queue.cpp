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

namespace mailer::http {

namespace {

nlohmann::json engine_json(const jobs::Engine* engine) {
  if (engine == nullptr) return nullptr;
  auto stats = engine->stats();
  return {{"workers", stats.workers},
          {"alive", stats.alive},
          {"bulk_held", stats.bulk_held},
          {"in_flight", stats.in_flight},
          {"send_rate_per_second", stats.send_rate}};
}

void queue_status(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto depth = store::MessageRepo(**db, context.deps.clock).count_by_state();
  if (!depth) return write_problem(res, depth.error());
  auto engine = engine_json(context.deps.engine);
  nlohmann::json body{
      {"depth", *depth},
      {"in_flight", engine.is_null() ? nlohmann::json(nullptr) : engine["in_flight"]},
      {"send_rate_per_second", engine.is_null() ? nlohmann::json(nullptr) : engine["send_rate_per_second"]},
      {"engine", engine}};
  write_json(res, 200, body);
}

}  // namespace

void register_admin_queue_routes(Router& router) {
  router.add({"GET", "/v1/admin/queue", Access::admin, BodyKind::none, queue_status});
}

}  // namespace mailer::http
