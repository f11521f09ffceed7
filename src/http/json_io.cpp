#include "mailer/http/json_io.hpp"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <set>

#include <fmt/format.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/json_stream.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/response.hpp"

namespace mailer::http::json_io {

namespace {

using nlohmann::json;

// Reads typed fields out of one JSON object, collecting every problem so the
// client learns them all at once. Field names get `prefix` ("content.").
class Reader {
 public:
  Reader(const json& object, FieldErrors& errors, std::string prefix = {})
      : m_object(object), m_errors(errors), m_prefix(std::move(prefix)) {}

  /// Reports members not in `known` (a typo must not be silently ignored).
  void reject_unknown(std::initializer_list<const char*> known) {
    std::set<std::string> names(known.begin(), known.end());
    for (const auto& [name, value] : m_object.items()) {
      if (!names.contains(name)) fail(name, "unknown field");
    }
  }

  std::optional<std::string> string(const char* name, bool required = false) {
    const json* value = find(name);
    if (value == nullptr) {
      if (required) fail(name, "required");
      return std::nullopt;
    }
    if (!value->is_string()) return fail(name, "must be a string"), std::nullopt;
    return value->get<std::string>();
  }

  std::optional<int> integer(const char* name) {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_number_integer() || value->get<std::int64_t>() < 1 || value->get<std::int64_t>() > 1'000'000'000) {
      return fail(name, "must be a whole number from 1 to 1000000000"), std::nullopt;
    }
    return value->get<int>();
  }

  std::optional<bool> boolean(const char* name) {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_boolean()) return fail(name, "must be true or false"), std::nullopt;
    return value->get<bool>();
  }

  /// Any JSON value, or null when absent (the service checks objects' shapes).
  json any(const char* name) {
    const json* value = find(name);
    return value == nullptr ? json(nullptr) : *value;
  }

  /// A string or an array of strings (reply_to).
  std::vector<std::string> strings(const char* name) {
    std::vector<std::string> out;
    const json* value = find(name);
    if (value == nullptr) return out;
    if (value->is_string()) return {value->get<std::string>()};
    if (!value->is_array()) return fail(name, "must be a string or an array of strings"), out;
    for (std::size_t i = 0; i < value->size(); ++i) {
      if ((*value)[i].is_string()) {
        out.push_back((*value)[i].get<std::string>());
      } else {
        fail(std::string(name) + "[" + std::to_string(i) + "]", "must be a string");
      }
    }
    return out;
  }

  std::optional<service::ContentInput> content(const char* name) {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_object()) return fail(name, "must be an object"), std::nullopt;
    Reader inner(*value, m_errors, m_prefix + name + ".");
    inner.reject_unknown({"subject", "html", "text"});
    service::ContentInput out;
    out.subject = inner.string("subject").value_or("");
    out.html = inner.string("html");
    out.text = inner.string("text");
    return out;
  }

  /// {"contact_list_name": required, "topic_name": optional}.
  std::optional<service::ListManagementInput> list_management(const char* name) {
    const json* value = find(name);
    if (value == nullptr) return std::nullopt;
    if (!value->is_object()) return fail(name, "must be an object with contact_list_name"), std::nullopt;
    Reader inner(*value, m_errors, m_prefix + name + ".");
    inner.reject_unknown({"contact_list_name", "topic_name"});
    service::ListManagementInput out;
    out.contact_list_name = inner.string("contact_list_name", /*required=*/true).value_or("");
    out.topic_name = inner.string("topic_name");
    return out;
  }

  void fail(const std::string& name, std::string message) {
    if (m_errors.full()) return m_errors.push_back({});  // counted; its name need not be built
    m_errors.push_back({m_prefix + name, std::move(message)});
  }

  // NOTE: null counts as absent, so clients may send "html": null.
  const json* find(const char* name) const {
    auto it = m_object.find(name);
    if (it == m_object.end() || it->is_null()) return nullptr;
    return &*it;
  }

 private:
  const json& m_object;
  FieldErrors& m_errors;
  std::string m_prefix;
};

