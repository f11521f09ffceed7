// Transactional messages (SPEC §3): up to 50 recipients each, queued ahead of
// bulk work; one at a time or up to 500 per call.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/problem.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/messages.hpp"
#include "mailer/store/status.hpp"

namespace mailer::http {

namespace {

void create_message(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_message_request(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto accepted = service::MessageService(**db, context.deps.clock, context.deps.on_enqueued).enqueue_message(*input);
  if (!accepted) return write_problem(res, accepted.error());
  res.set_header("Location", "/v1/messages/" + accepted->id);
  write_json(res, 202, {{"id", accepted->id}, {"status", store::to_string(accepted->status)}});
}

// One entry of the batch answer: accepted with its id and status, or
// rejected with the problem POST /v1/messages would have answered.
nlohmann::json batch_result(std::size_t index, const Result<service::MessageAccepted>& result) {
  if (!result) return {{"index", index}, {"status", "rejected"}, {"error", problem_for(result.error()).body}};
  return {{"index", index},
          {"status", "accepted"},
          {"id", result->id},
          {"message_status", store::to_string(result->status)}};
}

void create_message_batch(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_message_batch(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto results = service::MessageService(**db, context.deps.clock, context.deps.on_enqueued)
                     .enqueue_messages(input->messages, input->atomic);
  if (!results) return write_problem(res, results.error());
  auto data = nlohmann::json::array();
  for (std::size_t i = 0; i < results->size(); ++i) data.push_back(batch_result(i, (*results)[i]));
  write_json(res, 200, {{"data", std::move(data)}});
}

void get_message(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto message = service::MessageService(**db, context.deps.clock).get_message(context.param("id"));
  if (!message) return write_problem(res, message.error());
  write_json(res, 200, json_io::to_json(*message));
}

}  // namespace

void register_message_routes(Router& router) {
  router.add({"POST", "/v1/messages", Access::send, BodyKind::json, create_message, Idempotency::keyed});
  router.add({"POST", "/v1/messages/batch", Access::send, BodyKind::json, create_message_batch, Idempotency::keyed});
  router.add({"GET", "/v1/messages/{id}", Access::read, BodyKind::none, get_message});
}

}  // namespace mailer::http
