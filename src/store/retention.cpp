#include "mailer/store/retention.hpp"

#include <fmt/format.h>

#include "store/sql_util.hpp"

// Three ways to find aged rows, each through an index in age order:
//
// - by time index (messages, dlq, sns_messages, idempotency_keys): the rows
//   removed leave the index, so each chunk takes the first `limit` entries
//   below the cutoff and no cursor is needed.
// - by id (events, api_key_audit): ids grow with time, so a chunk is the next
//   `limit` ids after the cursor, and the rows of it older than the cutoff go.
//   A chunk with no old row means the walk has passed the cutoff.
// - message_content: the rows stay (only their content goes), so the walk
//   keeps a (updated_at_ms, rowid) keyset over messages_finished and clears
//   the rows of each chunk that still hold content.

namespace mailer::store {
namespace {

constexpr int k_max_chunk_rows = 100'000;

struct TimeIndexed {
  const char* table;
  const char* index;
  const char* time_column;
  const char* where;  // the index's own predicate, so SQLite may use it
};

constexpr TimeIndexed k_finished_messages{"messages", "messages_finished", "updated_at_ms",
                                          "state IN ('sent', 'suppressed', 'cancelled')"};
constexpr TimeIndexed k_dlq_messages{"messages", "messages_dlq", "failed_at_ms", "state = 'failed'"};
constexpr TimeIndexed k_sns_messages{"sns_messages", "sns_messages_by_time", "received_at_ms", "1"};
constexpr TimeIndexed k_idempotency_keys{"idempotency_keys", "idempotency_by_time", "created_at_ms", "1"};

struct IdWalked {
  const char* table;
  const char* time_column;
  const char* filter;  // which rows of an old chunk go
};

constexpr IdWalked k_events{"events", "occurred_at_ms", "1"};
constexpr IdWalked k_audit{"api_key_audit", "at_ms", "action = 'used'"};

std::int64_t by_time_index(SQLite::Database& db, const TimeIndexed& t, std::int64_t before_ms, PruneMode mode,
                           int limit) {
  const auto rows =
      fmt::format("FROM {0} INDEXED BY {1} WHERE {2} AND {3} < ?1", t.table, t.index, t.where, t.time_column);
  if (mode == PruneMode::count) {
    SQLite::Statement count(db, "SELECT count(*) " + rows);
    count.bind(1, before_ms);
    count.executeStep();
    return count.getColumn(0).getInt64();
  }
  SQLite::Statement remove(db, fmt::format("DELETE FROM {} WHERE rowid IN (SELECT rowid {} ORDER BY {} LIMIT ?2)",
                                           t.table, rows, t.time_column));
  remove.bind(1, before_ms);
  remove.bind(2, limit);
  return remove.exec();
}

// The highest event id no enabled webhook endpoint still needs: below its
// cursor and below every pending delivery of it. Disabled endpoints do not
// hold events back (retention wins, docs/API.md "Retention").
std::int64_t events_upper_bound(SQLite::Database& db) {
  return sql::query_int64(db,
                          "SELECT min(bound) FROM ("
                          " SELECT max(id) - 1 AS bound FROM events"
                          " UNION ALL SELECT last_event_id FROM webhook_endpoints WHERE enabled = 1"
                          " UNION ALL SELECT d.first_event_id - 1 FROM webhook_deliveries d"
                          "  JOIN webhook_endpoints w ON w.id = d.endpoint_id"
                          "  WHERE d.status = 'pending' AND d.first_event_id IS NOT NULL AND w.enabled = 1)");
}

std::int64_t by_id(SQLite::Database& db, const IdWalked& t, std::int64_t upper, std::int64_t before_ms, PruneMode mode,
                   int limit, PruneCursor& cursor) {
  SQLite::Statement chunk(db, fmt::format("SELECT max(id), min(t) FROM (SELECT id, {} AS t FROM {}"
                                          " WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3)",
                                          t.time_column, t.table));
  chunk.bind(1, cursor.after_id);
  chunk.bind(2, upper);
  chunk.bind(3, limit);
  chunk.executeStep();
  if (chunk.getColumn(0).isNull() || chunk.getColumn(1).getInt64() >= before_ms) {
    cursor.done = true;
    return 0;
  }
  const std::int64_t last = chunk.getColumn(0).getInt64();
  const auto rows =
      fmt::format("FROM {} WHERE id > ?1 AND id <= ?2 AND {} < ?3 AND {}", t.table, t.time_column, t.filter);
  SQLite::Statement apply(db, mode == PruneMode::count ? "SELECT count(*) " + rows : "DELETE " + rows);
  apply.bind(1, cursor.after_id);
  apply.bind(2, last);
  apply.bind(3, before_ms);
  cursor.after_id = last;
  if (mode == PruneMode::count) {
    apply.executeStep();
    return apply.getColumn(0).getInt64();
  }
  return apply.exec();
}

constexpr const char* k_has_content =
    "(variables_json <> '{}' OR subject IS NOT NULL OR html IS NOT NULL OR text IS NOT NULL"
    " OR headers_json IS NOT NULL OR EXISTS (SELECT 1 FROM attachments WHERE message_id = messages.id))";

// The keyset of the `limit`-th finished message after the cursor, or nothing
// when fewer are left below the cutoff.
bool content_chunk_end(SQLite::Database& db, std::int64_t before_ms, int limit, const PruneCursor& cursor,
                       std::int64_t& end_ms, std::int64_t& end_id) {
  SQLite::Statement end(db,
                        "SELECT updated_at_ms, rowid FROM messages INDEXED BY messages_finished"
                        " WHERE state IN ('sent', 'suppressed', 'cancelled') AND (updated_at_ms, rowid) > (?1, ?2)"
                        " AND updated_at_ms < ?3 ORDER BY updated_at_ms, rowid LIMIT 1 OFFSET ?4");
  end.bind(1, cursor.after_ms);
  end.bind(2, cursor.after_id);
  end.bind(3, before_ms);
  end.bind(4, limit - 1);
  if (!end.executeStep()) return false;
  end_ms = end.getColumn(0).getInt64();
  end_id = end.getColumn(1).getInt64();
  return true;
}

std::int64_t message_content(SQLite::Database& db, std::int64_t before_ms, PruneMode mode, int limit,
                             PruneCursor& cursor) {
  std::int64_t end_ms = before_ms;
  std::int64_t end_id = std::numeric_limits<std::int64_t>::min();
  cursor.done = !content_chunk_end(db, before_ms, limit, cursor, end_ms, end_id);
  const auto rows = fmt::format(
      "rowid IN (SELECT rowid FROM messages INDEXED BY messages_finished"
      " WHERE state IN ('sent', 'suppressed', 'cancelled') AND (updated_at_ms, rowid) > (?1, ?2)"
      " AND (updated_at_ms, rowid) <= (?3, ?4) AND updated_at_ms < ?5) AND {}",
      k_has_content);
  // A message's own files are content too (schema 0013); a batch's stay with the batch.
  SQLite::Statement files(db, "DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE " + rows + ")");
  SQLite::Statement apply(db, mode == PruneMode::count
                                  ? "SELECT count(*) FROM messages WHERE " + rows
                                  : "UPDATE messages SET variables_json = '{}', subject = NULL, html = NULL,"
                                    " text = NULL, headers_json = NULL WHERE " +
                                        rows);
  for (auto* statement : {&files, &apply}) {
    statement->bind(1, cursor.after_ms);
    statement->bind(2, cursor.after_id);
    // The last chunk runs to the cutoff: (before_ms, min) is below every row of that time.
    statement->bind(3, end_ms);
    statement->bind(4, end_id);
    statement->bind(5, before_ms);
  }
  cursor.after_ms = end_ms;
  cursor.after_id = end_id;
  if (mode == PruneMode::count) {
    apply.executeStep();
    return apply.getColumn(0).getInt64();
  }
  // Files last: while they exist the rows still match k_has_content.
  const auto cleared = apply.exec();
  files.exec();
  return cleared;
}

std::int64_t chunk_of(SQLite::Database& db, PruneKind kind, std::int64_t before_ms, PruneMode mode, int limit,
                      PruneCursor& cursor) {
  auto by_index = [&](const TimeIndexed& t) {
    auto n = by_time_index(db, t, before_ms, mode, limit);
    cursor.done = mode == PruneMode::count || n < limit;
    return n;
  };
  switch (kind) {
    case PruneKind::message_content: return message_content(db, before_ms, mode, limit, cursor);
    case PruneKind::messages: return by_index(k_finished_messages);
    case PruneKind::dlq: return by_index(k_dlq_messages);
    case PruneKind::sns_messages: return by_index(k_sns_messages);
    case PruneKind::idempotency_keys: return by_index(k_idempotency_keys);
    case PruneKind::events: return by_id(db, k_events, events_upper_bound(db), before_ms, mode, limit, cursor);
    case PruneKind::api_key_audit:
      return by_id(db, k_audit, std::numeric_limits<std::int64_t>::max(), before_ms, mode, limit, cursor);
  }
  return 0;
}

}  // namespace

const std::vector<PruneKind>& prune_kinds() {
  static const std::vector<PruneKind> kinds{
      PruneKind::message_content, PruneKind::messages,      PruneKind::dlq,
      PruneKind::events,          PruneKind::api_key_audit, PruneKind::sns_messages,
      PruneKind::idempotency_keys};
  return kinds;
}

std::string_view to_string(PruneKind kind) {
  switch (kind) {
    case PruneKind::message_content: return "message_content";
    case PruneKind::messages: return "messages";
    case PruneKind::dlq: return "dlq";
    case PruneKind::events: return "events";
    case PruneKind::api_key_audit: return "api_key_audit";
    case PruneKind::sns_messages: return "sns_messages";
    case PruneKind::idempotency_keys: return "idempotency_keys";
  }
  return "unknown";
}

Result<std::int64_t> RetentionRepo::prune_chunk(PruneKind kind, std::int64_t before_ms, PruneMode mode, int limit,
                                                PruneCursor& cursor) {
  if (limit < 1 || limit > k_max_chunk_rows)
    return make_error(ErrorCode::invalid_input,
                      fmt::format("prune chunk: limit {}: must be between 1 and {}", limit, k_max_chunk_rows));
  const auto action = fmt::format("prune {}", to_string(kind));
  // A failed chunk leaves the cursor where it was, so the same call can be repeated.
  PruneCursor next = cursor;
  auto run = [&]() -> Result<std::int64_t> { return chunk_of(m_db.sql(), kind, before_ms, mode, limit, next); };
  auto done = mode == PruneMode::count ? sql::transaction(m_db, action, run, sql::TxMode::deferred)
                                       : sql::transaction(m_db, action, run);
  if (done) cursor = next;
  return done;
}

}  // namespace mailer::store