Error invalid(std::string detail, FieldErrors fields) {
  return Error{ErrorCode::invalid_input, std::move(detail), std::move(fields)};
}

std::optional<std::int64_t> parse_whole(const std::string& text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

// recipients[i]: its strings and variables are moved out of `item`.
void read_recipient(json& item, std::size_t i, std::vector<service::RecipientInput>& out, FieldErrors& errors) {
  service::RecipientInput recipient;
  // A bare string stands for {"email": "..."}: CSV-style lists stay small.
  if (item.is_string()) {
    recipient.email = std::move(item.get_ref<std::string&>());
  } else if (item.is_object()) {
    // NOTE: contains() and operator[] rather than find(): g++ 12 -O2 reports a
    // false "potential null pointer dereference" on the iterator here.
    if (item.contains("email") && item["email"].is_string()) {
      recipient.email = std::move(item["email"].get_ref<std::string&>());
    } else {
      errors.push_back({"recipients[" + std::to_string(i) + "].email", "required: a string"});
    }
    auto variables = item.find("variables");
    if (variables != item.end()) recipient.variables = std::move(*variables);
    // As RecipientInput's additionalProperties: false; a typo such as
    // "variable" would otherwise send every message without its variables.
    for (const auto& [name, value] : item.items()) {
      if (name != "email" && name != "variables")
        errors.push_back({"recipients[" + std::to_string(i) + "]." + name, "unknown field"});
    }
  } else {
    errors.push_back({"recipients[" + std::to_string(i) + "]", "must be an object or a string"});
  }
  out.push_back(std::move(recipient));
}

// One message of POST /v1/messages or of a batch call: types only.
Result<service::MessageRequest> read_message_request(const json& object) {
  FieldErrors errors;
  Reader reader(object, errors);
  reader.reject_unknown({"from", "to", "cc", "bcc", "template_id", "template_version", "content", "variables",
                         "reply_to", "tags", "configuration_set", "headers", "metadata", "attachments"});
  service::MessageRequest request;
  request.from = reader.string("from", true).value_or("");
  if (reader.find("to") == nullptr) reader.fail("to", "required");
  request.to = reader.strings("to");
  request.cc = reader.strings("cc");
  request.bcc = reader.strings("bcc");
  request.template_id = reader.string("template_id");
  request.template_version = reader.integer("template_version");
  request.content = reader.content("content");
  request.variables = reader.any("variables");
  request.reply_to = reader.strings("reply_to");
  request.tags = reader.any("tags");
  request.configuration_set = reader.string("configuration_set");
  request.headers = reader.any("headers");
  request.metadata = reader.any("metadata");
  request.attachments = reader.any("attachments");
  if (!errors.empty()) return invalid("message request is invalid", std::move(errors));
  return request;
}

}  // namespace

Status check_single_values(const QueryParams& params) {
  FieldErrors errors;
  for (auto it = params.begin(); it != params.end(); it = params.upper_bound(it->first)) {
    if (params.count(it->first) > 1) errors.push_back({it->first, "given more than once"});
  }
  if (errors.empty()) return {};
  auto detail = errors.size() == 1
                    ? "query parameter " + text::quote_outside(errors[0].field) + " is given more than once"
                    : std::string("query parameters are given more than once");
  return invalid(std::move(detail), std::move(errors));
}

