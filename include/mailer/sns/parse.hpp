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
/// The record's type. Identity notifications only carry bounce, complaint and
/// delivery; event publishing adds the rest, spelt by SES "Send", "Reject",
/// "Open", "Click", "DeliveryDelay", "Rendering Failure" (with a space) and
/// "Subscription". A type mailerd does not know is `other` (type_name keeps it).
enum class SesEventKind {
  bounce,
  complaint,
  delivery,
  send,
  reject,
  open,
  click,
  delivery_delay,
  rendering_failure,
  subscription,
  other
};

/// One affected recipient. Fields other than `email` are empty when SES left them out.
struct SesRecipient {
  std::string email;            // as SES wrote it (not normalized)
  std::string action;           // bounce: "failed"
  std::string status;           // bounce: SMTP enhanced status, e.g. "5.1.1"
  std::string diagnostic_code;  // bounce: "smtp; 550 ..."
};

/// One topic of a Subscription event's preferences.
struct SesTopicPreference {
  std::string topic_name;
  std::string subscription_status;  // "OptIn" | "OptOut"
};

/// The kind-specific fields of an event-publishing record (empty when SES left
/// them out or the kind has none). Strings are as SES wrote them, unbounded
/// here (the SNS message is at most 256 KiB); whoever stores them bounds them.
struct SesEventFields {
  std::string reason;                                         // reject.reason
  std::string ip_address;                                     // open / click .ipAddress (the reader's address)
  std::string user_agent;                                     // open / click .userAgent
  std::string timestamp;                                      // open / click / deliveryDelay / subscription .timestamp
  std::string link;                                           // click.link
  std::map<std::string, std::vector<std::string>> link_tags;  // click.linkTags
  std::string delay_type;                                     // deliveryDelay.delayType, e.g. "MailboxFull"
  std::string expiration_time;                                // deliveryDelay.expirationTime
  std::string reporting_mta;                                  // deliveryDelay.reportingMTA
  std::string error_message;                                  // failure.errorMessage (Rendering Failure)
  std::string template_name;                                  // failure.templateName
  std::string contact_list;                                   // subscription.contactList
  std::string source;                                         // subscription.source, e.g. "UnsubscribeHeader"
  bool unsubscribe_all = false;                               // subscription.newTopicPreferences.unsubscribeAll
  std::vector<SesTopicPreference> topics;  // subscription.newTopicPreferences.topicSubscriptionStatus
};

struct SesNotification {
  Flavour flavour = Flavour::notification_type;
  std::string type_name;  // the value of notificationType / eventType, e.g. "Bounce"
  SesEventKind kind = SesEventKind::other;
  std::string ses_message_id;                            // mail.messageId: what SendEmail returned
  std::optional<std::string> mailer_message_id;          // mail.headers X-Mailer-Message-Id, if included
  std::map<std::string, std::vector<std::string>> tags;  // mail.tags (event publishing)
  std::string bounce_type;                               // "Permanent" | "Transient" | "Undetermined"
  std::string bounce_subtype;                            // "General", "Suppressed", "OnAccountSuppressionList", ...
  std::string complaint_feedback_type;                   // "abuse", "not-spam", ... or empty
  std::string complaint_subtype;                         // "OnAccountSuppressionList" or empty
  /// Who the record is about: bouncedRecipients / complainedRecipients /
  /// delivery.recipients / deliveryDelay.delayedRecipients; for every other
  /// kind (other included) mail.destination. Never empty after parsing.
  std::vector<SesRecipient> recipients;
  SesEventFields event;  // kinds other than bounce, complaint, delivery
};

/// `message` (an SNS Notification's Message) as a SES record. Unknown fields are
/// ignored, optional ones may be missing (or JSON null). Errors: invalid_input
/// naming the problem ("Message is not JSON", "Message has neither
/// notificationType nor eventType", "mail.messageId is missing",
/// "bounce.bouncedRecipients is missing", "mail.destination is missing",
/// "click.link must be a string", "subscription.newTopicPreferences.unsubscribeAll
/// must be a boolean", ...).
Result<SesNotification> parse_ses_notification(std::string_view message);

/// What feedback means for one recipient (the suppression rules of SPEC §6).
enum class FeedbackAction {
  suppress_bounce,     // Permanent bounce (any subtype, incl. Suppressed/OnAccountSuppressionList)
  suppress_complaint,  // complaint, except feedback type "not-spam"
  soft_bounce,         // Transient bounce: count; suppress at suppression.soft_bounce_limit
  unsubscribe_bulk,    // Subscription whose new preferences say unsubscribeAll
  record_only,         // Undetermined bounce, not-spam complaint, delivery, every other kind
};

FeedbackAction classify(const SesNotification& notification);

/// The event type stored for `kind`: "BOUNCE", "COMPLAINT", "DELIVERY", "SEND",
/// "REJECT", "OPEN", "CLICK", "DELIVERY_DELAY", "RENDERING_FAILURE",
/// "SUBSCRIPTION", and "OTHER" for `other`.
std::string_view event_type(SesEventKind kind);

}  // namespace mailer::sns
