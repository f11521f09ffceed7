#include "mailer/jobs/engine.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <thread>
#include <vector>

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/jobs/circuit_breaker.hpp"
#include "mailer/jobs/composer.hpp"
#include "mailer/jobs/retry_policy.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

// How the engine keeps its promises (docs/ARCHITECTURE.md):
//
// - Claimed-but-unsent work stays small: the dispatcher claims at most as
//   many messages as there are workers free (idle, or reporting in this
//   round), so a crash strands at most worker.concurrency messages in
//   `sending` (returned at start and by lease expiry). A round hands each
//   reporting worker its next message directly; the rest wait in `ready`.
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
//   still holds in `claims` (requeue_cutoff), however long ago it expired. So
//   a message SES accepted is not claimed and sent again because its record
//   was late; only stop() gives such outcomes up (at-least-once across
//   restarts, as documented).
// - SES down is not the message's fault: service faults spend no attempt
//   (RetryPolicy), and the CircuitBreaker puts sending on hold until a
//   GetAccount probe from the account thread answers.
// - No exception leaves a thread: each loop iteration is guarded, logged and
//   carried on from; a worker records `internal` on its message.

namespace mailer::jobs {
namespace {

using SteadyClock = std::chrono::steady_clock;
// Waits between tries of a round that could not commit: 100 ms doubling to 5 s.
constexpr std::chrono::milliseconds k_record_retry_first{100};
constexpr std::chrono::milliseconds k_record_retry_max{5000};
constexpr std::chrono::seconds k_account_retry{5};
constexpr std::chrono::milliseconds k_account_tick{250};
// NOTE: longer than the store's 5 s busy timeout plus a reaper interval: a
// locked database stalls a reaper step that long, and that is not a hang.
constexpr std::chrono::seconds k_alive_window{15};
constexpr std::chrono::seconds k_checkpoint_interval{1};

// The breaker's state as the workers' fast path reads it without a lock.
enum HoldFlag : int { k_clean, k_faulted, k_half_open, k_on_hold };

std::string error_code_name(const Error& error) {
  return error.upstream_code.empty() ? std::string(to_string(error.code)) : error.upstream_code;
}

const char* outcome_name(store::Outcome::Kind kind) {
  switch (kind) {
    case store::Outcome::Kind::sent: return "sent";
    case store::Outcome::Kind::retry: return "retry";
    case store::Outcome::Kind::dead_letter: return "failed";
    case store::Outcome::Kind::suppressed: return "suppressed";
    case store::Outcome::Kind::cancelled: return "cancelled";
  }
  return "unknown";
}

// Sender::send, counted and timed for /metrics (mailer_ses_requests_total and
// mailer_ses_request_duration_seconds).
Result<std::string> timed_send(Sender& sender, const SendRequest& request) {
  auto started = SteadyClock::now();
  auto ses_id = sender.send(request);
  metrics::observe_ses_request("SendEmail", ses_id ? nullptr : &ses_id.error(), SteadyClock::now() - started);
  return ses_id;
}

void checkpoint(store::Database& db) {
  if (auto synced = db.checkpoint(); !synced) {
    log::warn("checkpoint failed; the next one will retry", {{"error", synced.error().detail}});
  }
}

// Runs `step`; an exception is a bug, logged with `where`, and the loop that
// called goes on (STYLE §4: no exception leaves a thread).
template <typename F>
bool guarded(const char* where, F&& step) {
  try {
    step();
    return true;
  } catch (const std::exception& e) {
    log::error("unexpected exception; carrying on", {{"thread", where}, {"error", e.what()}});
  } catch (...) {
    log::error("unexpected exception; carrying on", {{"thread", where}, {"error", "unknown"}});
  }
  return false;
}

std::string error_text(const Error& error) {
  return error.upstream_code.empty() ? error.detail : error.upstream_code + ": " + error.detail;
}

// Sleeps `duration` of real time unless `stop` is requested first.
void wait_or_stop(std::stop_token stop, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait_for(lock, stop, duration, [] { return false; });
}

}  // namespace

struct Engine::Impl {
  struct Worker {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::MessageRepo> repo;
    std::unique_ptr<Composer> composer;
    std::unique_ptr<Sender> sender;
    std::mt19937_64 random{std::random_device{}()};
    Rng rng = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random); };
    // Set by the dispatcher when this worker's outcome is committed. An atomic
    // wait on the worker, not a condition variable on the engine: each round
    // wakes exactly its own workers, and the flag outlives the Pending.
    std::atomic<bool> committed{false};
    // The message the committing round handed this worker directly, so that
    // it goes on without touching the shared queue. Written before
    // `committed` is set, read after.
    std::optional<store::ClaimedMessage> next;
  };
  struct Pending {
    store::Outcome outcome;
    Worker* worker = nullptr;  // whose `committed` to set
    bool applied = false;      // recorded; false when stale, or given up at stop()
  };
  struct Lease {
    std::int64_t token = 0;
    std::int64_t expires_ms = 0;
  };
  // Who found the database not writable; each clears its own.
  enum class StorageSource { dispatcher, reaper };

  Impl(const Config& cfg, std::string path, const Clock& clk, SenderFactory factory)
      : config(cfg),
        db_path(std::move(path)),
        clock(clk),
        make_sender(std::move(factory)),
        policy(cfg.worker.attempts, cfg.worker.backoff_base, cfg.worker.backoff_max),
        rate(cfg.ses.max_send_rate.value_or(k_initial_auto_rate), clk) {}

  Status open();
  void start_threads();
  void stop(std::chrono::milliseconds grace);

  // Dispatcher.
  void dispatcher_loop(std::stop_token stop);
  std::optional<int> wait_for_round(std::stop_token stop, std::vector<Pending*>& group);
  void round(store::MessageRepo& repo, std::vector<Pending*>& group, int capacity);
  std::vector<store::ClaimedMessage> record(store::MessageRepo& repo, std::vector<Pending*>& group,
                                            const std::vector<store::Outcome>& outcomes, int capacity);
  std::optional<store::MessageRepo::Cycle> commit_round(store::MessageRepo& repo,
                                                        const std::vector<store::Outcome>& outcomes,
                                                        int capacity);
  Result<store::MessageRepo::Cycle> try_round(store::MessageRepo& repo,
                                              const std::vector<store::Outcome>& outcomes, int capacity);
  bool wait_to_retry_round(int failures);
  void wake_workers(std::vector<Pending*>& group);
  std::vector<store::MessageRepo::Claim> deliver(std::vector<Pending*>& group,
                                                 const std::vector<store::Outcome>& outcomes,
                                                 std::vector<store::ClaimedMessage> claimed,
                                                 int capacity);
  // Workers.
  void worker_loop(std::stop_token stop, Worker& worker);
  std::optional<store::ClaimedMessage> next_message(std::stop_token stop, Worker& worker);
  std::optional<store::ClaimedMessage> take_work(std::stop_token stop);
  void handle(std::stop_token stop, Worker& worker, const store::ClaimedMessage& message);
  void log_attempt(const store::ClaimedMessage& message, const store::Outcome& outcome);
  std::optional<store::Outcome> process(std::stop_token stop, Worker& worker,
                                        const store::ClaimedMessage& message);
  store::Outcome failure_outcome(Worker& worker, const store::ClaimedMessage& message,
                                 const Error& error);
  [[nodiscard]] bool commit(Worker& worker, store::Outcome outcome);
  void finish(const store::ClaimedMessage& message);
  void give_back(Worker& worker, const store::ClaimedMessage& message);
  void count(const store::Outcome& outcome, store::Recorded recorded);
  // Reaper.
  void reaper_loop(std::stop_token stop);
  void reap(store::MessageRepo& repo);
  std::int64_t requeue_cutoff(std::int64_t now_ms);
  void release(store::MessageRepo& repo, const std::vector<store::MessageRepo::Claim>& claims);
  void set_storage_problem(StorageSource source, const Error* error, std::size_t outcomes_held = 0);
  // Sending hold and the account thread.
  bool sending_held() const { return hold_flag.load(std::memory_order_relaxed) == k_on_hold; }
  void observe_send(const Result<std::string>& answer);
  void publish_hold();  // under hold_mutex
  void account_loop(std::stop_token stop);
  void account_step(SteadyClock::time_point& next_refresh);
  Status refresh_account();
  void on_probe(const Status& answer);

  const Config config;
  const std::string db_path;
  const Clock& clock;
  SenderFactory make_sender;
  RetryPolicy policy;
  SendRate rate;
  DailyQuota quota;

  // Hand-over between the dispatcher and the workers, under `mutex`.
  std::mutex mutex;
  std::condition_variable_any dispatcher_cv;  // work to claim or outcomes to record
  std::condition_variable_any worker_cv;      // `ready` has messages
  std::condition_variable_any settled_cv;     // claims became empty (stop waits for it)
  std::deque<store::ClaimedMessage> ready;
  std::map<std::string, Lease> claims;         // every claim not yet recorded, by message id
  std::vector<Pending*> pending;               // outcomes waiting for the next round
  int idle_workers = 0;
  int busy_workers = 0;   // took a message and have not finished it
  bool wake = false;      // notify() or a worker freed up while a backlog exists
  bool backlog = false;   // the last claim was full: more work is probably due
  std::atomic<bool> draining{false};  // stop() began: claim nothing more
  bool abandon = false;               // stop()'s grace is over: give up outcomes that cannot commit

  // The SES circuit breaker, under hold_mutex; hold_flag mirrors it (HoldFlag).
  mutable std::mutex hold_mutex;
  CircuitBreaker breaker;
  std::atomic<int> hold_flag{k_clean};
  SteadyClock::time_point hold_began{};

  // Why the database is not writable, per source; empty when it is.
  mutable std::mutex storage_mutex;
  std::map<StorageSource, std::string> storage_problems;
  std::map<StorageSource, SteadyClock::time_point> storage_since;

  std::atomic<bool> running{false};
  bool started = false;
  bool stopped = false;
  std::atomic<SteadyClock::rep> last_tick{0};
  std::atomic<std::uint64_t> sent{0}, retried{0}, dead_lettered{0}, suppressed{0},
      cancelled{0}, stale{0}, claim_rounds{0}, reaper_ticks{0};

  std::unique_ptr<store::Database> dispatcher_db;
  std::unique_ptr<store::Database> reaper_db;
  std::unique_ptr<Sender> account_sender;
  std::vector<std::unique_ptr<Worker>> workers;
  std::jthread dispatcher_thread;
  std::vector<std::jthread> worker_threads;
  std::jthread reaper_thread;
  std::jthread account_thread;
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
  for (int i = 0; i < config.worker.concurrency; ++i) {
    auto worker = std::make_unique<Worker>();
    if (auto opened = open_one(worker->db, store::Sync::deferred); !opened) return opened;
    worker->repo = std::make_unique<store::MessageRepo>(*worker->db, clock);
    worker->composer = std::make_unique<Composer>(*worker->db, clock, config);
    worker->sender = make_sender();
    if (!worker->sender) return make_error(ErrorCode::internal, "the sender factory made no sender");
    workers.push_back(std::move(worker));
  }
  account_sender = make_sender();
  if (!account_sender) return make_error(ErrorCode::internal, "the sender factory made no sender");
  // NOTE: at start every claim is an orphan of a previous process (the
  // daemon lock keeps a second mailerd off this file), so all of them go
  // back to the queue, not only those whose lease ran out.
  store::MessageRepo repo(*reaper_db, clock);
  const auto lease_ms = std::chrono::milliseconds(config.worker.lease).count();
  auto requeued = repo.requeue_expired(to_ms(clock.now()) + lease_ms + 1);
  if (!requeued) return std::move(requeued).error();
  if (*requeued > 0) log::warn("returned orphaned claims to the queue", {{"count", *requeued}});
  return {};
}

