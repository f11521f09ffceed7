#pragma once
// Shared by parse.cpp and parse_events.cpp: typed reads of a SES record's
// members that name the field on a wrong type, and the recipient lists.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/error.hpp"
#include "mailer/sns/parse.hpp"

namespace mailer::sns::fields {

using nlohmann::json;

/// Recipients from `event[list_name]`: objects with emailAddress (action,
/// status, diagnosticCode kept), or plain strings. Errors: invalid_input
/// "<object_name>.<list_name> is missing" (absent, not an array or empty),
/// "... has an entry without an address".
Status read_recipients(const json& event, const char* object_name, const char* list_name,
                       std::vector<SesRecipient>& out);

/// The kind-specific object of an event-publishing record (open, click, ...)
/// into out.event, and out.recipients from mail.destination or, for
/// DeliveryDelay, deliveryDelay.delayedRecipients. Errors: invalid_input naming
/// the field.
Status read_publishing_event(const json& record, const json& mail, SesNotification& out);

}  // namespace mailer::sns::fields
