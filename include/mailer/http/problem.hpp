#pragma once
// RFC 9457 problem details: the one place where an ErrorCode becomes an HTTP
// status. Handlers return Error values; the server turns them into responses.

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"

namespace mailer::http {

inline constexpr const char* k_problem_content_type = "application/problem+json";
inline constexpr const char* k_problem_type_base = "https://mailerd.dev/problems/";

/// A response ready to send: status, JSON body and extra headers.
struct Problem {
  int status = 500;
  nlohmann::json body;  // {type, title, status, detail, errors?: [{field, message}]}
  std::vector<std::pair<std::string, std::string>> headers;  // e.g. WWW-Authenticate
};

/// HTTP status for `code`. invalid_input is 400, not 422: the API has one status
/// for every malformed request (bad JSON, bad field, bad query), which is what
/// clients of the seed service already handle. upstream_* are 502; the message
/// itself is queued, so these only appear on synchronous SES calls.
int status_for(ErrorCode code);

/// The problem document for `error`: type "https://mailerd.dev/problems/<code>",
/// a fixed title per code, `detail` from the error, `errors` when it has fields
/// (at most FieldErrors::k_max_kept, then {"field": "...", "message": "N more errors
/// not listed"} when the error omitted some).
/// `internal` errors hide their detail (it may name files or SQL); the caller logs it.
/// 401 carries `WWW-Authenticate: Bearer` (RFC 6750 §3).
Problem problem_for(const Error& error);

/// Problems that are about HTTP itself rather than an ErrorCode (405, 414, 400 for
/// an unparseable request): type ".../<slug>", title from the status.
Problem problem_for_status(int status, std::string detail);

}  // namespace mailer::http