void Engine::Impl::start_threads() {
  running = true;
  last_tick = SteadyClock::now().time_since_epoch().count();
  for (auto& worker : workers) {
    worker_threads.emplace_back([this, w = worker.get()](std::stop_token stop) { worker_loop(stop, *w); });
  }
  reaper_thread = std::jthread([this](std::stop_token stop) { reaper_loop(stop); });
  account_thread = std::jthread([this](std::stop_token stop) { account_loop(stop); });
  dispatcher_thread = std::jthread([this](std::stop_token stop) { dispatcher_loop(stop); });
}

void Engine::Impl::release(store::MessageRepo& repo,
                           const std::vector<store::MessageRepo::Claim>& to_release) {
  if (to_release.empty()) return;
  auto released = repo.release(to_release);
  if (!released) {
    log::warn("could not release claims; their leases will expire",
              {{"count", to_release.size()}, {"error", released.error().detail}});
  }
}

void Engine::Impl::stop(std::chrono::milliseconds grace) {
  const auto deadline = SteadyClock::now() + grace;
  std::vector<store::MessageRepo::Claim> not_started;
  {
    std::scoped_lock lock(mutex);
    draining = true;
    for (const auto& m : ready) {
      not_started.push_back({m.id, m.lease_token});
      claims.erase(m.id);
    }
    ready.clear();
  }
  reaper_thread.request_stop();
  if (reaper_thread.joinable()) reaper_thread.join();
  account_thread.request_stop();
  if (account_thread.joinable()) account_thread.join();
  store::MessageRepo repo(*reaper_db, clock);  // the reaper's connection is free now
  release(repo, not_started);
  std::vector<store::MessageRepo::Claim> unfinished;
  {
    std::unique_lock lock(mutex);
    settled_cv.wait_until(lock, deadline, [&] { return claims.empty(); });
    for (const auto& [id, lease] : claims) unfinished.push_back({id, lease.token});
  }
  // Late outcomes of these are fenced off; the messages are sent again later.
  release(repo, unfinished);
  {
    // Workers wait for their outcome's commit; one the database refuses
    // would keep them (and this join) waiting forever.
    std::scoped_lock lock(mutex);
    abandon = true;
  }
  dispatcher_cv.notify_all();
  for (auto& thread : worker_threads) thread.request_stop();
  worker_threads.clear();  // joins; the dispatcher still records their outcomes
  dispatcher_thread.request_stop();
  if (dispatcher_thread.joinable()) dispatcher_thread.join();
  checkpoint(*dispatcher_db);  // the dispatcher is gone: its connection is free
  running = false;
  log::info("job engine stopped", {{"released", not_started.size() + unfinished.size()}});
}

