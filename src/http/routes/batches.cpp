// Batches (SPEC §3): accept a bulk send durably, then read it, page its
// recipients and events, and pause, resume or cancel it. Validation,
// de-duplication and the state rules live in BatchService.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/events.hpp"

namespace mailer::http {

namespace {

service::AcceptOptions accept_options(const Context& context) {
  const auto& config = context.deps.config;
  return {config.limits.max_recipients, !config.unsubscribe.secret.empty(),
          context.key ? std::optional<std::string>(context.key->id) : std::nullopt};
}

service::BatchService batches(store::Database& db, const Context& context) {
  return service::BatchService(db, context.deps.clock, context.deps.on_enqueued);
}

void create_batch(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_batch_request(req.body, context.deps.config.limits.max_recipients);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto accepted = batches(**db, context).accept_batch(std::move(*input), accept_options(context));
  if (!accepted) return write_problem(res, accepted.error());
  res.set_header("Location", "/v1/batches/" + accepted->id);
  write_json(res, 202, json_io::to_json(*accepted));
}

void list_batches(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = batches(**db, context).list(*page, json_io::query_value(req.params, "status"));
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

void get_batch(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto batch = batches(**db, context).get(context.param("id"));
  if (!batch) return write_problem(res, batch.error());
  write_json(res, 200, json_io::to_json(*batch));
}

void batch_recipients(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed =
      batches(**db, context).recipients(context.param("id"), *page, json_io::query_value(req.params, "state"));
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

void batch_events(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto query = json_io::parse_event_query(req.params);
  if (!query) return write_problem(res, query.error());
  query->batch_id = context.param("id");
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  if (auto batch = batches(**db, context).get(context.param("id")); !batch) return write_problem(res, batch.error());
  auto listed = service::EventService(**db).list(*query);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

using BatchAction = Result<store::Batch> (service::BatchService::*)(const std::string&);

Handler batch_action(BatchAction action) {
  return [action](const httplib::Request&, httplib::Response& res, Context& context) {
    auto db = context.deps.db.acquire();
    if (!db) return write_problem(res, db.error());
    auto service = batches(**db, context);
    auto batch = (service.*action)(context.param("id"));
    if (!batch) return write_problem(res, batch.error());
    write_json(res, 200, json_io::to_json(*batch));
  };
}

void pause_batch(const httplib::Request& req, httplib::Response& res, Context& context) {
  std::string reason;
  if (!req.body.empty()) {
    auto body = parse_json_object(req.body);
    if (!body) return write_problem(res, body.error());
    FieldErrors errors;
    for (const auto& [name, value] : body->items())
      if (name != "reason") errors.push_back({name, "unknown field"});
    auto given = body->value("reason", nlohmann::json());
    if (!given.is_null() && !given.is_string()) errors.push_back({"reason", "must be a string"});
    if (!errors.empty())
      return write_problem(res, Error{ErrorCode::invalid_input, "invalid pause request", std::move(errors)});
    if (given.is_string()) reason = given.get<std::string>();
  }
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto batch = batches(**db, context).pause(context.param("id"), reason);
  if (!batch) return write_problem(res, batch.error());
  write_json(res, 200, json_io::to_json(*batch));
}

}  // namespace

void register_batch_routes(Router& router) {
  router.add({"POST", "/v1/batches", Access::send, BodyKind::json, create_batch, Idempotency::keyed});
  router.add({"GET", "/v1/batches", Access::read, BodyKind::none, list_batches});
  router.add({"GET", "/v1/batches/{id}", Access::read, BodyKind::none, get_batch});
  router.add({"GET", "/v1/batches/{id}/recipients", Access::read, BodyKind::none, batch_recipients});
  router.add({"GET", "/v1/batches/{id}/events", Access::read, BodyKind::none, batch_events});
  router.add({"POST", "/v1/batches/{id}/pause", Access::send, BodyKind::json, pause_batch});
  router.add(
      {"POST", "/v1/batches/{id}/resume", Access::send, BodyKind::none, batch_action(&service::BatchService::resume)});
  router.add(
      {"POST", "/v1/batches/{id}/cancel", Access::send, BodyKind::none, batch_action(&service::BatchService::cancel)});
}

}  // namespace mailer::http
