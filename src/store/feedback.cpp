#include "mailer/store/feedback.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/store/events.hpp"
#include "store/batch_status_writer.hpp"
#include "store/sql_util.hpp"
#include "store/suppression_rules.hpp"

namespace mailer::store {
namespace {

struct MessageRef {
  std::string id;
  std::optional<std::string> batch_id;
  std::string email;
};

std::optional<MessageRef> find_message(SQLite::Database& db, const char* column, const std::string& value) {
  SQLite::Statement query(db, fmt::format("SELECT id, batch_id, email FROM messages WHERE {} = ? LIMIT 1", column));
  query.bind(1, value);
  if (!query.executeStep()) return std::nullopt;
  return MessageRef{query.getColumn(0).getString(), sql::optional_text(query.getColumn(1)),
                    query.getColumn(2).getString()};
}

std::optional<MessageRef> match_message(SQLite::Database& db, const FeedbackNotification& n) {
  if (!n.ses_message_id.empty()) {
    if (auto found = find_message(db, "ses_message_id", n.ses_message_id)) return found;
  }
  // The SES id may not be stored yet (the send is recorded after SES answers),
  // so our own header names the message too.
  if (n.mailer_message_id && !n.mailer_message_id->empty()) {
    return find_message(db, "id", *n.mailer_message_id);
  }
  return std::nullopt;
}

Status insert_event(Database& db, const std::string& type, const std::optional<MessageRef>& message,
                    const std::string& email, const std::string& detail_json, std::int64_t now_ms) {
  auto inserted = EventRepo(db).insert(Event{0, type, message ? message->batch_id : std::nullopt,
                                             message ? std::optional<std::string>(message->id) : std::nullopt, email,
                                             detail_json, now_ms});
  if (!inserted) return inserted.error();
  return {};
}

void bump_count(SQLite::Database& db, const std::string& batch_id, const char* key) {
  SQLite::Statement bump(db,
                         "INSERT INTO batch_counts(batch_id, key, n) VALUES (?, ?, 1) "
                         "ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1");
  bump.bind(1, batch_id);
  bump.bind(2, key);
  bump.exec();
}

// Adds a scope-`all` suppression as feedback (merged() decides whether it
// overrides a stored one). Returns true when a row was written.
bool suppress_all(Database& db, const std::string& email, SuppressionReason reason, const std::string& detail_json,
                  std::int64_t now_ms) {
  Suppression s{email, reason, SuppressionScope::all, detail_json};
  return suppression::merge(db.statements(), s, SuppressionSource::feedback, now_ms).has_value();
}

// Transient bounces of `email` in the window (the one just inserted included),
// read through events_by_email.
std::int64_t soft_bounces(SQLite::Database& db, const std::string& email, std::int64_t since_ms) {
  SQLite::Statement count(db,
                          "SELECT count(*) FROM events WHERE email = ? AND occurred_at_ms >= ? "
                          "AND type = 'BOUNCE' AND json_extract(detail_json, '$.bounce_type') = 'Transient'");
  count.bind(1, email);
  count.bind(2, static_cast<std::int64_t>(since_ms));
  count.executeStep();
  return count.getColumn(0).getInt64();
}

bool insert_sns_message(SQLite::Database& db, const std::string& id, const std::string& topic, const std::string& type,
                        std::int64_t now_ms) {
  SQLite::Statement insert(db,
                           "INSERT OR IGNORE INTO sns_messages(message_id, topic_arn, type, received_at_ms) "
                           "VALUES (?, ?, ?, ?)");
  insert.bind(1, id);
  insert.bind(2, topic);
  insert.bind(3, type);
  insert.bind(4, static_cast<std::int64_t>(now_ms));
  return insert.exec() > 0;
}

// What an unsubscribe writes, whether from a one-click link or from a SES
// Subscription event: the address suppressed for bulk mail (an existing row is
// kept) and one UNSUBSCRIBE event on the message. A message unsubscribed
// before changes nothing; the value is true then. Without a known message the
// suppression and the event are still written.
Result<bool> record_unsubscribe(Database& db, const std::optional<MessageRef>& message, const std::string& key,
                                const std::string& detail_json, std::int64_t now_ms,
                                std::vector<SuppressionWritten>* written = nullptr) {
  if (message) {
    SQLite::Statement seen(db.sql(), "SELECT 1 FROM events WHERE message_id = ? AND type = 'UNSUBSCRIBE' LIMIT 1");
    seen.bind(1, message->id);
    if (seen.executeStep()) return true;
  }
  Suppression unsubscribed{key, SuppressionReason::unsubscribe, SuppressionScope::bulk, detail_json};
  if (suppression::merge(db.statements(), unsubscribed, SuppressionSource::feedback, now_ms) && written)
    written->push_back({key, SuppressionReason::unsubscribe});
  if (auto event = insert_event(db, "UNSUBSCRIBE", message, key, detail_json, now_ms); !event) return event.error();
  return false;
}

// The suppression reason an effect writes, or nullopt for an event only.
std::optional<SuppressionReason> reason_of(FeedbackEffect effect) {
  switch (effect) {
    case FeedbackEffect::record:
    case FeedbackEffect::unsubscribe_bulk: return std::nullopt;
    case FeedbackEffect::suppress_bounce: return SuppressionReason::bounce;
    case FeedbackEffect::suppress_complaint: return SuppressionReason::complaint;
    case FeedbackEffect::soft_bounce: return SuppressionReason::soft_bounce;
  }
  return std::nullopt;
}

// Applies one recipient's effect; returns the suppression written, if any.
std::optional<SuppressionWritten> apply_effect(Database& db, const FeedbackNotification& n, const FeedbackRecipient& r,
                                               std::int64_t now_ms) {
  auto reason = reason_of(r.effect);
  if (!reason) return std::nullopt;
  if (r.effect == FeedbackEffect::soft_bounce &&
      soft_bounces(db.sql(), r.email, now_ms - n.soft_bounce_window_ms) < n.soft_bounce_limit)
    return std::nullopt;
  if (!suppress_all(db, r.email, *reason, r.detail_json, now_ms)) return std::nullopt;
  return SuppressionWritten{r.email, *reason};
}

}  // namespace

Result<FeedbackResult> FeedbackRepo::apply_notification(const FeedbackNotification& n) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "record SES feedback", [&]() -> Result<FeedbackResult> {
    auto& db = m_db.sql();
    FeedbackResult result;
    if (!insert_sns_message(db, n.sns_message_id, n.topic_arn, "Notification", now_ms)) {
      result.duplicate = true;
      return result;
    }
    auto message = match_message(db, n);
    if (message) {
      result.message_id = message->id;
      result.batch_id = message->batch_id;
    }
    for (const auto& r : n.recipients) {
      if (auto event = insert_event(m_db, n.event_type, message, r.email, r.detail_json, now_ms); !event)
        return event.error();
      if (r.permanent_bounce && message && message->batch_id) {
        bump_count(db, *message->batch_id, k_count_bounce_permanent);
      }
      if (auto written = apply_effect(m_db, n, r, now_ms)) result.suppressed.push_back(*written);
      if (r.effect == FeedbackEffect::unsubscribe_bulk) {
        auto done = record_unsubscribe(m_db, message, r.email, r.detail_json, now_ms, &result.suppressed);
        if (!done) return done.error();
      }
    }
    return result;
  });
}