// ---- dispatcher --------------------------------------------------------------------

void Engine::Impl::dispatcher_loop(std::stop_token stop) {
  store::MessageRepo repo(*dispatcher_db, clock);
  std::vector<Pending*> group;
  auto last_checkpoint = SteadyClock::now();
  bool wrote = false;
  while (auto capacity = wait_for_round(stop, group)) {
    if (!group.empty() || *capacity > 0) {
      // round() sets the workers free itself; should even that throw, do it
      // here (their claims then stay until stop()).
      if (!guarded("dispatcher", [&] { round(repo, group, *capacity); })) wake_workers(group);
      wrote = true;
    }
    group.clear();
    // The durability point of this connection's `deferred` commits.
    if (wrote && SteadyClock::now() - last_checkpoint >= k_checkpoint_interval) {
      checkpoint(*dispatcher_db);
      last_checkpoint = SteadyClock::now();
      wrote = false;
    }
  }
}

// Waits for outcomes to record, notify() or a freed worker while work is
// pending, or the poll interval. Moves the outcomes into `group` and returns
// how many messages to claim in this round; nullopt when stopped with nothing
// left to record.
std::optional<int> Engine::Impl::wait_for_round(std::stop_token stop, std::vector<Pending*>& group) {
  std::unique_lock lock(mutex);
  auto free_slots = [&] {
    switch (draining ? k_on_hold : hold_flag.load(std::memory_order_relaxed)) {
      case k_on_hold: return 0;
      // Half-open: one trial message at a time until SES answers a send.
      case k_half_open: return claims.empty() && ready.empty() ? std::min(idle_workers, 1) : 0;
      default: return idle_workers - static_cast<int>(ready.size());
    }
  };
  dispatcher_cv.wait_for(lock, stop, k_poll_interval,
                         [&] { return !pending.empty() || (wake && free_slots() > 0); });
  if (stop.stop_requested() && pending.empty()) return std::nullopt;
  if (!pending.empty()) {
    // Give the other busy workers a moment to report: one round for all.
    dispatcher_cv.wait_for(lock, k_group_commit_wait,
                           [&] { return static_cast<int>(pending.size()) >= busy_workers; });
  }
  group.swap(pending);
  wake = false;
  // The workers whose outcomes are in this round are free once it commits.
  // (Messages handed over in the last round may still outnumber idle workers.)
  if (hold_flag.load(std::memory_order_relaxed) >= k_half_open) return free_slots();
  return draining ? 0 : std::max(0, free_slots() + static_cast<int>(group.size()));
}

