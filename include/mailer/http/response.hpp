#pragma once
// Small helpers every route handler uses to read JSON and write answers, so
// handlers stay recipes (STYLE §6).

#include <string>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/http/problem.hpp"

namespace httplib {
struct Response;
}

namespace mailer::http {

/// `status` with `body` as application/json. Strings in `body` that are not
/// valid UTF-8 (request text echoed back) are serialized with U+FFFD in place
/// of the bad bytes, never thrown about; write_problem does the same.
void write_json(httplib::Response& res, int status, const nlohmann::json& body);
/// problem_for(error) as application/problem+json, with its headers.
void write_problem(httplib::Response& res, const Error& error);
void write_problem(httplib::Response& res, const Problem& problem);

/// `body` parsed as a JSON object by parse_json (core/json.hpp), at most 64
/// levels deep. Errors: invalid_input ("request body is not valid JSON (at byte
/// N)", "request body must be a JSON object", or "request body nests deeper than
/// 64 levels at <path>" with a FieldError naming the field, e.g.
/// "recipients[0].variables").
Result<nlohmann::json> parse_json_object(const std::string& body);

}  // namespace mailer::http
