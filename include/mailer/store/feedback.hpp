#pragma once
// What SES feedback and unsubscribes write (SPEC §6): the SNS de-duplication
// row, an event of the SES record's type (BOUNCE, COMPLAINT, DELIVERY, OPEN,
// CLICK, ..., OTHER) per affected address and UNSUBSCRIBE events, linked to
// message and batch, suppressions, and the per-batch hard-bounce count the reputation
// guard reads. Each call is ONE transaction, so a notification is either fully
// applied or not at all (and SNS redelivers it).
//
// Counts: besides the schema's batch_counts keys ('state:…', 'event:…'), the
// key 'feedback:bounce_permanent' counts a batch's Permanent bounces. It is
// maintained here, in the transaction that inserts the event, because
// 'event:BOUNCE' mixes hard and soft bounces and the guard needs hard ones.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/status.hpp"
#include "mailer/store/suppressions.hpp"

namespace mailer::store {

inline constexpr const char* k_count_bounce_permanent = "feedback:bounce_permanent";

/// What to do with one affected address (decided by the service from sns::classify).
enum class FeedbackEffect {
  record,              // event only
  suppress_bounce,     // suppress reason bounce, scope all
  suppress_complaint,  // suppress reason complaint, scope all
  soft_bounce,         // event; suppress reason soft_bounce, scope all, at the soft-bounce limit
  unsubscribe_bulk,    // event; then what FeedbackRepo::unsubscribe does (reason unsubscribe, scope bulk)
};

struct FeedbackRecipient {
  std::string email;        // suppression key (lowercase normalized address)
  std::string detail_json;  // the event's detail
  FeedbackEffect effect = FeedbackEffect::record;
  bool permanent_bounce = false;  // counts toward 'feedback:bounce_permanent'
};

/// One SNS Notification's effect.
struct FeedbackNotification {
  std::string sns_message_id;
  std::string topic_arn;
  std::string event_type;                        // one of store::event_types(), e.g. "BOUNCE", "OPEN"
  std::string ses_message_id;                    // matched against messages.ses_message_id
  std::optional<std::string> mailer_message_id;  // X-Mailer-Message-Id, tried when the SES id is unknown
  std::vector<FeedbackRecipient> recipients;
  int soft_bounce_limit = 3;
  std::int64_t soft_bounce_window_ms = 168LL * 3600 * 1000;
};

/// A suppression a notification wrote (new, widened or hardened).
struct SuppressionWritten {
  std::string email;  // suppression key
  SuppressionReason reason = SuppressionReason::bounce;
};

struct FeedbackResult {
  bool duplicate = false;                 // MessageId seen before: nothing was written
  std::optional<std::string> message_id;  // the matched message, if any
  std::optional<std::string> batch_id;
  std::vector<SuppressionWritten> suppressed;  // suppressions written now
};

/// A batch's figures for the reputation guard.
struct BatchReputation {
  std::string batch_id;
  BatchStatus status = BatchStatus::queued;  // as stored
  std::int64_t sent = 0;                     // batch_counts state:sent
  std::int64_t permanent_bounces = 0;        // feedback:bounce_permanent
  std::int64_t complaints = 0;               // event:COMPLAINT
};

/// Account-wide figures since a time (admin metrics: SES reviews accounts over
/// 5 % bounces and 0.1 % complaints).
struct AccountReputation {
  std::int64_t sent = 0;               // SENT events
  std::int64_t permanent_bounces = 0;  // BOUNCE events with detail bounce_type Permanent
  std::int64_t complaints = 0;         // COMPLAINT events
  double bounce_rate() const { return sent > 0 ? double(permanent_bounces) / double(sent) : 0.0; }
  double complaint_rate() const { return sent > 0 ? double(complaints) / double(sent) : 0.0; }
};

/// The message an unsubscribe token names.
struct UnsubscribeTarget {
  std::string message_id;
  std::optional<std::string> batch_id;
  std::string email;  // as stored (normalized)
};

struct UnsubscribeResult {
  bool already = false;  // an UNSUBSCRIBE event for this message existed: nothing written
};

class FeedbackRepo {
 public:
  FeedbackRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Records `n` once per sns_message_id (sns_messages, INSERT OR IGNORE): a
  /// duplicate returns {duplicate = true} and writes nothing. Otherwise finds
  /// the message by ses_message_id, else by mailer_message_id, and for each
  /// recipient inserts an event (message_id/batch_id NULL when unknown) and
  /// applies its effect. Suppressions never narrow or downgrade: an existing
  /// scope-`all` row other than soft_bounce is kept. unsubscribe_bulk also
  /// records the UNSUBSCRIBE event exactly as unsubscribe() does (once per
  /// message). Errors: storage_unavailable.
  Result<FeedbackResult> apply_notification(const FeedbackNotification& n);

  /// Records an SNS confirmation message id (idempotent); true when new.
  Result<bool> record_sns_message(const std::string& sns_message_id, const std::string& topic_arn,
                                  const std::string& type);

  /// The message `message_id`, for an unsubscribe. Errors: not_found.
  Result<UnsubscribeTarget> unsubscribe_target(const std::string& message_id);

  /// Suppresses `key` (reason unsubscribe, scope bulk; an existing row is kept)
  /// and records one UNSUBSCRIBE event for `target`; a second call finds the
  /// event and writes nothing. Errors: storage_unavailable.
  Result<UnsubscribeResult> unsubscribe(const UnsubscribeTarget& target, const std::string& key);

  /// Errors: not_found.
  Result<BatchReputation> batch_reputation(const std::string& batch_id);

  /// The figures of every batch the guard may still pause (scheduled, queued,
  /// sending), on batches_by_status and the batch_counts key: O(active
  /// batches), for /metrics. Errors: storage_unavailable.
  Result<std::vector<BatchReputation>> active_batch_reputations();

  /// Figures over events with occurred_at_ms >= `since_ms`.
  Result<AccountReputation> account_reputation(std::int64_t since_ms);

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
