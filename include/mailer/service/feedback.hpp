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
// soft_bounce_window_hours; Undetermined bounce and delivery -> event only.
// Addresses compare on render::suppression_key.

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

  /// Applies `record` from the SNS Notification `sns_message_id` on `topic_arn`.
  /// A MessageId seen before changes nothing (stored.duplicate). Records of
  /// other kinds (Send, Open, ...) are only marked as seen. Errors:
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

/// The event detail for one recipient: {bounce_type, bounce_subtype,
/// diagnostic_code, feedback_type, ses_message_id, sns_message_id} (empty
/// values left out; status and action of a bounce too).
std::string feedback_detail_json(const sns::SesNotification& record, const sns::SesRecipient& recipient,
                                 const std::string& sns_message_id);

}  // namespace mailer::service
