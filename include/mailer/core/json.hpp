#pragma once
// The one way JSON from outside becomes an nlohmann::json: request bodies, SNS
// envelopes and their Message, SES and IMDS answers, JSON stored in the
// database and read back. Every other parse call is a bug.
//
// Why: nlohmann's parser is iterative, but copying, dump(), merge_patch() and
// our own converters (JSON -> mustache data) recurse once per nesting level,
// so a ~200 KB body of 100,000 '[' crashed the process on the first copy. The
// depth is checked while parsing (a SAX handler that stops at the first level
// too deep), so no value deeper than JsonLimits::max_depth is ever built and
// every later recursion is bounded by it.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"

namespace mailer {

/// Nesting levels a document may have: `{}` and `[]` are 1, `{"a":[1]}` is 2,
/// a scalar is 0. 64 leaves room for any request shape (a batch's recipient
/// variables sit at level 4) while keeping recursion over values shallow.
inline constexpr int k_max_json_depth = 64;

/// Bytes an upstream answer (SES, IMDS, SNS) may have. SES's and IMDS's
/// answers are a few hundred bytes; SNS caps a message at 256 KB.
inline constexpr std::size_t k_max_upstream_json_bytes = 1024 * 1024;

/// For text already bounded by its source: a request body (server.max_body_bytes)
/// or a value mailerd stored itself.
inline constexpr std::size_t k_size_checked_elsewhere = std::numeric_limits<std::size_t>::max();

struct JsonLimits {
  int max_depth = k_max_json_depth;                   // >= 1
  std::size_t max_bytes = k_max_upstream_json_bytes;  // of the text, before parsing
};

/// Parses `text` (RFC 8259, strict: one value, UTF-8, no comments) under `limits`.
/// `what` names the document in error details ("request body", "SES GetAccount
/// answer", "Message"). Never throws except std::bad_alloc; never recurses.
/// Errors:
///  - too_large: "<what> is larger than N bytes" (checked before parsing);
///  - invalid_input: "<what> is not valid JSON (at byte N)" (no input echoed:
///    an answer may carry a secret);
///  - invalid_input: "<what> nests deeper than 64 levels at <path>", with one
///    FieldError {field, "nests deeper than 64 levels"}. <path> is where the
///    limit was crossed, e.g. "recipients[0].variables.a.a" (shortened past 200
///    characters); `field` is its leading member, followed through array
///    elements to their members, e.g. "recipients[0].variables", "metadata",
///    "Subject" for "Subject[0][0]..." (`what` when the top level is too deep).
///    Parsing stops at that point, so a 100,000-level body costs microseconds.
///  - invalid_input: "<what> has the member 'name' twice at <path>" (RFC 8259
///    §4 leaves duplicates undefined; RFC 7493 §2.3 forbids them), with one
///    FieldError {field, "has the member 'name' twice"}; `field` as above.
/// Example: parse_json(R"({"a":[[1]]})", "body", {.max_depth = 2}) fails at
/// path "a[0]", field "a".
Result<nlohmann::json> parse_json(std::string_view text, std::string_view what, const JsonLimits& limits = {});

/// A JSON column mailerd wrote itself, read through the bounded parser so a
/// row stored before the depth limit existed cannot crash a listing. `{}`
/// when the text cannot be read: the API documents these fields as objects.
nlohmann::json stored_json_or_empty(std::string_view text);

// Typed members of a parsed object, for upstream answers read field by field:
// a missing member or a wrong type is an Error, never a json::type_error.
// Errors: invalid_input, detail "<name>: missing" or "<name>: must be a
// string|number|boolean", with FieldError {name, ...}; also "<name>: missing"
// when `object` is not an object.

Result<std::string> string_member(const nlohmann::json& object, std::string_view name);
Result<double> number_member(const nlohmann::json& object, std::string_view name);
Result<bool> bool_member(const nlohmann::json& object, std::string_view name);

/// A time mailerd writes out (ms since the epoch) as an RFC 3339 string with
/// milliseconds, or JSON null when absent, as every API answer and
/// `mailerctl --json` shows an optional time.
nlohmann::json json_time(std::optional<std::int64_t> ms);

/// `value` as JSON text for whoever reads mailerd's output: API answers,
/// `mailerctl --json`, log lines. Strings may hold any bytes from outside (a
/// path, a stored suppression detail, an address), so invalid UTF-8 becomes
/// U+FFFD instead of nlohmann's type_error 316. `indent` as nlohmann's dump:
/// -1 for one line, 2 for mailerctl's pretty print.
std::string dump_json(const nlohmann::json& value, int indent = -1);
std::string dump_json(const nlohmann::ordered_json& value, int indent = -1);

}  // namespace mailer
