#include "mailer/http/problem.hpp"

namespace mailer::http {

namespace {

const char* title_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input: return "Invalid input";
    case ErrorCode::unauthorized: return "Unauthorized";
    case ErrorCode::forbidden: return "Forbidden";
    case ErrorCode::not_found: return "Not found";
    case ErrorCode::conflict: return "Conflict";
    case ErrorCode::too_large: return "Payload too large";
    case ErrorCode::unsupported_media: return "Unsupported media type";
    case ErrorCode::rate_limited: return "Too many requests";
    case ErrorCode::upstream_throttled: return "Upstream throttled";
    case ErrorCode::upstream_transient: return "Upstream unavailable";
    case ErrorCode::upstream_permanent: return "Upstream rejected the request";
    case ErrorCode::storage_unavailable: return "Storage unavailable";
    case ErrorCode::internal: return "Internal error";
  }
  return "Internal error";
}

nlohmann::json make_body(const std::string& slug, const std::string& title, int status, const std::string& detail) {
  return {{"type", k_problem_type_base + slug}, {"title", title}, {"status", status}, {"detail", detail}};
}

}  // namespace

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid_input: return 400;
    case ErrorCode::unauthorized: return 401;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::not_found: return 404;
    case ErrorCode::conflict: return 409;
    case ErrorCode::too_large: return 413;
    case ErrorCode::unsupported_media: return 415;
    case ErrorCode::rate_limited: return 429;
    case ErrorCode::upstream_throttled: return 502;
    case ErrorCode::upstream_transient: return 502;
    case ErrorCode::upstream_permanent: return 502;
    case ErrorCode::storage_unavailable: return 503;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

Problem problem_for(const Error& error) {
  Problem problem;
  problem.status = status_for(error.code);
  // NOTE: an internal error is a bug; its text may name files or SQL, which the
  // API must never show (SPEC §3). The server logs it with the request id.
  std::string detail = error.code == ErrorCode::internal
                           ? "An internal error occurred; the server log has details under this "
                             "request's X-Request-Id."
                           : error.detail;
  problem.body = make_body(std::string(to_string(error.code)), title_for(error.code), problem.status, detail);
  if (!error.fields.empty()) {
    auto errors = nlohmann::json::array();
    for (const auto& f : error.fields) errors.push_back({{"field", f.field}, {"message", f.message}});
    if (auto note = error.fields.omitted_note()) errors.push_back({{"field", note->field}, {"message", note->message}});
    problem.body["errors"] = std::move(errors);
  }
  if (error.code == ErrorCode::unauthorized) {
    // RFC 6750 §3: a 401 names the scheme the client should use.
    problem.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"mailerd\"");
  }
  return problem;
}

Problem problem_for_status(int status, std::string detail) {
  const char* slug = "bad_request";
  const char* title = "Bad request";
  switch (status) {
    case 404:
      slug = "not_found";
      title = "Not found";
      break;
    case 405:
      slug = "method_not_allowed";
      title = "Method not allowed";
      break;
    case 408:
      slug = "request_timeout";
      title = "Request timeout";
      break;
    case 413:
      slug = "too_large";
      title = "Payload too large";
      break;
    case 414:
      slug = "uri_too_long";
      title = "URI too long";
      break;
    case 415:
      slug = "unsupported_media";
      title = "Unsupported media type";
      break;
    case 500:
      slug = "internal";
      title = "Internal error";
      break;
    case 503:
      slug = "unavailable";
      title = "Service unavailable";
      break;
    default: break;
  }
  Problem problem;
  problem.status = status;
  problem.body = make_body(slug, title, status, detail);
  return problem;
}

}  // namespace mailer::http
