#include "store/batch_status_writer.hpp"

#include <stdexcept>

#include <SQLiteCpp/Statement.h>

#include "store/sql_util.hpp"

namespace mailer::store::batch_rows {

BatchStatus stored_status(const std::string& text) {
  auto status = parse_batch_status(text);
  if (!status) throw std::logic_error("batches.status holds an unknown status: " + text);
  return *status;
}

MessageState stored_state(const std::string& text) {
  auto state = parse_message_state(text);
  if (!state) throw std::logic_error("messages.state holds an unknown state: " + text);
  return *state;
}

StateCounts state_counts(SQLite::Database& db, const std::string& batch_id) {
  SQLite::Statement query(db,
                          "SELECT substr(key, 7), n FROM batch_counts"
                          " WHERE batch_id = ? AND key LIKE 'state:%' AND n <> 0");
  query.bind(1, batch_id);
  StateCounts counts;
  while (query.executeStep()) counts[query.getColumn(0).getString()] = query.getColumn(1).getInt64();
  return counts;
}

bool write_status(SQLite::Database& db, const std::string& id, std::optional<BatchStatus> if_stored, BatchStatus to,
                  std::int64_t now_ms, PauseReason pause, const std::optional<std::string>& reason) {
  SQLite::Statement update(db,
                           "UPDATE batches SET status = ?1, updated_at_ms = ?2,"
                           " completed_at_ms = CASE WHEN ?3 THEN coalesce(completed_at_ms, ?2) ELSE NULL END,"
                           " pause_reason = CASE WHEN ?4 THEN ?5 ELSE pause_reason END"
                           " WHERE id = ?6 AND (?7 IS NULL OR status = ?7)");
  update.bind(1, to_string(to));
  update.bind(2, static_cast<std::int64_t>(now_ms));
  update.bind(3, is_finished(to) ? 1 : 0);
  update.bind(4, pause == PauseReason::set ? 1 : 0);
  sql::bind_optional(update, 5, reason);
  update.bind(6, id);
  if (if_stored) update.bind(7, to_string(*if_stored));
  else update.bind(7);
  return update.exec() > 0;
}

std::optional<BatchStatusChange> settle(SQLite::Database& db, const std::string& id, std::int64_t now_ms) {
  SQLite::Statement stored(db, "SELECT status, suppressed_count FROM batches WHERE id = ?");
  stored.bind(1, id);
  if (!stored.executeStep()) return std::nullopt;
  BatchStatus from = stored_status(stored.getColumn(0).getString());
  BatchStatus to = batch_status(from, state_counts(db, id), stored.getColumn(1).getInt64());
  if (to == from || !write_status(db, id, from, to, now_ms)) return std::nullopt;
  return BatchStatusChange{id, from, to};
}

}  // namespace mailer::store::batch_rows