Result<bool> FeedbackRepo::record_sns_message(const std::string& sns_message_id, const std::string& topic_arn,
                                              const std::string& type) {
  return sql::guard("record SNS message", [&]() -> Result<bool> {
    return insert_sns_message(m_db.sql(), sns_message_id, topic_arn, type, to_ms(m_clock.now()));
  });
}

Result<UnsubscribeTarget> FeedbackRepo::unsubscribe_target(const std::string& message_id) {
  return sql::guard("find message", [&]() -> Result<UnsubscribeTarget> {
    auto found = find_message(m_db.sql(), "id", message_id);
    if (!found) return make_error(ErrorCode::not_found, "no such message");
    return UnsubscribeTarget{found->id, found->batch_id, found->email};
  });
}

Result<UnsubscribeResult> FeedbackRepo::unsubscribe(const UnsubscribeTarget& target, const std::string& key) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "unsubscribe", [&]() -> Result<UnsubscribeResult> {
    auto detail = nlohmann::json{{"message_id", target.message_id}}.dump();
    auto already =
        record_unsubscribe(m_db, MessageRef{target.message_id, target.batch_id, target.email}, key, detail, now_ms);
    if (!already) return already.error();
    return UnsubscribeResult{*already};
  });
}

namespace {

// Fills `out`'s counts from batch_counts (primary key lookups).
void read_reputation_counts(SQLite::Database& db, BatchReputation& out) {
  SQLite::Statement counts(db,
                           "SELECT key, n FROM batch_counts WHERE batch_id = ? AND key IN "
                           "('state:sent', 'event:COMPLAINT', ?)");
  counts.bind(1, out.batch_id);
  counts.bind(2, k_count_bounce_permanent);
  while (counts.executeStep()) {
    auto key = counts.getColumn(0).getString();
    auto n = counts.getColumn(1).getInt64();
    if (key == "state:sent") out.sent = n;
    else if (key == "event:COMPLAINT") out.complaints = n;
    else out.permanent_bounces = n;
  }
}

}  // namespace

