// The suppression list (SPEC §3, §6). Addresses in the path may be in any
// spelling; SuppressionService normalizes them. Removing one is admin-only:
// it lets mail go again to an address that bounced or complained.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/suppressions.hpp"

namespace mailer::http {

namespace {

void list_suppressions(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed =
      service::SuppressionService(**db, context.deps.clock).list(*page, json_io::query_value(req.params, "reason"));
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

void get_suppression(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto found = service::SuppressionService(**db, context.deps.clock).get(context.param("email"));
  if (!found) return write_problem(res, found.error());
  write_json(res, 200, json_io::to_json(*found));
}

void add_suppression(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_suppression_input(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto added = service::SuppressionService(**db, context.deps.clock).add(*input);
  if (!added) return write_problem(res, added.error());
  res.set_header("Location", "/v1/suppressions/" + added->email);
  write_json(res, 201, json_io::to_json(*added));
}

void remove_suppression(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto removed = service::SuppressionService(**db, context.deps.clock).remove(context.param("email"));
  if (!removed) return write_problem(res, removed.error());
  res.status = 204;
}

}  // namespace

void register_suppression_routes(Router& router) {
  router.add({"GET", "/v1/suppressions", Access::read, BodyKind::none, list_suppressions});
  router.add({"POST", "/v1/suppressions", Access::send, BodyKind::json, add_suppression, Idempotency::keyed});
  router.add({"GET", "/v1/suppressions/{email}", Access::read, BodyKind::none, get_suppression});
  router.add({"DELETE", "/v1/suppressions/{email}", Access::admin, BodyKind::none, remove_suppression});
}

}  // namespace mailer::http
