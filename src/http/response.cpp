#include "mailer/http/response.hpp"

#include <httplib.h>

#include "mailer/core/json.hpp"
#include "mailer/core/log.hpp"
#include "mailer/http/context.hpp"

namespace mailer::http {

const std::string& Context::param(const std::string& name) const {
  static const std::string k_empty;
  auto it = params.find(name);
  return it == params.end() ? k_empty : it->second;
}

namespace {

// Responses carry text from the request (a path in a 404, a query value in a
// field error), which may be any bytes: dump_json's U+FFFD keeps nlohmann's
// type_error 316 from turning a 404 into a 500.
std::string serialize(const nlohmann::json& body) { return dump_json(body); }

}  // namespace

void write_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(serialize(body), "application/json");
}

void write_problem(httplib::Response& res, const Problem& problem) {
  res.status = problem.status;
  for (const auto& [name, value] : problem.headers) res.set_header(name, value);
  res.set_content(serialize(problem.body), k_problem_content_type);
}

void write_problem(httplib::Response& res, const Error& error) {
  if (error.code == ErrorCode::internal) {
    // The client sees a fixed text (problem_for); the operator needs the real one,
    // tied to the request id the client was given.
    log::error("internal error", {{"request_id", res.get_header_value("X-Request-Id")}, {"detail", error.detail}});
  }
  write_problem(res, problem_for(error));
}

Result<nlohmann::json> parse_json_object(const std::string& body) {
  // The server has bounded the body at server.max_body_bytes already.
  auto parsed = parse_json(body, "request body", {.max_bytes = k_size_checked_elsewhere});
  if (!parsed) return parsed;
  if (!parsed->is_object()) {
    return make_error(ErrorCode::invalid_input, "request body must be a JSON object");
  }
  return parsed;
}

}  // namespace mailer::http