void Engine::Impl::round(store::MessageRepo& repo, std::vector<Pending*>& group, int capacity) {
  std::vector<store::Outcome> outcomes;
  outcomes.reserve(group.size());
  for (auto* p : group) outcomes.push_back(std::move(p->outcome));
  std::vector<store::ClaimedMessage> claimed;
  // After a bug's exception the round still ends its claims and frees its
  // workers: a claim left in `claims` would hold back the reaper for good.
  guarded("dispatcher", [&] { claimed = record(repo, group, outcomes, capacity); });
  release(repo, deliver(group, outcomes, std::move(claimed), capacity));
}

// Commits the round and tells each Pending whether its outcome applied;
// returns the messages claimed.
std::vector<store::ClaimedMessage> Engine::Impl::record(store::MessageRepo& repo, std::vector<Pending*>& group,
                                                        const std::vector<store::Outcome>& outcomes, int capacity) {
  auto cycle = commit_round(repo, outcomes, capacity);
  if (capacity > 0) ++claim_rounds;
  if (!cycle) return {};
  for (std::size_t i = 0; i < group.size(); ++i) {
    count(outcomes[i], cycle->recorded[i]);
    group[i]->applied = cycle->recorded[i] == store::Recorded::applied;
  }
  return std::move(cycle->claimed);
}

// record_and_claim until it commits. A round with outcomes is retried with
// backoff for as long as the database refuses it (their workers wait, so
// nothing more is sent meanwhile); nullopt when stop() gave them up, or at
// once for a round that only claims (the next round claims instead).
std::optional<store::MessageRepo::Cycle> Engine::Impl::commit_round(
    store::MessageRepo& repo, const std::vector<store::Outcome>& outcomes, int capacity) {
  for (int failures = 0;; ++failures) {
    auto cycle = try_round(repo, outcomes, capacity);
    if (cycle) {
      set_storage_problem(StorageSource::dispatcher, nullptr);
      return std::move(*cycle);
    }
    set_storage_problem(StorageSource::dispatcher, &cycle.error(), outcomes.size());
    if (outcomes.empty()) return std::nullopt;
    if (!wait_to_retry_round(failures)) {
      log::error("stopping with outcomes the database refused; those messages may be sent again",
                 {{"count", outcomes.size()}, {"error", cycle.error().detail}});
      return std::nullopt;
    }
  }
}

Result<store::MessageRepo::Cycle> Engine::Impl::try_round(store::MessageRepo& repo,
                                                          const std::vector<store::Outcome>& outcomes,
                                                          int capacity) {
  // Bulk waits while the daily quota is spent; transactional mail goes on.
  auto scope = quota.allows(1, Traffic::bulk) ? store::ClaimScope::all
                                              : store::ClaimScope::transactional_only;
  const auto lease_ms = std::chrono::milliseconds(config.worker.lease).count();
  // A bug's exception must not drop the outcomes either: it is retried too.
  try {
    return repo.record_and_claim(outcomes, capacity, to_ms(clock.now()), lease_ms, scope);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("record outcomes: ") + e.what());
  }
}

