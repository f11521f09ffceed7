// GET /v1/events (SPEC §3): events filtered by type, batch, message, email and
// time range, oldest first; polling with the last next_cursor yields new events.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/events.hpp"

namespace mailer::http {

namespace {

void list_events(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto query = json_io::parse_event_query(req.params);
  if (!query) return write_problem(res, query.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = service::EventService(**db).list(*query);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

}  // namespace

void register_event_routes(Router& router) {
  router.add({"GET", "/v1/events", Access::read, BodyKind::none, list_events});
}

}  // namespace mailer::http