Result<BatchReputation> FeedbackRepo::batch_reputation(const std::string& batch_id) {
  return sql::guard("read batch reputation", [&]() -> Result<BatchReputation> {
    auto& db = m_db.sql();
    SQLite::Statement batch(db, "SELECT status FROM batches WHERE id = ?");
    batch.bind(1, batch_id);
    if (!batch.executeStep()) return make_error(ErrorCode::not_found, fmt::format("batch {} not found", batch_id));
    BatchReputation out{batch_id, batch_rows::stored_status(batch.getColumn(0).getString())};
    read_reputation_counts(db, out);
    return out;
  });
}

Result<std::vector<BatchReputation>> FeedbackRepo::active_batch_reputations() {
  return sql::guard("read active batch reputations", [&]() -> Result<std::vector<BatchReputation>> {
    auto& db = m_db.sql();
    std::vector<BatchReputation> out;
    SQLite::Statement batches(db, "SELECT id, status FROM batches WHERE status IN ('scheduled', 'queued', 'sending')");
    while (batches.executeStep()) {
      out.push_back({batches.getColumn(0).getString(), batch_rows::stored_status(batches.getColumn(1).getString())});
    }
    for (auto& batch : out) read_reputation_counts(db, batch);
    return out;
  });
}

Result<AccountReputation> FeedbackRepo::account_reputation(std::int64_t since_ms) {
  return sql::guard("read account reputation", [&]() -> Result<AccountReputation> {
    // events_by_type (type, occurred_at_ms) serves each count.
    SQLite::Statement query(m_db.sql(),
                            "SELECT "
                            " (SELECT count(*) FROM events WHERE type = 'SENT' AND occurred_at_ms >= ?1),"
                            " (SELECT count(*) FROM events WHERE type = 'BOUNCE' AND occurred_at_ms >= ?1"
                            "    AND json_extract(detail_json, '$.bounce_type') = 'Permanent'),"
                            " (SELECT count(*) FROM events WHERE type = 'COMPLAINT' AND occurred_at_ms >= ?1)");
    query.bind(1, static_cast<std::int64_t>(since_ms));
    query.executeStep();
    return AccountReputation{query.getColumn(0).getInt64(), query.getColumn(1).getInt64(),
                             query.getColumn(2).getInt64()};
  });
}

}  // namespace mailer::store
