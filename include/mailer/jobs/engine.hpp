#pragma once
// The job engine: claims due messages, renders, checks suppression, sends
// through SES at the shared rate and records outcomes (SPEC §4,
// docs/ARCHITECTURE.md). Threads, all std::jthread, none detached:
//
//   dispatcher  one transaction per round: records every outcome the workers
//               handed in (group commit) and claims up to the number of
//               workers free after it (lease + fencing token); a round starts
//               as soon as every busy worker reported or 250 µs passed, on
//               notify(), on a worker freeing up while work is pending, else
//               every 250 ms. Its connection commits `deferred` (store::Sync);
//               it checkpoints (syncs) the WAL itself each second it wrote
//               A round the database refuses (locked, disk full) is kept in
//               memory and retried with backoff (100 ms doubling to 5 s) until
//               it commits; its workers wait meanwhile
//   workers     worker.concurrency threads: compose, suppression, daily quota,
//               SendRate token, Sender::send, RetryPolicy on failure; then hand
//               the Outcome to the dispatcher and WAIT for its commit before
//               taking more work, which bounds kill -9 duplicates by concurrency
//   reaper      every second: requeue expired leases (never one this process
//               still holds), promote scheduled messages, cancel past
//               send_before, update batch statuses
//   webhooks    a supervisor and one thread per enabled webhook endpoint
//               (src/jobs/webhook_sender.hpp): signed deliveries of events
//   pruner      a retention pass every retention.prune_interval_seconds
//               (src/jobs/pruner.hpp)
//   account     every 60 s GetAccount for the send rate (ses.max_send_rate
//               "auto") and the daily quota; while sending is on hold, the
//               CircuitBreaker's probes (circuit_breaker.hpp)
//
// Each thread but the account thread has its own SQLite connection to `db_path`.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/jobs/sender.hpp"

namespace mailer::jobs {

/// A snapshot for /metrics and readiness.
struct EngineStats {
  int workers = 0;               // worker.concurrency
  int in_flight = 0;             // claimed and not yet recorded (handed over or sending)
  double send_rate = 0;          // current token bucket rate, recipients per second
  bool alive = false;            // started, not stopped, and the reaper ticked within 15 s
  bool bulk_held = false;        // bulk claiming held back by the SES daily quota
  bool stopping = false;         // stop() began: nothing more is claimed
  bool sending_on_hold = false;  // the CircuitBreaker holds sending: SES down or refusing us
  std::string hold_reason;       // while on hold: "ses_unavailable: <SES's words>" (or ses_credentials)
  /// While the engine cannot write: "database not writable: <detail>[ (N outcomes held in memory)]".
  std::string storage_problem;
  /// From the 3rd failed SES GetAccount in a row until the next success:
  /// "SES GetAccount failing (N times since <RFC 3339>): <detail>; sending at
  /// <rate> msg/s (<why>)". Sending goes on: /ready reports it as degraded.
  std::string account_problem;
  double account_last_success_seconds = 0;  // Unix time of the last GetAccount answer; 0 before any
  int account_failures = 0;                 // GetAccount calls failed in a row (probes included)
  /// The last GetAccount SendQuota: MaxSendRate (msg/s) and Max24HourSend
  /// (-1: unlimited); nullopt before any answer.
  std::optional<double> account_max_send_rate;
  std::optional<double> account_max_24_hour_send;
  std::uint64_t sent = 0;  // outcomes applied since start, by kind
  std::uint64_t retried = 0;
  std::uint64_t dead_lettered = 0;
  std::uint64_t suppressed = 0;
  std::uint64_t cancelled = 0;
  std::uint64_t stale = 0;         // outcomes fenced off (the lease had moved on)
  std::uint64_t claim_rounds = 0;  // dispatcher claim transactions, for tests
  std::uint64_t reaper_ticks = 0;
};

class Engine {
 public:
  static constexpr std::chrono::milliseconds k_poll_interval{250};
  static constexpr std::chrono::milliseconds k_reaper_interval{1000};
  static constexpr std::chrono::seconds k_account_refresh{60};
  static constexpr std::chrono::microseconds k_group_commit_wait{250};
  /// The send rate used under "auto" until GetAccount first answers: the SES
  /// sandbox rate, so a new account is never throttled at start.
  static constexpr double k_initial_auto_rate = 1.0;

  /// Reads worker.*, ses.max_send_rate and ses.configuration_set,
  /// unsubscribe.* and server.public_url from `config` (copied). `clock` must
  /// outlive the engine; `make_sender` is called once per worker and once for
  /// the account thread, in start().
  Engine(const Config& config, std::string db_path, const Clock& clock, SenderFactory make_sender);
  /// Stops with no grace if still running.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Opens the connections, returns expired leases to the queue (a previous
  /// process died), and starts the threads. Errors: storage_unavailable (cannot
  /// open the database), internal (the factory returned no sender); nothing
  /// is started then. Calling it twice is a conflict.
  Status start();

  /// Wakes the dispatcher now (call after enqueueing work). Thread-safe.
  void notify();
  /// Makes the webhook sender re-read its endpoints now (call after one was
  /// created, changed, tested or replayed). Thread-safe.
  void notify_webhooks();

  /// Graceful stop (SPEC §8): stop claiming, give back handed-over messages
  /// not yet started, wait up to `grace` for sends in progress and their
  /// records, then release claims still unfinished (their late outcomes are
  /// fenced off: at-least-once) and join every thread. Outcomes the database
  /// still refuses once `grace` is over are given up (logged; those messages
  /// may be sent again after a restart). Idempotent.
  void stop(std::chrono::milliseconds grace);

  EngineStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mailer::jobs