// Waits before try `failures` + 2 of a round; false once stop() gave up.
bool Engine::Impl::wait_to_retry_round(int failures) {
  auto delay = k_record_retry_first;
  for (int i = 0; i < failures && delay < k_record_retry_max; ++i) delay = std::min(delay * 2, k_record_retry_max);
  std::unique_lock lock(mutex);
  return !dispatcher_cv.wait_for(lock, delay, [&] { return abandon; });
}

void Engine::Impl::wake_workers(std::vector<Pending*>& group) {
  for (auto* p : group) {
    Worker* worker = p->worker;  // `p` may be gone once the flag is set
    worker->committed.store(true, std::memory_order_release);
    worker->committed.notify_one();
  }
}

// Ends the claims of `outcomes`, hands `claimed` over (first one each to the
// workers of `group`, the rest to the queue) and wakes those workers; returns
// the claims to give back because stop() began meanwhile.
std::vector<store::MessageRepo::Claim> Engine::Impl::deliver(
    std::vector<Pending*>& group, const std::vector<store::Outcome>& outcomes,
    std::vector<store::ClaimedMessage> claimed, int capacity) {
  std::vector<store::MessageRepo::Claim> to_release;
  std::size_t queued = 0;
  {
    std::scoped_lock lock(mutex);
    for (const auto& o : outcomes) {
      // By token: a stale outcome's message may carry a newer claim by now.
      if (auto it = claims.find(o.message_id); it != claims.end() && it->second.token == o.lease_token) {
        claims.erase(it);
      }
    }
    if (draining) {
      for (const auto& m : claimed) to_release.push_back({m.id, m.lease_token});
      claimed.clear();
    }
    backlog = capacity > 0 && static_cast<int>(claimed.size()) == capacity;
    wake = wake || backlog;
    for (std::size_t i = 0; i < claimed.size(); ++i) {
      claims[claimed[i].id] = Lease{claimed[i].lease_token, claimed[i].lease_expires_ms};
      if (i < group.size()) {
        group[i]->worker->next = std::move(claimed[i]);
      } else {
        ready.push_back(std::move(claimed[i]));
        ++queued;
      }
    }
    busy_workers -= static_cast<int>(group.size() - std::min(group.size(), claimed.size()));
    if (claims.empty()) settled_cv.notify_all();
  }
  for (std::size_t i = 0; i < queued; ++i) worker_cv.notify_one();
  wake_workers(group);
  return to_release;
}

// ---- workers ------------------------------------------------------------------------

void Engine::Impl::worker_loop(std::stop_token stop, Worker& worker) {
  for (;;) {
    std::optional<store::ClaimedMessage> message;
    bool more = true;
    if (!guarded("worker", [&] {
          message = next_message(stop, worker);
          more = message.has_value();
          if (more) handle(stop, worker, *message);
        })) {
      // Neither recorded nor given back: forget the claim, whose lease expires
      // and the reaper requeues.
      if (message) finish(*message);
    }
    if (!more) return;
  }
}

// The message handed over by the last commit, else one from the queue;
// nullopt when stopped. One claimed before stop() or a sending hold began is
// given back unstarted, its attempt uncounted.
std::optional<store::ClaimedMessage> Engine::Impl::next_message(std::stop_token stop, Worker& worker) {
  for (;;) {
    auto message = worker.next ? std::exchange(worker.next, std::nullopt) : take_work(stop);
    if (!message || (!draining && !sending_held())) return message;
    give_back(worker, *message);
  }
}

std::optional<store::ClaimedMessage> Engine::Impl::take_work(std::stop_token stop) {
  std::unique_lock lock(mutex);
  ++idle_workers;
  // Only a worker that would wait calls for a round: one that finds its
  // message already handed over must not wake the dispatcher for nothing.
  if (backlog && ready.empty()) {
    wake = true;
    dispatcher_cv.notify_one();
  }
  worker_cv.wait(lock, stop, [&] { return !ready.empty(); });
  --idle_workers;
  if (ready.empty()) return std::nullopt;
  auto message = std::move(ready.front());
  ready.pop_front();
  ++busy_workers;
  return message;
}

void Engine::Impl::handle(std::stop_token stop, Worker& worker,
                          const store::ClaimedMessage& message) {
  std::optional<store::Outcome> outcome;
  // STYLE §4: an exception here is a bug; it is recorded on the message as
  // `internal` (retried, then dead-lettered) instead of killing the thread.
  try {
    outcome = process(stop, worker, message);
  } catch (const std::exception& e) {
    outcome = failure_outcome(worker, message, make_error(ErrorCode::internal, e.what()));
  } catch (...) {
    outcome = failure_outcome(worker, message, make_error(ErrorCode::internal, "unknown exception"));
  }
  if (!outcome) return give_back(worker, message);
  guarded("worker", [&] { log_attempt(message, *outcome); });  // a log failure must not lose the outcome
  const bool accepted = outcome->kind == store::Outcome::Kind::sent;
  if (!commit(worker, std::move(*outcome)) && accepted) {  // the dispatcher ends the claim
    log::warn("sent, but the outcome was not recorded; the message may be sent again",
              {{"message_id", message.id}});
  }
}

