#include "mailer/render/message_spec.hpp"

#include <fmt/format.h>

#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"

namespace mailer::render {
namespace {

constexpr std::size_t k_max_tag_length = 256;
// RFC 5322 §2.1.1: a line holds at most 998 characters; "Reply-To: " is the longer
// of the two header names a mailbox goes into.
constexpr std::size_t k_max_mailbox_bytes = 998 - std::string_view("Reply-To: ").size();

Error stored_field_error(std::string_view field, std::string_view problem) {
  return make_error(ErrorCode::invalid_input, fmt::format("stored {}: {}", field, problem));
}

// A stored column is JSON written by store_message_spec; anything else is
// refused rather than read as empty.
Result<nlohmann::json> stored_json(const std::string& text, std::string_view field) {
  auto json = parse_json(text, field, {.max_bytes = k_size_checked_elsewhere});
  if (!json) return stored_field_error(field, json.error().detail);
  return json;
}

Result<std::vector<GivenMailbox>> read_reply_to(const std::string& text) {
  auto json = stored_json(text, "reply_to");
  if (!json) return std::move(json).error();
  if (!json->is_array()) return stored_field_error("reply_to", "must be an array of mailboxes");
  std::vector<GivenMailbox> out;
  for (std::size_t i = 0; i < json->size(); ++i) {
    const auto& item = (*json)[i];
    auto field = fmt::format("reply_to[{}]", i);
    if (!item.is_string()) return stored_field_error(field, "must be a string");
    auto mailbox = sendable_mailbox(item.get_ref<const std::string&>());
    if (!mailbox) return stored_field_error(field, mailbox.error().detail);
    out.push_back(std::move(*mailbox));
  }
  return out;
}

Result<std::vector<MessageTag>> read_tags(const std::string& text) {
  auto json = stored_json(text, "tags");
  if (!json) return std::move(json).error();
  auto tags = message_tags(*json);
  if (!tags && !tags.error().fields.empty()) {
    const auto& first = tags.error().fields[0];
    return stored_field_error(first.field, first.message);
  }
  return tags;
}

}  // namespace

bool is_ses_name(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<GivenMailbox> sendable_mailbox(std::string_view given) {
  auto mailbox = parse_mailbox(given);
  if (!mailbox) return std::move(mailbox).error();
  const auto header_bytes = format_mailbox_for_ses(*mailbox).size();
  if (header_bytes > k_max_mailbox_bytes) {
    return make_error(ErrorCode::invalid_input,
                      fmt::format("display name is too long: the mailbox takes {} bytes in its header; at most {} "
                                  "fit the 998-character header line (RFC 5322 section 2.1.1)",
                                  header_bytes, k_max_mailbox_bytes));
  }
  return GivenMailbox{std::string(given), std::move(*mailbox)};
}

Result<std::vector<MessageTag>> message_tags(const nlohmann::json& tags) {
  std::vector<MessageTag> out;
  if (tags.is_null()) return out;
  if (!tags.is_object()) {
    return Error{ErrorCode::invalid_input, "tags are invalid", {{"tags", "must be an object of name: value strings"}}};
  }
  FieldErrors errors;
  for (const auto& [name, value] : tags.items()) {
    // A name of any length or byte is echoed back cut short and quoted safely.
    std::string field = "tags." + text::shorten(name);
    if (!is_ses_name(name, k_max_tag_length))
      errors.push_back({field, "name must be 1 to 256 ASCII letters, digits, _ or -"});
    if (!value.is_string() || !is_ses_name(value.get_ref<const std::string&>(), k_max_tag_length))
      errors.push_back({field, "value must be a string of 1 to 256 ASCII letters, digits, _ or -"});
    else out.push_back({name, value.get<std::string>()});
  }
  if (!errors.empty()) return Error{ErrorCode::invalid_input, "tags are invalid", std::move(errors)};
  return out;
}

StoredMessageSpec store_message_spec(const MessageSpec& spec) {
  auto reply_to = nlohmann::json::array();
  for (const auto& mailbox : spec.reply_to) reply_to.push_back(mailbox.given);
  auto tags = nlohmann::json::object();
  for (const auto& tag : spec.tags) tags[tag.name] = tag.value;
  return {spec.from.given, reply_to.dump(), tags.dump()};
}

Result<MessageSpec> read_message_spec(const StoredMessageSpec& stored) {
  auto from = sendable_mailbox(stored.from_address);
  if (!from) return stored_field_error("from", from.error().detail);
  auto reply_to = read_reply_to(stored.reply_to_json);
  if (!reply_to) return std::move(reply_to).error();
  auto tags = read_tags(stored.tags_json);
  if (!tags) return std::move(tags).error();
  return MessageSpec{std::move(*from), std::move(*reply_to), std::move(*tags)};
}

}  // namespace mailer::render
