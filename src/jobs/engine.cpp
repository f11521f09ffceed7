#include "mailer/jobs/engine.hpp"

#include <atomic>

#include "jobs/account_health.hpp"
#include "jobs/account_thread.hpp"
#include "jobs/dispatcher.hpp"
#include "jobs/engine_support.hpp"
#include "jobs/hand_off.hpp"
#include "jobs/pruner.hpp"
#include "jobs/reaper.hpp"
#include "jobs/sending_hold.hpp"
#include "jobs/storage_health.hpp"
#include "jobs/webhook_sender.hpp"
#include "jobs/worker_pool.hpp"
#include "mailer/core/log.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

// The engine's owner: opens the connections, wires the roles together,
// starts and stops their threads, and reads their stats. The rules live in
// the roles, each with its invariants at the top of its file:
//
//   hand_off.cpp       the one object dispatcher and workers share: claimed
//                      messages out, outcomes in, every claim still held
//   dispatcher.cpp     one transaction per round: record outcomes, claim
//   worker_pool.cpp    compose, quota, rate, send, retry decision
//   reaper.cpp         expired leases, scheduled, send_before, batch statuses
//   account_thread.cpp GetAccount: send rate, daily quota, hold probes
//   account_health.cpp whether GetAccount answers, for /ready and /metrics
//   sending_hold.cpp   the circuit breaker as the threads read it
//   storage_health.cpp whether the database can be written, for /ready
//   webhook_sender.cpp outgoing webhooks: a supervisor and one thread per
//                      endpoint, reading events after each endpoint's cursor;
//                      they share nothing with the roles above but the file
//   pruner.cpp         retention: old rows removed in small chunks, free
//                      pages returned, table row counts for /metrics
//
// How the engine keeps its promises (docs/ARCHITECTURE.md):
//
// - Claimed-but-unsent work stays small: the dispatcher claims at most as
//   many messages as there are workers free (idle, or reporting in this
//   round), so a crash strands at most worker.concurrency messages in
//   `sending` (returned at start and by lease expiry). A round hands each
//   reporting worker its next message directly; the rest wait in the HandOff.
// - Duplicates after kill -9 are bounded the same way: a worker that sent a
//   message waits until its outcome is committed before it takes another,
//   so at most one sent-but-unrecorded message per worker exists.
// - One transaction per round: the dispatcher records every outcome pending
//   and claims the next messages in the same transaction on its own
//   connection. Two connections taking turns at the write lock would spend
//   their time in SQLite's busy-wait sleeps and re-reading each other's
//   pages. Its commits are `deferred` (store::Sync): they survive kill -9 at
//   once and reach the disk at the dispatcher's own checkpoint, at most a
//   second later, so a power cut can only make the engine send again, never
//   lose a message. The dispatcher checkpoints itself, between rounds, so
//   that it never waits for a checkpointer and the WAL starts over each time.
// - Fencing: every outcome carries its claim's lease token; one that arrives
//   after its lease was reaped or released changes nothing (MessageRepo).
// - An outcome is never dropped while the process lives: when its round
//   cannot commit (database locked, disk full), the dispatcher keeps it and
//   retries with backoff, and the reaper never requeues a lease this process
//   still holds in the HandOff (requeue_cutoff), however long ago it expired. So
//   a message SES accepted is not claimed and sent again because its record
//   was late; only stop() gives such outcomes up (at-least-once across
//   restarts, as documented).
// - SES down is not the message's fault: service faults spend no attempt
//   (RetryPolicy), and the CircuitBreaker puts sending on hold until a
//   GetAccount probe from the account thread answers.
// - No exception leaves a thread: each loop iteration is guarded, logged and
//   carried on from; a worker records `internal` on its message.

namespace mailer::jobs {

struct Engine::Impl {
  Impl(const Config& cfg, std::string path, const Clock& clk, SenderFactory factory)
      : config(cfg),
        db_path(std::move(path)),
        clock(clk),
        make_sender(std::move(factory)),
        rate(cfg.ses.max_send_rate.value_or(k_initial_auto_rate), clk),
        hold(clk),
        account_health(cfg.ses.max_send_rate, k_initial_auto_rate) {}

  Status open();
  Status requeue_orphans();
  void start_threads();
  void stop(std::chrono::milliseconds grace);

  const Config config;
  const std::string db_path;
  const Clock& clock;
  SenderFactory make_sender;
  SendRate rate;
  DailyQuota quota;
  SendingHold hold;
  AccountHealth account_health;
  HandOff hand_off;
  StorageHealth storage;
  std::unique_ptr<store::Database> dispatcher_db;
  std::unique_ptr<store::Database> reaper_db;
  std::unique_ptr<store::Database> pruner_db;
  // The roles, made by open(). Declared after everything they refer to, so
  // that they (and their threads) go first.
  std::unique_ptr<WorkerPool> workers;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<Reaper> reaper;
  std::unique_ptr<AccountThread> account;
  std::unique_ptr<WebhookSender> webhooks;
  std::unique_ptr<Pruner> pruner;

