#pragma once
// The pruner: the engine's retention thread (docs/API.md "Retention").
//
// Owns: its thread and its connection's use while running.
// Thread: its own. At start it reads the table row counts /metrics shows;
// then a pass every retention.prune_interval_seconds. Each pass: run_prune_pass (chunks of
// PrunePacing::chunk_rows with pauses, so sending never waits long for the
// write lock), one log line with the rows removed per kind, the
// mailer_db_pruned_rows_total counters; then free pages returned to the
// filesystem a mebibyte at a time (incremental vacuum, when the file allows
// it), and the table row counts /metrics shows read again.
// May not touch: anything run_prune_pass does not (queued, scheduled and
// sending messages, the aggregates).
// Guarantees: a pass that fails (busy, disk full) or throws is logged and the
// next one runs; stop() ends a pass between two chunks.

#include <stop_token>
#include <thread>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/jobs/retention.hpp"
#include "mailer/store/database.hpp"

namespace mailer::jobs {

class Pruner {
 public:
  /// `db`, `config` and `clock` must outlive the pruner.
  Pruner(store::Database& db, const Config& config, const Clock& clock) : m_db(db), m_config(config), m_clock(clock) {}

  void start();
  /// Stops and joins the thread; its connection is free afterwards.
  void stop();

 private:
  void loop(std::stop_token stop);
  void prune(std::stop_token stop);
  void vacuum(std::stop_token stop);
  void refresh_stats();

  store::Database& m_db;
  const Config& m_config;
  const Clock& m_clock;
  PruneState m_state;
  std::jthread m_thread;
};

}  // namespace mailer::jobs
