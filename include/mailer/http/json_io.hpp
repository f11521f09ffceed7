#pragma once
// JSON <-> typed service structs for the /v1 routes (STYLE §6: a handler
// parses, calls a service, writes). Parsing only maps JSON types onto fields
// and reports every wrong type or unknown field at once (invalid_input with
// errors[] such as {"recipients[3].email", "must be a string"}); the business
// rules (addresses, templates, limits) are checked by the services.
//
// Writing is service::to_json's (service/api_json.hpp), shared with mailerctl.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/render/template.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/common.hpp"
#include "mailer/service/dlq.hpp"
#include "mailer/service/events.hpp"
#include "mailer/service/messages.hpp"
#include "mailer/service/suppressions.hpp"
#include "mailer/service/templates.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/suppressions.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::http::json_io {

/// A request's query parameters (the same type as httplib::Params).
using QueryParams = std::multimap<std::string, std::string>;

/// The API's rule for repeated query parameters: a name given more than once
/// (`?all=true&all=false`) is refused, never read as one of its values. The
/// server checks it before any route runs, so routes read one value each.
/// Errors: invalid_input with one FieldError {name, "given more than once"}
/// per repeated name.
Status check_single_values(const QueryParams& params);

/// The value of `name`, or nullopt when absent. Only the first of repeated
/// values: check_single_values has refused such a query before a route runs.
std::optional<std::string> query_value(const QueryParams& params, const std::string& name);

/// `limit`, `cursor` and `offset` from the query. Errors: invalid_input with
/// field "limit" or "offset" when not a whole number; the ranges are checked
/// later by service::to_page_query.
Result<service::PageParams> parse_page_params(const QueryParams& params);

/// POST /v1/templates and PUT /v1/templates/{id}: {name, subject, html?, text?}.
/// `name` may be omitted on PUT (keeps the name). Errors: invalid_input.
Result<service::TemplateInput> parse_template_input(const std::string& body);

/// POST /v1/templates/{id}/render: {variables?: object, version?: integer};
/// an empty body means no variables.
struct RenderRequest {
  nlohmann::json variables = nlohmann::json::object();
  std::optional<int> version;
};
Result<RenderRequest> parse_render_request(const std::string& body);

/// POST /v1/batches (SPEC §3 "Batch request"). Built for 100k recipients: one
/// parse, recipients moved out of the document. Errors: too_large when the
/// recipients array has more than `max_recipients` entries (limits.max_recipients,
/// see service::check_recipient_count), checked before any entry is looked at;
/// invalid_input listing every wrong type, e.g. "recipients[7].email".
Result<service::BatchRequest> parse_batch_request(const std::string& body, int max_recipients);

/// POST /v1/messages: {from, to, cc, bcc (each a string or an array of
/// strings), template_id | content, template_version, variables, reply_to
/// (string or array), tags, configuration_set, headers, metadata}.
Result<service::MessageRequest> parse_message_request(const std::string& body);

/// POST /v1/messages/batch: {messages: [message...], atomic?: boolean}.
struct MessageBatchRequest {
  std::vector<Result<service::MessageRequest>> messages;  // each read as parse_message_request reads one
  service::Atomic atomic = service::Atomic::no;
};
/// Errors: too_large (field "messages") over service::k_max_batch_messages,
/// counted before any entry is read; invalid_input when `messages` is missing,
/// empty or not an array, or `atomic` is not a boolean. An entry of the wrong
/// types is kept as its Error, for the answer to report at its index.
Result<MessageBatchRequest> parse_message_batch(const std::string& body);

/// POST /v1/suppressions: {email, reason?, scope?, detail?: object}.
Result<service::SuppressionInput> parse_suppression_input(const std::string& body);

/// GET /v1/events query: type, batch_id, message_id, email, since, until + paging.
Result<service::EventQuery> parse_event_query(const QueryParams& params);

/// `older_than` of DELETE /v1/admin/dlq as a cut-off time in ms: an age
/// ("30d", "12h", "15m", "90s", "1h30m": see parse_age_ms in core/clock.hpp,
/// also read by `mailerctl dlq purge --older-than`) before `now_ms`, or an
/// RFC 3339 time, not after `now_ms` (a later cut-off would purge every
/// failed message without all=true). Errors: invalid_input with field
/// "older_than": missing, malformed, in the future, or an age over 36500d.
Result<std::int64_t> parse_older_than(const std::optional<std::string>& value, std::int64_t now_ms);

// ---- writing ----------------------------------------------------------

// The API's objects are written by the service layer (service/api_json.hpp
// and beside each service), which mailerctl --json shares.
using service::to_json;

/// {"data": [to_json(item)...], "next_cursor": cursor or null}.
template <typename T>
nlohmann::json page_json(const std::vector<T>& items, const std::string& next_cursor) {
  auto data = nlohmann::json::array();
  for (const auto& item : items) data.push_back(to_json(item));
  return service::page_json(std::move(data), next_cursor);
}

}  // namespace mailer::http::json_io