void Engine::Impl::log_attempt(const store::ClaimedMessage& message, const store::Outcome& outcome) {
  // Successes go at debug: at thousands per second an info line each costs
  // more than the send (docs/PERFORMANCE.md); every failure stays at info.
  const auto level = outcome.kind == store::Outcome::Kind::sent ? log::Level::debug : log::Level::info;
  if (!log::enabled(level)) return;
  log::write(level, "send attempt", {{"message_id", message.id},
                                     {"batch_id", message.batch_id.value_or("")},
                                     {"attempt", message.attempts},
                                     {"outcome", outcome_name(outcome.kind)},
                                     {"error_code", outcome.error_code}});
}

std::optional<store::Outcome> Engine::Impl::process(std::stop_token stop, Worker& worker,
                                                    const store::ClaimedMessage& message) {
  store::Outcome outcome{.message_id = message.id, .lease_token = message.lease_token};
  if (message.suppression_reason) {
    outcome.kind = store::Outcome::Kind::suppressed;
    outcome.error = *message.suppression_reason;
    return outcome;
  }
  auto composed = worker.composer->compose(message);
  if (!composed) return failure_outcome(worker, message, composed.error());
  if (composed->send_before_ms && to_ms(clock.now()) > *composed->send_before_ms) {
    outcome.kind = store::Outcome::Kind::cancelled;
    outcome.error_code = "send_before_passed";
    outcome.error = "not sent before the batch's send_before";
    return outcome;
  }
  auto traffic = message.kind == store::MessageKind::transactional ? Traffic::transactional
                                                                  : Traffic::bulk;
  // Returned to the quota on every path but an accepted send, throws included.
  auto slot = quota.reserve(1, traffic);
  if (!slot) {
    return failure_outcome(worker, message,
                           make_error(ErrorCode::upstream_throttled, "Daily message quota exceeded"));
  }
  // Stopping, or sending went on hold while this worker waited for a token:
  // give the claim back unsent.
  if (!rate.acquire(1, stop) || sending_held()) return std::nullopt;
  auto ses_id = timed_send(*worker.sender, composed->request);
  observe_send(ses_id);
  if (!ses_id) return failure_outcome(worker, message, ses_id.error());
  slot->keep();
  rate.on_success();
  outcome.kind = store::Outcome::Kind::sent;
  outcome.ses_message_id = *ses_id;
  return outcome;
}

store::Outcome Engine::Impl::failure_outcome(Worker& worker, const store::ClaimedMessage& message,
                                             const Error& error) {
  int throttle_streak = 1;
  if (error.code == ErrorCode::upstream_throttled && !is_daily_quota_error(error)) {
    throttle_streak = rate.on_throttled();
  }
  if (is_daily_quota_error(error)) quota.on_quota_exceeded();
  auto decision = policy.decide(message.attempts, error, clock.now(), worker.rng, throttle_streak);
  store::Outcome outcome{.message_id = message.id, .lease_token = message.lease_token};
  outcome.error_code = error_code_name(error);
  outcome.error = error.detail;
  switch (decision.kind) {
    case Decision::Kind::retry:
    case Decision::Kind::quota_pause:
      outcome.kind = store::Outcome::Kind::retry;
      outcome.run_at_ms = to_ms(decision.retry_at);
      outcome.attempt_consumed = decision.kind == Decision::Kind::retry &&
                                 decision.consumes_attempt == ConsumesAttempt::yes;
      break;
    case Decision::Kind::dead_letter:
      outcome.kind = store::Outcome::Kind::dead_letter;
      break;
  }
  return outcome;
}

// Hands `outcome` to the dispatcher and waits until its round committed;
// false when it was fenced off (stale) or given up at stop().
bool Engine::Impl::commit(Worker& worker, store::Outcome outcome) {
  Pending entry{std::move(outcome), &worker};
  worker.committed.store(false, std::memory_order_relaxed);
  bool call = false;
  {
    std::scoped_lock lock(mutex);
    pending.push_back(&entry);
    // The dispatcher needs waking for the first outcome of a round and for
    // the one that completes it, not for every one in between.
    call = pending.size() == 1 || static_cast<int>(pending.size()) >= busy_workers;
  }
  if (call) dispatcher_cv.notify_one();
  worker.committed.wait(false, std::memory_order_acquire);
  return entry.applied;
}

// Returns an unsent claim to the queue, attempt uncounted, and ends it.
void Engine::Impl::give_back(Worker& worker, const store::ClaimedMessage& message) {
  release(*worker.repo, {{message.id, message.lease_token}});
  finish(message);
}

void Engine::Impl::finish(const store::ClaimedMessage& message) {
  std::scoped_lock lock(mutex);
  if (auto it = claims.find(message.id); it != claims.end() && it->second.token == message.lease_token) {
    claims.erase(it);
  }
  --busy_workers;
  if (claims.empty()) settled_cv.notify_all();
}

