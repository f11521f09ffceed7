#pragma once
// One prune pass (docs/API.md "Retention"): every kind store::RetentionRepo
// knows, chunk after chunk, with a pause between chunks so that the job
// engine's claims and the API's writes get the write lock in between. The
// engine's pruner thread runs a pass every retention.prune_interval_seconds;
// `mailerctl db prune` runs one (or counts one, --dry-run) on its own.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>

#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/retention.hpp"

namespace mailer::jobs {

/// The cutoff (Unix ms; rows aged before it go) of each kind at `now_ms`:
/// retention.*_days for messages, content, the DLQ, events and audit rows
/// (kinds set to 0 are absent: kept forever); 14 days for SNS message ids
/// (store::k_sns_message_retention_ms); the 24 h replay window for
/// idempotency keys (store::k_idempotency_ttl_ms).
std::map<store::PruneKind, std::int64_t> prune_cutoffs(const RetentionConfig& config, std::int64_t now_ms);

struct PrunePacing {
  /// Rows per transaction. 1,000 event rows (five B-trees each) take about
  /// 10 ms to delete: the longest the claim path waits for the lock.
  int chunk_rows = 1000;
  std::chrono::milliseconds pause{10};  // between chunks, lock released
};

/// What a pass carries to the next: where the content walk stopped, so a
/// pass reads only the messages that finished since (their rows stay).
struct PruneState {
  store::PruneCursor content;
};

struct PruneReport {
  std::map<store::PruneKind, std::int64_t> rows;  // per kind with a cutoff: removed, or counted
  std::optional<Error> error;                     // the chunk that failed; the pass stopped there
  bool stopped = false;                           // `stop` was requested; the pass ended early
};

/// Runs a pass over `db` in `mode` (count: nothing changes, and `state` is not
/// used). A chunk failing (database busy past the busy timeout, disk full)
/// ends the pass with `error` set: the next pass starts over from what is
/// left. Never throws for a database problem.
PruneReport run_prune_pass(store::Database& db, const RetentionConfig& config, std::int64_t now_ms,
                           store::PruneMode mode, const PrunePacing& pacing, PruneState& state,
                           std::stop_token stop = {});

}  // namespace mailer::jobs
