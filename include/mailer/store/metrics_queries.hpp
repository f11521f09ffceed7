#pragma once
// Aggregates for GET /metrics and GET /v1/admin/metrics. Every query reads the
// counts the schema's triggers maintain (batch_counts, event_counts_hourly,
// event_counts_total)
// or a partial index, so the cost follows the number of active batches and
// hours asked for, never the number of messages or events stored.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/engagement.hpp"

namespace mailer::store {

class Database;

/// Figures /metrics shows as gauges.
struct QueueFigures {
  /// "scheduled", "queued" (paused ones included), "sending" -> count; every
  /// key present. Bulk messages are summed from batch_counts of batches not
  /// completed or cancelled (O(active batches)); transactional ones are
  /// counted through messages_by_batch (batch_id IS NULL, state IN (...)),
  /// O(transactional messages waiting). NOTE: a cancelled batch's sends
  /// still in flight (at most worker.concurrency) are not counted.
  std::map<std::string, std::int64_t> depth;
  /// The same split by kind: "bulk" (the batch_counts part) and
  /// "transactional" -> state -> count; every kind and state present.
  std::map<std::string, std::map<std::string, std::int64_t>> depth_by_kind;
  /// Messages in the DLQ (state failed), counted on the messages_dlq partial
  /// index: O(DLQ size), which operators keep small by retrying or purging.
  std::int64_t dead_lettered = 0;
};

/// Errors: storage_unavailable.
Result<QueueFigures> queue_figures(Database& db);

/// Per kind ("bulk", "transactional"), the run time of the message that has
/// waited longest among those due (state queued, not paused, run_at_ms <=
/// `now_ms`): its age is how far behind sending is. nullopt when none is due.
/// Two seeks on the messages_claim index (priority, run_at_ms): O(log n).
/// Errors: storage_unavailable.
Result<std::map<std::string, std::optional<std::int64_t>>> oldest_due_run_at(Database& db, std::int64_t now_ms);

/// Every event recorded, by type: each type of store::event_types() (zeros
/// included), from event_counts_total, which a trigger keeps in the
/// transaction that inserts the event. Pruning events leaves it alone, so the
/// totals only grow. O(event types): one row per type, whatever the history
/// (before schema 0012 this summed every hour of event_counts_hourly: 24 ms
/// on a file of 1,000,000 messages, docs/PERFORMANCE.md "Scale").
/// Errors: storage_unavailable.
Result<std::map<std::string, std::int64_t>> event_totals(Database& db);

/// The pause reason of every paused batch ("" when none was given), on the
/// batches_by_status index: O(paused batches). Errors: storage_unavailable.
Result<std::vector<std::string>> paused_batch_reasons(Database& db);

struct HourCount {
  std::int64_t hour_ms = 0;  // start of the UTC hour
  std::int64_t count = 0;
};

/// Event counts over the hours [from_hour_ms, to_hour_ms): both must be
/// multiples of 3600000 (UTC hour starts) with from < to.
struct EventSummary {
  std::map<std::string, std::int64_t> counts;  // every type of store::event_types(), zeros included
  std::vector<HourCount> sent_per_hour;        // one entry per hour in the range, oldest first
  /// The same hours' engagement figures: sent = SENT events. A message's
  /// unique open (click) falls in the hour of its first OPEN (CLICK), so over a
  /// range it counts the messages first opened within it.
  EngagementCounts engagement;
};

/// Reads event_counts_hourly: O(hours in range x event types). Errors:
/// invalid_input when the bounds are not hour starts or from >= to;
/// storage_unavailable.
Result<EventSummary> event_summary(Database& db, std::int64_t from_hour_ms, std::int64_t to_hour_ms);

/// SENT events in the hourly buckets that overlap (now_ms - 24 h, now_ms]: the
/// rolling SES quota window, overstated by at most the part of the oldest hour
/// before the window (an upper bound, which is the safe side for a quota).
Result<std::int64_t> sent_last_24h(Database& db, std::int64_t now_ms);

inline constexpr std::int64_t k_hour_ms = 3'600'000;

}  // namespace mailer::store