void Engine::Impl::count(const store::Outcome& outcome, store::Recorded recorded) {
  if (recorded == store::Recorded::stale) {
    ++stale;
    log::warn("outcome fenced off: the lease had moved on", {{"message_id", outcome.message_id}});
    return;
  }
  metrics::count_message(outcome_name(outcome.kind));
  switch (outcome.kind) {
    case store::Outcome::Kind::sent: ++sent; break;
    case store::Outcome::Kind::retry: ++retried; break;
    case store::Outcome::Kind::dead_letter: ++dead_lettered; break;
    case store::Outcome::Kind::suppressed: ++suppressed; break;
    case store::Outcome::Kind::cancelled: ++cancelled; break;
  }
}

// ---- reaper ---------------------------------------------------------------------------

void Engine::Impl::reaper_loop(std::stop_token stop) {
  store::MessageRepo repo(*reaper_db, clock);
  while (!stop.stop_requested()) {
    guarded("reaper", [&] { reap(repo); });
    last_tick = SteadyClock::now().time_since_epoch().count();
    ++reaper_ticks;
    wait_or_stop(stop, k_reaper_interval);
  }
}

void Engine::Impl::reap(store::MessageRepo& repo) {
  const auto now_ms = to_ms(clock.now());
  auto requeued = repo.requeue_expired(requeue_cutoff(now_ms));
  if (!requeued && requeued.error().code == ErrorCode::storage_unavailable) {
    // Every other step would wait out the busy timeout too.
    set_storage_problem(StorageSource::reaper, &requeued.error());
    return;
  }
  set_storage_problem(StorageSource::reaper, nullptr);
  auto promoted = repo.promote_scheduled(now_ms);
  auto expired = repo.expire_send_before(now_ms);
  auto changes = repo.update_batch_statuses();
  for (const Error* e : {requeued ? nullptr : &requeued.error(), promoted ? nullptr : &promoted.error(),
                         expired ? nullptr : &expired.error(), changes ? nullptr : &changes.error()}) {
    if (e) log::warn("reaper step failed", {{"error", e->detail}});
  }
  if (requeued && *requeued > 0) log::warn("requeued expired leases", {{"count", *requeued}});
  if (expired && *expired > 0) log::info("cancelled messages past send_before", {{"count", *expired}});
  if (changes) {
    for (const auto& c : *changes) {
      log::info("batch status changed", {{"batch_id", c.batch_id}, {"from", store::to_string(c.from)}, {"to", store::to_string(c.to)}});
    }
  }
  if ((requeued && *requeued > 0) || (promoted && *promoted > 0)) {
    std::scoped_lock lock(mutex);
    wake = true;
    dispatcher_cv.notify_one();
  }
}

// Expired leases older than every claim this process still holds: those are
// its own, waiting for a late send or for a commit the database refused, and
// requeueing one would send its message twice.
std::int64_t Engine::Impl::requeue_cutoff(std::int64_t now_ms) {
  std::scoped_lock lock(mutex);
  for (const auto& [id, lease] : claims) now_ms = std::min(now_ms, lease.expires_ms);
  return now_ms;
}

// Records that `source` could (`error` null) or could not write; logs and
// counts the changes only, so a long outage is one line at each end.
void Engine::Impl::set_storage_problem(StorageSource source, const Error* error, std::size_t outcomes_held) {
  const char* source_name = source == StorageSource::dispatcher ? "dispatcher" : "reaper";
  std::scoped_lock lock(storage_mutex);
  const bool had = storage_problems.count(source) != 0;
  if (!error) {
    if (!had) return;
    auto held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - storage_since[source]);
    storage_problems.erase(source);
    log::info("database writable again", {{"source", source_name}, {"held_ms", held_ms.count()}});
    if (storage_problems.empty()) metrics::set_storage_hold(false);
    return;
  }
  std::string problem = "database not writable: " + error->detail;
  if (outcomes_held > 0) problem += " (" + std::to_string(outcomes_held) + " outcomes held in memory)";
  storage_problems[source] = problem;
  if (had) return;
  storage_since[source] = SteadyClock::now();
  log::error("database not writable; retrying", {{"source", source_name},
                                                   {"outcomes_held", outcomes_held},
                                                   {"error", error->detail}});
  if (storage_problems.size() == 1) metrics::set_storage_hold(true);
}

// ---- sending hold and the account thread ---------------------------------------------

// Tells the breaker how SES answered a send. The common case, an answer while
// nothing is wrong, costs one relaxed atomic load.
void Engine::Impl::observe_send(const Result<std::string>& answer) {
  const auto fault = answer ? ServiceFault::none : service_fault(answer.error());
  if (fault == ServiceFault::none && hold_flag.load(std::memory_order_relaxed) == k_clean) return;
  std::scoped_lock lock(hold_mutex);
  if (fault == ServiceFault::none) {
    breaker.on_answer();
    return publish_hold();
  }
  auto change = breaker.on_service_fault(fault, error_text(answer.error()), clock.now());
  publish_hold();
  if (change != CircuitBreaker::Change::hold_started) return;
  hold_began = SteadyClock::now();
  log::warn("sending on hold; probing SES with GetAccount",
            {{"reason", to_string(fault)}, {"error", breaker.detail()}});
  metrics::set_sending_hold(to_string(fault));
}