  std::atomic<bool> running{false};
  bool started = false;
  bool stopped = false;
};

// ---- start and stop ------------------------------------------------------------

Status Engine::Impl::open() {
  auto open_one = [&](std::unique_ptr<store::Database>& out, store::Sync sync) -> Status {
    auto db = store::Database::open(db_path, store::OpenMode::create, sync);
    if (!db) return std::move(db).error();
    out = std::move(*db);
    return {};
  };
  if (auto opened = open_one(dispatcher_db, store::Sync::deferred); !opened) return opened;
  if (auto opened = open_one(reaper_db, store::Sync::full); !opened) return opened;
  if (auto opened = open_one(pruner_db, store::Sync::full); !opened) return opened;
  workers = std::make_unique<WorkerPool>(config, clock, rate, quota, hold, hand_off);
  if (auto opened = workers->open(db_path, make_sender); !opened) return opened;
  auto account_sender = make_sender();
  if (!account_sender) return make_error(ErrorCode::internal, "the sender factory made no sender");
  account = std::make_unique<AccountThread>(config, clock, std::move(account_sender), k_account_refresh,
                                            AccountThread::Shared{rate, quota, hold, hand_off, account_health});
  dispatcher = std::make_unique<Dispatcher>(*dispatcher_db, config, clock,
                                            Dispatcher::Timing{k_poll_interval, k_group_commit_wait}, quota, hold,
                                            hand_off, storage);
  reaper = std::make_unique<Reaper>(*reaper_db, clock, k_reaper_interval, hand_off, storage);
  webhooks = std::make_unique<WebhookSender>(config, db_path, clock);
  pruner = std::make_unique<Pruner>(*pruner_db, config, clock);
  return requeue_orphans();
}

// NOTE: at start every claim is an orphan of a previous process (the daemon
// lock keeps a second mailerd off this file), so all of them go back to the
// queue, not only those whose lease ran out.
Status Engine::Impl::requeue_orphans() {
  store::MessageRepo repo(*reaper_db, clock);
  const auto lease_ms = std::chrono::milliseconds(config.worker.lease).count();
  auto requeued = repo.requeue_expired(to_ms(clock.now()) + lease_ms + 1);
  if (!requeued) return std::move(requeued).error();
  if (*requeued > 0) log::warn("returned orphaned claims to the queue", {{"count", *requeued}});
  return {};
}

void Engine::Impl::start_threads() {
  running = true;
  workers->start();
  reaper->start();
  account->start();
  dispatcher->start();
  pruner->start();
  // Webhooks never stop mail: a failure here is logged and mail goes on.
  if (auto sender = webhooks->start(); !sender)
    log::error("webhook sender not started", {{"error", sender.error().detail}});
}

void Engine::Impl::stop(std::chrono::milliseconds grace) {
  const auto deadline = SteadyClock::now() + grace;
  if (webhooks) webhooks->stop();  // a request in progress is cancelled; its delivery stays pending
  pruner->stop();                  // between two chunks: nothing half-done
  auto not_started = hand_off.begin_drain();
  rate.stop_waiting();  // workers waiting for a token give their message back now
  reaper->stop();
  account->stop();
  store::MessageRepo repo(*reaper_db, clock);  // the reaper's connection is free now
  release_claims(repo, not_started);
  // Late outcomes of these are fenced off; the messages are sent again later.
  auto unfinished = hand_off.wait_settled(deadline);
  release_claims(repo, unfinished);
  // Workers wait for their outcome's commit; one the database refuses would
  // keep them (and this join) waiting forever.
  hand_off.abandon();
  workers->stop();  // the dispatcher still records their outcomes
  dispatcher->stop();
  checkpoint(*dispatcher_db);  // the dispatcher is gone: its connection is free
  running = false;
  log::info("job engine stopped", {{"released", not_started.size() + unfinished.size()}});
}

// ---- Engine ----------------------------------------------------------------------------

Engine::Engine(const Config& config, std::string db_path, const Clock& clock, SenderFactory make_sender)
    : m_impl(std::make_unique<Impl>(config, std::move(db_path), clock, std::move(make_sender))) {}

Engine::~Engine() { stop(std::chrono::milliseconds(0)); }

Status Engine::start() {
  if (m_impl->started) return make_error(ErrorCode::conflict, "the job engine was already started");
  m_impl->started = true;
  if (auto opened = m_impl->open(); !opened) {
    m_impl->stopped = true;
    return opened;
  }
  m_impl->start_threads();
  log::info("job engine started",
            {{"workers", m_impl->config.worker.concurrency}, {"send_rate", m_impl->rate.current_rate()}});
  return {};
}

void Engine::notify() { m_impl->hand_off.wake(); }

void Engine::notify_webhooks() {
  if (m_impl->webhooks) m_impl->webhooks->notify();
}

void Engine::stop(std::chrono::milliseconds grace) {
  if (!m_impl->started || m_impl->stopped) return;
  m_impl->stopped = true;
  m_impl->stop(grace);
}

EngineStats Engine::stats() const {
  const Impl& impl = *m_impl;
  EngineStats s;
  s.workers = impl.config.worker.concurrency;
  s.in_flight = impl.hand_off.in_flight();
  s.stopping = impl.hand_off.draining();
  s.send_rate = impl.rate.current_rate();
  s.alive = impl.running && impl.reaper && impl.reaper->alive();
  s.bulk_held = !impl.quota.allows(1, Traffic::bulk);
  s.hold_reason = impl.hold.reason();
  s.sending_on_hold = !s.hold_reason.empty();
  s.storage_problem = impl.storage.problem();
  s.account_problem = impl.account_health.degraded_reason();
  s.account_last_success_seconds = impl.account_health.last_success_seconds();
  auto account = impl.account_health.snapshot();
  s.account_failures = account.consecutive_failures;
  if (account.last_success) {
    s.account_max_send_rate = account.account_max_send_rate;
    s.account_max_24_hour_send = account.account_max_24_hour_send;
  }
  if (impl.dispatcher) {
    const auto& counts = impl.dispatcher->counts();
    s.sent = counts.sent;
    s.retried = counts.retried;
    s.dead_lettered = counts.dead_lettered;
    s.suppressed = counts.suppressed;
    s.cancelled = counts.cancelled;
    s.stale = counts.stale;
    s.claim_rounds = counts.claim_rounds;
  }
  if (impl.reaper) s.reaper_ticks = impl.reaper->ticks();
  return s;
}

}  // namespace mailer::jobs
