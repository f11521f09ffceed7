#include "mailer/render/message_options.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"

namespace mailer::render {
namespace {

// Lower-cased. Headers SES builds from SendEmail's own fields or its MIME
// structure, the trace and signature fields it adds, and mailerd's own.
constexpr std::string_view k_reserved[] = {"from",
                                           "to",
                                           "cc",
                                           "bcc",
                                           "sender",
                                           "reply-to",
                                           "subject",
                                           "date",
                                           "message-id",
                                           "return-path",
                                           "mime-version",
                                           "content-type",
                                           "content-transfer-encoding",
                                           "content-disposition",
                                           "content-id",
                                           "content-length",
                                           "dkim-signature",
                                           "domainkey-signature",
                                           "received",
                                           "list-unsubscribe",
                                           "list-unsubscribe-post",
                                           "x-mailer-message-id"};
constexpr std::string_view k_reserved_prefix = "x-ses-";

bool all_chars(std::string_view text, char low, char high, char except = '\0') {
  return std::all_of(text.begin(), text.end(), [&](char c) { return c >= low && c <= high && c != except; });
}

// The problem with one header, or empty.
std::string header_problem(const std::string& name, const nlohmann::json& value) {
  if (name.empty() || name.size() > k_max_header_name_length || !all_chars(name, '!', '~', ':'))
    return "name must be 1 to 126 printable ASCII characters, without ':' or spaces";
  if (is_reserved_header(name)) return "is set by mailerd or SES and cannot be given";
  if (!value.is_string()) return "value must be a string";
  const auto& given = value.get_ref<const std::string&>();
  if (given.empty() || given.size() > k_max_header_value_length || !all_chars(given, ' ', '~'))
    return "value must be 1 to 870 printable ASCII characters, without line breaks";
  return {};
}

Error invalid(std::string detail, FieldErrors errors) {
  return Error{ErrorCode::invalid_input, std::move(detail), std::move(errors)};
}

std::string metadata_problem(const std::string& key, const nlohmann::json& value) {
  if (auto problem = text::name_problem(key, k_max_metadata_key_length)) return "key " + *problem;
  if (!value.is_string()) return "value must be a string";
  // The JSON parser has checked the UTF-8 already.
  if (text::utf8_length(value.get_ref<const std::string&>()).value_or(0) > k_max_metadata_value_length)
    return "value must be at most 500 characters";
  return {};
}

Error stored_error(std::string_view what, std::string_view problem) {
  return make_error(ErrorCode::invalid_input, fmt::format("stored {}: {}", what, problem));
}

}  // namespace

bool is_reserved_header(std::string_view name) {
  const std::string lower = text::ascii_lower(name);
  if (lower.starts_with(k_reserved_prefix)) return true;
  return std::find(std::begin(k_reserved), std::end(k_reserved), lower) != std::end(k_reserved);
}

Result<std::vector<MessageHeader>> custom_headers(const nlohmann::json& headers) {
  std::vector<MessageHeader> out;
  if (headers.is_null()) return out;
  if (!headers.is_object())
    return invalid("headers are invalid", {{"headers", "must be an object of name: value strings"}});
  if (headers.size() > k_max_custom_headers) {
    return invalid(
        "headers are invalid",
        {{"headers", fmt::format("has {} headers; at most {} are allowed", headers.size(), k_max_custom_headers)}});
  }
  FieldErrors errors;
  std::set<std::string> seen;
  for (const auto& [name, value] : headers.items()) {
    auto problem = header_problem(name, value);
    // RFC 5322 section 1.2.2: header names are case-insensitive.
    if (problem.empty() && !seen.insert(text::ascii_lower(name)).second) problem = "is given twice (in another case)";
    if (problem.empty()) out.push_back({name, value.get<std::string>()});
    else errors.push_back({"headers." + text::shorten(name), std::move(problem)});
  }
  if (!errors.empty()) return invalid("headers are invalid", std::move(errors));
  return out;
}

Result<std::string> message_metadata(const nlohmann::json& metadata) {
  if (metadata.is_null()) return std::string("{}");
  if (!metadata.is_object())
    return invalid("metadata is invalid", {{"metadata", "must be an object of key: string value"}});
  if (metadata.size() > k_max_metadata_keys) {
    return invalid(
        "metadata is invalid",
        {{"metadata", fmt::format("has {} keys; at most {} are allowed", metadata.size(), k_max_metadata_keys)}});
  }
  FieldErrors errors;
  for (const auto& [key, value] : metadata.items()) {
    if (auto problem = metadata_problem(key, value); !problem.empty())
      errors.push_back({"metadata." + text::shorten(key), std::move(problem)});
  }
  if (!errors.empty()) return invalid("metadata is invalid", std::move(errors));
  std::string stored = dump_json(metadata);
  if (stored.size() > k_max_metadata_bytes) {
    return invalid("metadata is invalid", {{"metadata", fmt::format("is {} bytes of JSON; at most {} are allowed",
                                                                    stored.size(), k_max_metadata_bytes)}});
  }
  return stored;
}

std::string store_headers(const std::vector<MessageHeader>& headers) {
  auto object = nlohmann::json::object();
  for (const auto& header : headers) object[header.name] = header.value;
  return dump_json(object);
}

Result<std::vector<MessageHeader>> read_headers(std::string_view stored) {
  auto json = parse_json(stored, "headers", {.max_bytes = k_size_checked_elsewhere});
  if (!json) return stored_error("headers", json.error().detail);
  auto headers = custom_headers(*json);
  if (!headers && !headers.error().fields.empty()) {
    const auto& first = headers.error().fields[0];
    return stored_error(first.field, first.message);
  }
  return headers;
}

}  // namespace mailer::render