void Engine::Impl::publish_hold() {
  int flag = k_faulted;
  if (breaker.clean()) flag = k_clean;
  else if (breaker.on_hold()) flag = k_on_hold;
  else if (breaker.state() == CircuitBreaker::State::half_open) flag = k_half_open;
  hold_flag.store(flag, std::memory_order_relaxed);
}

// GetAccount every k_account_refresh (the send rate under "auto", the daily
// quota) and, while sending is on hold, whenever a probe is due. A thread of
// its own: a GetAccount to an unreachable SES can take the whole HTTP
// timeout, which must not stall the reaper (the liveness signal).
void Engine::Impl::account_loop(std::stop_token stop) {
  auto next_refresh = SteadyClock::now();
  while (!stop.stop_requested()) {
    if (!guarded("account", [&] { account_step(next_refresh); })) {
      next_refresh = SteadyClock::now() + k_account_retry;
    }
    wait_or_stop(stop, k_account_tick);
  }
}

void Engine::Impl::account_step(SteadyClock::time_point& next_refresh) {
  bool probe = false;
  {
    std::scoped_lock lock(hold_mutex);
    probe = breaker.probe_due(clock.now());
  }
  if (!probe && SteadyClock::now() < next_refresh) return;
  auto answer = refresh_account();
  next_refresh = SteadyClock::now() + (answer ? std::chrono::seconds(k_account_refresh) : k_account_retry);
  if (probe) return on_probe(answer);
  if (!answer) {
    log::warn("GetAccount failed; keeping the current send rate and quota", {{"error", answer.error().detail}});
  }
}

Status Engine::Impl::refresh_account() {
  auto asked = SteadyClock::now();
  auto account = account_sender->account();
  metrics::observe_ses_request("GetAccount", account ? nullptr : &account.error(), SteadyClock::now() - asked);
  if (!account) return std::move(account).error();
  if (!config.ses.max_send_rate) {
    rate.set_ceiling(SendRate::ceiling_from_account(account->max_send_rate));
  }
  quota.refresh(account->max_24_hour_send, account->sent_last_24_hours);
  return {};
}

// Any answer from SES ends the hold, a refusal or a malformed GetAccount
// included: an IAM policy may allow SendEmail and not GetAccount, and the
// half-open trial send is the real test.
void Engine::Impl::on_probe(const Status& answer) {
  const auto fault = answer ? ServiceFault::none : service_fault(answer.error());
  const bool answered = fault != ServiceFault::unavailable || answer.error().upstream_code == "MalformedResponse";
  CircuitBreaker::Change change;
  std::chrono::milliseconds held{0};
  {
    std::scoped_lock lock(hold_mutex);
    change = breaker.on_probe(answered, fault, answer ? std::string() : error_text(answer.error()), clock.now());
    publish_hold();
    held = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - hold_began);
  }
  if (change != CircuitBreaker::Change::hold_ended) {
    log::debug("SES probe failed; sending stays on hold", {{"error", answer ? "" : answer.error().detail}});
    return;
  }
  log::info("sending resumed: SES answered", {{"held_ms", held.count()}});
  metrics::set_sending_hold("");
  std::scoped_lock lock(mutex);
  wake = true;
  dispatcher_cv.notify_one();
}

// ---- Engine ----------------------------------------------------------------------------

Engine::Engine(const Config& config, std::string db_path, const Clock& clock,
               SenderFactory make_sender)
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
  log::info("job engine started", {{"workers", m_impl->config.worker.concurrency},
                                   {"send_rate", m_impl->rate.current_rate()}});
  return {};
}

void Engine::notify() {
  std::scoped_lock lock(m_impl->mutex);
  m_impl->wake = true;
  m_impl->dispatcher_cv.notify_one();
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
  {
    std::scoped_lock lock(m_impl->mutex);
    s.in_flight = static_cast<int>(impl.claims.size());
    s.stopping = impl.draining;
  }
  s.send_rate = impl.rate.current_rate();
  auto since_tick = SteadyClock::now().time_since_epoch() -
                    SteadyClock::duration(impl.last_tick.load());
  s.alive = impl.running && since_tick < k_alive_window;
  s.bulk_held = !impl.quota.allows(1, Traffic::bulk);
  {
    std::scoped_lock lock(impl.hold_mutex);
    s.sending_on_hold = impl.breaker.on_hold();
    if (s.sending_on_hold) {
      s.hold_reason = std::string(to_string(impl.breaker.fault())) + ": " + impl.breaker.detail();
    }
  }
  {
    std::scoped_lock lock(impl.storage_mutex);
    // The dispatcher's problem first: it says how many outcomes wait.
    if (!impl.storage_problems.empty()) s.storage_problem = impl.storage_problems.begin()->second;
  }
  s.sent = impl.sent;
  s.retried = impl.retried;
  s.dead_lettered = impl.dead_lettered;
  s.suppressed = impl.suppressed;
  s.cancelled = impl.cancelled;
  s.stale = impl.stale;
  s.claim_rounds = impl.claim_rounds;
  s.reaper_ticks = impl.reaper_ticks;
  return s;
}

}  // namespace mailer::jobs
