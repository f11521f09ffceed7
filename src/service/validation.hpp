#pragma once
// Field checks shared by the batch and message services (internal). Each
// check appends FieldErrors to `errors` instead of returning early, so a
// request is answered with every problem at once (SPEC §9).

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/store/database.hpp"

namespace mailer::service::detail {

using Errors = std::vector<FieldError>;

/// What a message renders with: a pinned template version or inline content.
struct ResolvedContent {
  std::optional<std::string> template_id;
  std::optional<int> template_version;
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

/// `from` as given when it parses as a mailbox (field "from").
void check_from(const std::string& from, Errors& errors);
/// reply_to as a JSON array of normalized mailboxes as given (fields "reply_to[i]").
std::string check_reply_to(const std::vector<std::string>& reply_to, Errors& errors);
/// A JSON object, or null meaning {} (field `field`). Returns its dump.
std::string check_object(const nlohmann::json& value, const std::string& field, Errors& errors);
/// Template variables: as check_object, and nested at most
/// render::k_max_variable_depth levels, since rendering refuses deeper ones and
/// the message could only fail at send ("must not nest deeper than 32 levels").
std::string check_variables(const nlohmann::json& value, const std::string& field, Errors& errors);
/// SES message tags: an object of name -> string value, both 1..256 of
/// ASCII letters, digits, _ and - (fields "tags" or "tags.<name>").
/// Source: docs.aws.amazon.com/ses/latest/APIReference-V2/API_MessageTag.html
std::string check_tags(const nlohmann::json& tags, Errors& errors);
/// SES configuration set name: 1..64 ASCII letters, digits, _ and -.
void check_configuration_set(const std::optional<std::string>& name, Errors& errors);
/// Template (existing, version pinned: given or current) xor inline content
/// (compiled; its errors become "content.<part>"). nullopt with `errors`
/// appended when invalid; an Error only for storage failures.
Result<std::optional<ResolvedContent>> resolve_content(store::Database& db, const Clock& clock,
                                               const std::optional<std::string>& template_id,
                                               const std::optional<int>& template_version,
                                               const std::optional<ContentInput>& content, Errors& errors);

Error invalid(std::string detail, Errors errors);

}  // namespace mailer::service::detail
