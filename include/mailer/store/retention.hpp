#pragma once
// Retention: removing rows past their age, a small chunk per transaction, so
// that pruning a million rows never holds the write lock long enough to stall
// the job engine or the API (docs/API.md "Retention").
//
// Each call of RetentionRepo::prune_chunk is one short transaction over at
// most `limit` rows, found through an index in the order they aged, so a chunk
// costs the rows it touches, never a walk of the table. Deleting never touches
// the aggregates (batch_counts, event_counts_hourly, batch_links): they have no
// DELETE trigger, so every count survives the rows it counted.
//
// What each kind removes (the rules; jobs/retention.cpp only paces them):
//   message_content   variables_json emptied, subject/html/text cleared, of
//                     messages sent, suppressed or cancelled before the cutoff
//   messages          those messages deleted
//   dlq               failed messages deleted (a retry or purge comes first)
//   events            events deleted, never the one with the highest id (SQLite
//                     would reuse ids, and webhook cursors would skip new events)
//                     and never one an enabled webhook endpoint is yet to be
//                     sent (after its cursor, or in a pending delivery)
//   api_key_audit     "used" rows deleted; "created" and "revoked" are kept
//   sns_messages      SNS message ids (redelivery dedup) deleted
//   idempotency_keys  stored responses past their 24 h replay window deleted
// Queued, scheduled and sending messages are never touched.

#include <cstdint>
#include <limits>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

enum class PruneKind { message_content, messages, dlq, events, api_key_audit, sns_messages, idempotency_keys };

/// Every kind, in the order a pass prunes them (content before the messages
/// that hold it, so a content count is never a message about to go anyway).
const std::vector<PruneKind>& prune_kinds();

/// "message_content", "messages", ... as logged, printed and used as a metric label.
std::string_view to_string(PruneKind kind);

/// How long SNS message ids are kept for redelivery dedup: 14 days, longer
/// than any SNS delivery retry policy can last (at most 100 retries, each at
/// most 3600 s apart: about 4 days;
/// https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html).
inline constexpr std::int64_t k_sns_message_retention_ms = 14LL * 24 * 3600 * 1000;

/// Where a walk over one kind stands between chunks; start with {}. Only
/// message_content (whose rows stay) and the id walks (events,
/// api_key_audit) move it; `done` says the walk reached its end.
struct PruneCursor {
  std::int64_t after_ms = std::numeric_limits<std::int64_t>::min();  // message_content: (time, rowid) keyset
  std::int64_t after_id = std::numeric_limits<std::int64_t>::min();
  bool done = false;
};

/// `remove` changes rows; `count` counts the rows `remove` would change, changing nothing.
enum class PruneMode { remove, count };

class RetentionRepo {
 public:
  explicit RetentionRepo(Database& db) : m_db(db) {}

  /// One chunk of `kind`: at most `limit` (1 .. 100,000) rows that aged past
  /// `before_ms` (Unix ms: finished, failed, occurred, recorded before it) are
  /// removed in one IMMEDIATE transaction, or counted (mode `count`, in one
  /// read, all at once for the kinds found by time index). Returns the rows
  /// removed or counted; sets `cursor.done` when nothing of `kind` is left to
  /// look at below `before_ms`. Errors: invalid_input (limit out of range);
  /// storage_unavailable (busy past the busy timeout, disk full, ...): nothing
  /// of this chunk changed, and the same call may be repeated.
  Result<std::int64_t> prune_chunk(PruneKind kind, std::int64_t before_ms, PruneMode mode, int limit,
                                   PruneCursor& cursor);

 private:
  Database& m_db;
};

}  // namespace mailer::store
