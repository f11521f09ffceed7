#pragma once
// Field checks shared by the batch and message services (internal). Each
// check appends FieldErrors to `errors` instead of returning early, so a
// request is answered with every problem at once (SPEC §9).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/attachment.hpp"
#include "mailer/core/error.hpp"
#include "mailer/render/message_spec.hpp"
#include "mailer/render/template.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/destinations.hpp"

namespace mailer::service::detail {

using Errors = FieldErrors;

/// The suppression key of `email` (render::normalize_address, then
/// render::suppression_key): the one spelling the suppression list and the
/// erasure of an address look it up by. A hashed key an erasure left
/// ("sha256:" + 64 hex digits) is its own key, so it can be read, lifted,
/// exported and imported like any row. Else a field error named `field`.
std::optional<std::string> check_suppression_key(const std::string& email, const std::string& field, Errors& errors);

/// What a message renders with: a pinned template version or inline content.
struct ResolvedContent {
  std::optional<std::string> template_id;
  std::optional<int> template_version;
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  render::CompiledTemplate compiled;
};

/// `from` as a sendable mailbox (render::sendable_mailbox; field "from").
std::optional<render::GivenMailbox> check_from(const std::string& from, Errors& errors);
/// Each reply_to entry as a sendable mailbox (fields "reply_to[i]").
std::vector<render::GivenMailbox> check_reply_to(const std::vector<std::string>& reply_to, Errors& errors);
/// A JSON object, or null meaning {} (field `field`). Returns its dump.
std::string check_object(const nlohmann::json& value, const std::string& field, Errors& errors);
/// A variables value as stored ("{}" for null or when refused) and what is wrong
/// with it: "must be an object", "variables are nested deeper than 32 levels"
/// (render::k_max_variable_depth), "is N bytes of JSON; at most 1048576 are
/// allowed" (render::k_max_variables_bytes).
struct CheckedVariables {
  std::string json;
  std::optional<std::string> problem;
};
CheckedVariables checked_variables(const nlohmann::json& value);
/// checked_variables, its problem appended as field `field`.
std::string check_variables(const nlohmann::json& value, const std::string& field, Errors& errors);
/// Renders what a transactional message will send (`content` with `variables` and
/// the email built-in, as the sender does), so that a message SES must refuse is
/// refused now: its render errors become field "variables" (too large for SES, a
/// line break in or a too long subject), since the template alone always fits.
void check_renders(const ResolvedContent& content, const nlohmann::json& variables, const std::string& email,
                   Errors& errors);
/// SES message tags (render::message_tags; fields "tags" or "tags.<name>").
std::vector<render::MessageTag> check_tags(const nlohmann::json& tags, Errors& errors);
/// The files of a message or batch (render::message_attachments; fields
/// "attachments", "attachments[i].<member>"). Problems of form are appended
/// to `errors`; sizes over the limits are returned as the too_large Error
/// (413), which refuses the request before anything else is reported.
Result<std::vector<Attachment>> check_attachments(const nlohmann::json& attachments, Errors& errors);
/// Writes `spec` into the columns of `row` (a store::Batch or store::NewMessage)
/// through render::store_message_spec, the one serializer of a spec.
template <class Row>
void store_spec(const render::MessageSpec& spec, Row& row) {
  auto stored = render::store_message_spec(spec);
  row.from_address = std::move(stored.from_address);
  row.reply_to_json = std::move(stored.reply_to_json);
  row.tags_json = std::move(stored.tags_json);
}
/// The recipients of a message, normalized: `to` at least one; to, cc and bcc
/// at most store::k_max_destinations in all (the list that passes it is
/// named); no address twice (compared as suppression keys). Fields "to",
/// "cc", "bcc" for a list or an address given alone, "to[i]" in a longer list.
store::Destinations check_destinations(const std::vector<std::string>& to, const std::vector<std::string>& cc,
                                       const std::vector<std::string>& bcc, Errors& errors);
/// Custom headers (render::custom_headers) as stored; fields "headers", "headers.<name>".
std::string check_headers(const nlohmann::json& headers, Errors& errors);
/// Metadata (render::message_metadata) as stored; fields "metadata", "metadata.<key>".
std::string check_metadata(const nlohmann::json& metadata, Errors& errors);
/// SES configuration set name: 1..64 ASCII letters, digits, _ and -.
void check_configuration_set(const std::optional<std::string>& name, Errors& errors);
/// SES contact list and topic names, as SES's model has them: 1..64 ASCII letters,
/// digits, _ and -. Fields "list_management.contact_list_name", "list_management.topic_name".
void check_list_management(const std::optional<ListManagementInput>& list, Errors& errors);
/// Template (existing, version pinned: given or current) xor inline content, compiled
/// (inline errors become "content.<part>"; a stored template saved before a bound
/// that now refuses it, "template_id"). nullopt with `errors` appended when invalid;
/// an Error only for storage failures.
Result<std::optional<ResolvedContent>> resolve_content(store::Database& db, const Clock& clock,
                                                       const std::optional<std::string>& template_id,
                                                       const std::optional<int>& template_version,
                                                       const std::optional<ContentInput>& content, Errors& errors);

Error invalid(std::string detail, Errors errors);

}  // namespace mailer::service::detail