std::optional<std::string> query_value(const QueryParams& params, const std::string& name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

Result<service::PageParams> parse_page_params(const QueryParams& params) {
  service::PageParams page;
  FieldErrors errors;
  if (auto limit = query_value(params, "limit")) {
    auto value = parse_whole(*limit);
    if (!value || *value < 1 || *value > service::k_max_page_limit) {
      errors.push_back({"limit", "must be between 1 and 1000"});
    } else {
      page.limit = static_cast<int>(*value);
    }
  }
  if (auto offset = query_value(params, "offset")) {
    auto value = parse_whole(*offset);
    if (!value || *value < 0) {
      errors.push_back({"offset", "must be a whole number, 0 or more"});
    } else {
      page.offset = *value;
    }
  }
  page.cursor = query_value(params, "cursor").value_or("");
  if (!errors.empty()) return invalid("invalid paging parameters", std::move(errors));
  return page;
}

Result<service::TemplateInput> parse_template_input(const std::string& body) {
  auto object = parse_json_object(body);
  if (!object) return std::move(object).error();
  FieldErrors errors;
  Reader reader(*object, errors);
  reader.reject_unknown({"name", "subject", "html", "text"});
  service::TemplateInput input;
  input.name = reader.string("name").value_or("");
  input.subject = reader.string("subject").value_or("");
  input.html = reader.string("html");
  input.text = reader.string("text");
  if (!errors.empty()) return invalid("template is invalid", std::move(errors));
  return input;
}

Result<RenderRequest> parse_render_request(const std::string& body) {
  RenderRequest request;
  if (body.empty()) return request;
  auto object = parse_json_object(body);
  if (!object) return std::move(object).error();
  FieldErrors errors;
  Reader reader(*object, errors);
  reader.reject_unknown({"variables", "version"});
  auto variables = reader.any("variables");
  if (!variables.is_null()) request.variables = std::move(variables);
  request.version = reader.integer("version");
  if (!errors.empty()) return invalid("render request is invalid", std::move(errors));
  return request;
}

// The recipients array is read element by element as the body is parsed
// (parse_json_streaming): each entry becomes a RecipientInput at once, so a
// 100,000-recipient body is never held as a whole document as well.
Result<service::BatchRequest> parse_batch_request(const std::string& body, int max_recipients) {
  std::vector<service::RecipientInput> streamed;
  FieldErrors recipient_errors;
  std::size_t count = 0;
  const std::size_t limit = static_cast<std::size_t>(std::max(max_recipients, 0));
  auto object = parse_json_streaming(body, "request body", {.max_bytes = k_size_checked_elsewhere}, "recipients",
                                     [&](std::size_t index, json&& item) {
                                       // Past the limit, entries are only counted: an oversized list
                                       // costs no more than its parse and is refused as too large.
                                       if (++count > limit) return;
                                       if (streamed.empty()) streamed.reserve(std::min<std::size_t>(limit, 1024));
                                       read_recipient(item, index, streamed, recipient_errors);
                                     });
  if (!object) return std::move(object).error();
  if (!object->is_object()) return make_error(ErrorCode::invalid_input, "request body must be a JSON object");
  // Counted before any other check, as when the list was read whole.
  if (auto fits = service::check_recipient_count(count, max_recipients); !fits) return std::move(fits).error();
  FieldErrors errors;
  Reader reader(*object, errors);
  reader.reject_unknown({"template_id", "template_version", "content", "from", "reply_to", "variables", "recipients",
                         "metadata", "tags", "configuration_set", "send_at", "send_before", "skip_invalid",
                         "attachments", "list_management"});
  service::BatchRequest request;
  request.template_id = reader.string("template_id");
  request.template_version = reader.integer("template_version");
  request.content = reader.content("content");
  request.from = reader.string("from", /*required=*/true).value_or("");
  request.reply_to = reader.strings("reply_to");
  request.variables = reader.any("variables");
  request.metadata = reader.any("metadata");
  request.tags = reader.any("tags");
  request.attachments = reader.any("attachments");
  request.configuration_set = reader.string("configuration_set");
  request.list_management = reader.list_management("list_management");
  request.send_at = reader.string("send_at");
  request.send_before = reader.string("send_before");
  request.skip_invalid = reader.boolean("skip_invalid").value_or(false);
  auto recipients = object->find("recipients");
  if (recipients == object->end() || !recipients->is_array()) {
    errors.push_back({"recipients", "required: an array of {email, variables}"});
  } else {
    request.recipients = std::move(streamed);
    errors.append(std::move(recipient_errors));
  }
  if (!errors.empty()) return invalid("batch request is invalid", std::move(errors));
  return request;
}

Result<service::MessageRequest> parse_message_request(const std::string& body) {
  auto object = parse_json_object(body);
  if (!object) return std::move(object).error();
  return read_message_request(*object);
}

Result<MessageBatchRequest> parse_message_batch(const std::string& body) {
  auto object = parse_json_object(body);
  if (!object) return std::move(object).error();
  FieldErrors errors;
  Reader reader(*object, errors);
  reader.reject_unknown({"messages", "atomic"});
  MessageBatchRequest request;
  request.atomic = reader.boolean("atomic").value_or(false) ? service::Atomic::yes : service::Atomic::no;
  auto messages = object->find("messages");
  if (messages == object->end() || !messages->is_array()) {
    errors.push_back({"messages", "required: an array of messages"});
  } else if (messages->size() > service::k_max_batch_messages) {
    // Counted before any entry is read, as a batch's recipients are.
    return Error{
        ErrorCode::too_large,
        fmt::format("{} messages; at most {} are allowed per call", messages->size(), service::k_max_batch_messages),
        {{"messages", fmt::format("at most {} messages per call", service::k_max_batch_messages)}}};
  } else if (messages->empty()) {
    errors.push_back({"messages", "must hold at least one message"});
  }
  if (!errors.empty()) return invalid("message batch is invalid", std::move(errors));
  request.messages.reserve(messages->size());
  for (const auto& entry : *messages) {
    if (entry.is_object()) request.messages.push_back(read_message_request(entry));
    else request.messages.emplace_back(invalid("message must be a JSON object", {}));
  }
  return request;
}

Result<service::SuppressionInput> parse_suppression_input(const std::string& body) {
  auto object = parse_json_object(body);
  if (!object) return std::move(object).error();
  FieldErrors errors;
  Reader reader(*object, errors);
  reader.reject_unknown({"email", "reason", "scope", "detail"});
  service::SuppressionInput input;
  input.email = reader.string("email", true).value_or("");
  input.reason = reader.string("reason");
  input.scope = reader.string("scope");
  auto detail = reader.any("detail");
  if (detail.is_object()) {
    input.detail_json = detail.dump();
  } else if (!detail.is_null()) {
    reader.fail("detail", "must be an object");
  }
  if (!errors.empty()) return invalid("suppression is invalid", std::move(errors));
  return input;
}

Result<service::EventQuery> parse_event_query(const QueryParams& params) {
  auto page = parse_page_params(params);
  if (!page) return std::move(page).error();
  service::EventQuery query;
  query.page = std::move(*page);
  query.type = query_value(params, "type");
  query.batch_id = query_value(params, "batch_id");
  query.message_id = query_value(params, "message_id");
  query.ses_message_id = query_value(params, "ses_message_id");
  query.email = query_value(params, "email");
  query.since = query_value(params, "since");
  query.until = query_value(params, "until");
  return query;
}

Result<std::int64_t> parse_older_than(const std::optional<std::string>& value, std::int64_t now_ms) {
  auto fail = [](std::string message) { return invalid("invalid older_than", {{"older_than", std::move(message)}}); };
  const std::string expected = std::string("an age such as ") + k_age_examples + ", or an RFC 3339 time";
  if (!value || value->empty()) return fail("required: " + expected);
  std::int64_t at_ms = 0;
  if (!parse_rfc3339(*value, at_ms)) {
    auto age_ms = read_age_ms(*value);
    if (!age_ms && age_ms.error().code == ErrorCode::too_large) return fail(age_ms.error().detail);
    if (!age_ms) return fail("must be " + expected);
    at_ms = now_ms - *age_ms;
  }
  // A cut-off after now takes every failed message: what all=true is for.
  if (at_ms > now_ms) return fail("must not be in the future; give all=true to purge every failed message");
  return at_ms;
}

}  // namespace mailer::http::json_io
