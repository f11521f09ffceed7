#include "mailer/store/metrics_queries.hpp"

#include <fmt/format.h>

#include "mailer/store/events.hpp"
#include "mailer/store/status.hpp"
#include "store/engagement_rows.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {

namespace {

// The states of messages still waiting to be sent, each reported even at zero.
constexpr MessageState k_queue_states[] = {MessageState::scheduled, MessageState::queued, MessageState::sending};

// batch_counts rows of batches that can still have waiting messages: the
// batches_by_status index finds them, the batch_counts primary key their rows.
constexpr const char* k_bulk_depth_sql =
    "SELECT substr(c.key, 7), sum(c.n) FROM batches b"
    " JOIN batch_counts c ON c.batch_id = b.id"
    "  AND c.key IN ('state:scheduled', 'state:queued', 'state:sending')"
    " WHERE b.status IN ('scheduled', 'queued', 'sending', 'paused')"
    " GROUP BY 1";

// messages_by_batch is (batch_id, state): `batch_id IS NULL` plus the IN list
// are index seeks, so finished transactional messages are never visited.
constexpr const char* k_transactional_depth_sql =
    "SELECT state, count(*) FROM messages"
    " WHERE batch_id IS NULL AND state IN ('scheduled', 'queued', 'sending')"
    " GROUP BY state";

// Message kinds and the claim priority each is stored with (0 transactional,
// 1 bulk: schema 0001, messages.priority).
constexpr std::pair<const char*, int> k_kind_priorities[] = {{"transactional", 0}, {"bulk", 1}};

}  // namespace

Result<QueueFigures> queue_figures(Database& db) {
  return sql::guard("read queue figures", [&]() -> Result<QueueFigures> {
    QueueFigures figures;
    for (MessageState state : k_queue_states) {
      figures.depth[to_string(state)] = 0;
      for (auto [kind, priority] : k_kind_priorities) figures.depth_by_kind[kind][to_string(state)] = 0;
    }
    for (auto [kind, query_sql] : {std::pair{"bulk", k_bulk_depth_sql}, {"transactional", k_transactional_depth_sql}}) {
      SQLite::Statement query(db.sql(), query_sql);
      while (query.executeStep()) {
        auto state = query.getColumn(0).getString();
        auto n = query.getColumn(1).getInt64();
        figures.depth[state] += n;
        figures.depth_by_kind[kind][state] += n;
      }
    }
    // NOTE: INDEXED BY: left to itself SQLite counts by scanning all of
    // messages_by_batch (batch_id, state), every message; 7.6 ms at 100,000.
    figures.dead_lettered =
        sql::query_int64(db.sql(), "SELECT count(*) FROM messages INDEXED BY messages_dlq WHERE state = 'failed'");
    return figures;
  });
}

Result<std::map<std::string, std::optional<std::int64_t>>> oldest_due_run_at(Database& db, std::int64_t now_ms) {
  return sql::guard("read the oldest due message", [&]() -> Result<std::map<std::string, std::optional<std::int64_t>>> {
    std::map<std::string, std::optional<std::int64_t>> out;
    // min() over a range of messages_claim reads its first entry only.
    SQLite::Statement query(db.sql(),
                            "SELECT min(run_at_ms) FROM messages INDEXED BY messages_claim"
                            " WHERE state = 'queued' AND paused = 0 AND priority = ? AND run_at_ms <= ?");
    for (auto [kind, priority] : k_kind_priorities) {
      query.reset();
      query.bind(1, priority);
      query.bind(2, now_ms);
      query.executeStep();
      out[kind] = query.getColumn(0).isNull() ? std::nullopt : std::optional(query.getColumn(0).getInt64());
    }
    return out;
  });
}

Result<std::map<std::string, std::int64_t>> event_totals(Database& db) {
  return sql::guard("read event totals", [&]() -> Result<std::map<std::string, std::int64_t>> {
    std::map<std::string, std::int64_t> totals;
    for (auto type : event_types()) totals[std::string(type)] = 0;
    // One row per type ever recorded (schema 0012): a scrape costs the same on any history.
    SQLite::Statement query(db.sql(), "SELECT type, n FROM event_counts_total");
    while (query.executeStep()) {
      auto type = query.getColumn(0).getString();
      if (is_event_type(type)) totals[type] = query.getColumn(1).getInt64();
    }
    return totals;
  });
}

Result<std::vector<std::string>> paused_batch_reasons(Database& db) {
  return sql::guard("read paused batches", [&]() -> Result<std::vector<std::string>> {
    std::vector<std::string> reasons;
    SQLite::Statement query(db.sql(), "SELECT coalesce(pause_reason, '') FROM batches WHERE status = 'paused'");
    while (query.executeStep()) reasons.push_back(query.getColumn(0).getString());
    return reasons;
  });
}

Result<EventSummary> event_summary(Database& db, std::int64_t from_hour_ms, std::int64_t to_hour_ms) {
  if (from_hour_ms % k_hour_ms != 0 || to_hour_ms % k_hour_ms != 0 || from_hour_ms >= to_hour_ms) {
    return make_error(
        ErrorCode::invalid_input,
        fmt::format("event range {}..{}: bounds must be UTC hour starts, from before to", from_hour_ms, to_hour_ms));
  }
  return sql::guard("read event counts", [&]() -> Result<EventSummary> {
    EventSummary summary;
    for (auto type : event_types()) summary.counts[std::string(type)] = 0;
    for (auto hour = from_hour_ms; hour < to_hour_ms; hour += k_hour_ms) summary.sent_per_hour.push_back({hour, 0});
    // The primary key (hour_ms, type) makes this a range scan over the hours asked for.
    SQLite::Statement query(db.sql(),
                            "SELECT hour_ms, type, n FROM event_counts_hourly WHERE hour_ms >= ? AND hour_ms < ?");
    query.bind(1, from_hour_ms);
    query.bind(2, to_hour_ms);
    while (query.executeStep()) {
      auto hour = query.getColumn(0).getInt64();
      auto type = query.getColumn(1).getString();
      auto n = query.getColumn(2).getInt64();
      if (is_event_type(type)) summary.counts[type] += n;
      engagement_rows::add_count(summary.engagement, type, n, "");
      if (type == "SENT") summary.sent_per_hour[static_cast<std::size_t>((hour - from_hour_ms) / k_hour_ms)].count += n;
    }
    return summary;
  });
}

Result<std::int64_t> sent_last_24h(Database& db, std::int64_t now_ms) {
  return sql::guard("read sent in the last 24 h", [&]() -> Result<std::int64_t> {
    SQLite::Statement query(db.sql(),
                            "SELECT coalesce(sum(n), 0) FROM event_counts_hourly"
                            " WHERE hour_ms > ? AND hour_ms <= ? AND type = 'SENT'");
    // The hour containing now - 24 h still overlaps the window.
    query.bind(1, now_ms - 24 * k_hour_ms - k_hour_ms);
    query.bind(2, now_ms);
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

}  // namespace mailer::store
