#pragma once
// Acting on SES feedback and unsubscribes (SPEC §6): turns a verified SNS
// Notification's SES record into events and suppressions (store::FeedbackRepo,
// one transaction), then lets the reputation guard look at the batch; and
// turns a valid unsubscribe token into a bulk-only suppression.
//
// Rules (sns::classify): Permanent bounce -> suppress `bounce` (scope all, also
// for SES's Suppressed / OnAccountSuppressionList subtypes); complaint (not
// "not-spam") -> suppress `complaint`; Transient bounce -> event, and suppress
// `soft_bounce` once suppression.soft_bounce_limit of them fall within
// soft_bounce_window_hours; Undetermined bounce and delivery -> event only;
// Subscription whose new preferences say unsubscribeAll -> event, then what a
// one-click unsubscribe does; every other SES event type (Send, Reject, Open,
// Click, DeliveryDelay, Rendering Failure, Subscription, and OTHER for a type
// mailerd does not know) -> event only. Addresses compare on
// render::suppression_key.

#include <optional>
#include <string>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/sns/parse.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/feedback.hpp"

namespace mailer::service {

struct FeedbackOutcome {
  store::FeedbackResult stored;       // duplicate, matched message/batch, suppressions written
  std::optional<std::string> paused;  // the guard's reason when it paused the batch
};

struct UnsubscribeOutcome {
  std::string message_id;
  bool already = false;  // the message had been unsubscribed before
};

class FeedbackService {
 public:
  FeedbackService(store::Database& db, const Clock& clock, const Config& config)
      : m_db(db), m_clock(clock), m_config(config) {}

  /// Applies `record` from the SNS Notification `sns_message_id` on `topic_arn`:
  /// one event per recipient of the record, of type sns::event_type(kind). A
  /// MessageId seen before changes nothing (stored.duplicate). Errors:
  /// invalid_input when `record` names no recipient (nothing could be
  /// stored; parse_ses_notification never returns such a record);
  /// storage_unavailable (SNS will redeliver).
  Result<FeedbackOutcome> apply(const std::string& sns_message_id, const std::string& topic_arn,
                                const sns::SesNotification& record);

  /// Unsubscribes the message `token` names (unsubscribe.secret): its address
  /// gets suppression reason unsubscribe, scope bulk, and the message one
  /// UNSUBSCRIBE event; repeating it changes nothing. Errors: not_found for a
  /// forged, altered or unknown token; storage_unavailable.
  Result<UnsubscribeOutcome> unsubscribe(const std::string& token);

 private:
  store::Database& m_db;
  const Clock& m_clock;
  const Config& m_config;
};

/// Longest strings kept in an event's detail, in bytes (cut on a UTF-8
/// boundary): a click's link, a user agent, free text (diagnostic codes,
/// reasons, error messages), and names (tags, topics, timestamps, SES type).
inline constexpr std::size_t k_max_detail_link_bytes = 2048;
inline constexpr std::size_t k_max_detail_user_agent_bytes = 512;
inline constexpr std::size_t k_max_detail_text_bytes = 1024;
inline constexpr std::size_t k_max_detail_name_bytes = 64;
inline constexpr std::size_t k_max_detail_value_bytes = 256;
/// Link tags (and values per tag) and topics kept; the rest are dropped.
inline constexpr std::size_t k_max_detail_entries = 32;

/// The event detail for one recipient (empty values left out; every string
/// bounded as above), always with ses_message_id and sns_message_id:
///  - BOUNCE: bounce_type, bounce_subtype, diagnostic_code, status, action;
///  - COMPLAINT: feedback_type, complaint_subtype;
///  - REJECT: reason;
///  - OPEN: user_agent, timestamp; CLICK: link, link_tags {name: [values]},
///    user_agent, timestamp; both ip_address only when
///    `events.store_client_ip` (personal data);
///  - DELIVERY_DELAY: delay_type, expiration_time, status, diagnostic_code,
///    reporting_mta;
///  - RENDERING_FAILURE: error_message, template_name;
///  - SUBSCRIPTION: contact_list, source, unsubscribe_all (boolean), topics
///    [{topic, status}] (the new preferences);
///  - OTHER: ses_type, the SES type name (at most 64 bytes).
/// Field meanings: https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html.
std::string feedback_detail_json(const sns::SesNotification& record, const sns::SesRecipient& recipient,
                                 const std::string& sns_message_id, const EventsConfig& events);

}  // namespace mailer::service
