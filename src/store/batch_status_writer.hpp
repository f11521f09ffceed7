#pragma once
// The one writer of batches.status and batches.completed_at_ms, shared by
// BatchRepo (accept, reads, pause, resume, cancel) and MessageRepo (reaper, DLQ
// retry). A batch's status is derived (store::batch_status) from the counts the
// schema's triggers keep; this file stores what the rule says, with
// completed_at in the same statement, so a stored `completed` always has it.

#include <cstdint>
#include <optional>
#include <string>

#include <SQLiteCpp/Database.h>

#include "mailer/store/messages.hpp"
#include "mailer/store/status.hpp"

namespace mailer::store::batch_rows {

/// A status text read from batches.status. Throws std::logic_error on other
/// text, which the schema's CHECK constraint rules out (a bug, not input).
BatchStatus stored_status(const std::string& text);
/// The same for a state text read from messages.state (the batches' recipients
/// and single messages alike).
MessageState stored_state(const std::string& text);

/// The batch's message counts per state, from batch_counts.
StateCounts state_counts(SQLite::Database& db, const std::string& batch_id);

/// What write_status() does with pause_reason.
enum class PauseReason { keep, set };

/// Stores `to` as the status of batch `id`, and completed_at_ms in the same
/// statement: kept (or `now_ms` when unset) for completed and cancelled,
/// cleared for any other status, as a batch that leaves completed (a DLQ retry)
/// is not completed any more. With PauseReason::set, pause_reason becomes
/// `reason`. With `if_stored`, writes only while the stored status is still
/// that one (a concurrent writer wins). Returns whether a row changed.
bool write_status(SQLite::Database& db, const std::string& id, std::optional<BatchStatus> if_stored, BatchStatus to,
                  std::int64_t now_ms, PauseReason pause = PauseReason::keep,
                  const std::optional<std::string>& reason = std::nullopt);

/// Brings the stored status of batch `id` in line with batch_status() of its
/// counts. Returns the change, or nullopt when there was none (or no batch).
std::optional<BatchStatusChange> settle(SQLite::Database& db, const std::string& id, std::int64_t now_ms);

}  // namespace mailer::store::batch_rows
