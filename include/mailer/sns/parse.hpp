#pragma once
// SES feedback records carried in an SNS Notification's `Message` (SPEC §6,
// shared/reference/sns.md §6). Both flavours: identity notifications
// (`notificationType`) and configuration-set event publishing (`eventType`).
// Pure code: no I/O. The decision what to do per recipient is classify().
//
// Sources: https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html,
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::sns {

enum class Flavour { notification_type, event_type };
/// Bounce, Complaint, Delivery are acted on; anything else (Send, Open, ...) is `other`.
enum class SesEventKind { bounce, complaint, delivery, other };

/// One affected recipient. Fields other than `email` are empty when SES left them out.
struct SesRecipient {
  std::string email;            // as SES wrote it (not normalized)
  std::string action;           // bounce: "failed"
  std::string status;           // bounce: SMTP enhanced status, e.g. "5.1.1"
  std::string diagnostic_code;  // bounce: "smtp; 550 ..."
};

struct SesNotification {
  Flavour flavour = Flavour::notification_type;
  std::string type_name;  // the value of notificationType / eventType, e.g. "Bounce"
  SesEventKind kind = SesEventKind::other;
  std::string ses_message_id;                     // mail.messageId: what SendEmail returned
  std::optional<std::string> mailer_message_id;   // mail.headers X-Mailer-Message-Id, if included
  std::map<std::string, std::vector<std::string>> tags;  // mail.tags (event publishing)
  std::string bounce_type;                // "Permanent" | "Transient" | "Undetermined"
  std::string bounce_subtype;             // "General", "Suppressed", "OnAccountSuppressionList", ...
  std::string complaint_feedback_type;    // "abuse", "not-spam", ... or empty
  std::string complaint_subtype;          // "OnAccountSuppressionList" or empty
  std::vector<SesRecipient> recipients;   // bouncedRecipients / complainedRecipients / delivery.recipients
};

/// `message` (an SNS Notification's Message) as a SES record. Unknown fields are
/// ignored. Errors: invalid_input naming the problem ("Message is not JSON",
/// "Message has neither notificationType nor eventType", "mail.messageId is
/// missing", "bounce.bouncedRecipients is missing", ...).
Result<SesNotification> parse_ses_notification(std::string_view message);

/// What feedback means for one recipient (the suppression rules of SPEC §6).
enum class FeedbackAction {
  suppress_bounce,     // Permanent bounce (any subtype, incl. Suppressed/OnAccountSuppressionList)
  suppress_complaint,  // complaint, except feedback type "not-spam"
  soft_bounce,         // Transient bounce: count; suppress at suppression.soft_bounce_limit
  record_only,         // Undetermined bounce, not-spam complaint, delivery, other
};

FeedbackAction classify(const SesNotification& notification);

/// The event type stored for `kind`: "BOUNCE", "COMPLAINT", "DELIVERY"; empty for `other`.
std::string_view event_type(SesEventKind kind);

}  // namespace mailer::sns
