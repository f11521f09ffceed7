#pragma once
// The hand-off between the dispatcher and the workers: the one object through
// which workers give outcomes to the dispatcher and receive claimed messages,
// and the only state they share (one mutex).
//
// Owns: claimed messages not yet taken (`ready`), every claim this process
// holds and has not recorded (`claims`, with its lease), the outcomes waiting
// for the next round (`pending`), the idle and busy worker counts, and the
// draining / abandoned flags of a stop.
// Threads: thread-safe. Workers call take(), submit() and finish(); the
// dispatcher wait_for_round(), deliver() and wait_to_retry(); the reaper
// requeue_cutoff(); anyone wake(); Engine the stop side.
// Guarantees:
// - Claimed-but-unsent work stays small: a round claims at most as many
//   messages as workers are free after it (idle, or reporting in it); none
//   while sending is on hold or draining, one at a time while half-open.
// - A claim stays in `claims` until its outcome's round ended, it was given
//   back (finish()) or stop() released it, so requeue_cutoff() never lets the
//   reaper requeue a message this process may still send or record.
// - A worker that submitted an outcome is woken once, by the round that took
//   it, with its next message (if any) already in its Mailbox.
// - Once draining, nothing more is handed out; once abandoned, a round the
//   database refuses stops retrying so stop() can join the workers.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "jobs/sending_hold.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::jobs {

class HandOff {
 public:
  /// A worker's end of the hand-off.
  struct Mailbox {
    // Set by the dispatcher when this worker's outcome is committed. An atomic
    // wait on the worker, not a condition variable here: each round wakes
    // exactly its own workers, and the flag outlives the Submission.
    std::atomic<bool> committed{false};
    // The message the committing round handed this worker directly, so that
    // it goes on without touching `ready`. Written before `committed` is
    // set, read after.
    std::optional<store::ClaimedMessage> next;
  };
  /// An outcome on its way to the dispatcher; lives on the worker's stack
  /// until its round wakes the worker.
  struct Submission {
    store::Outcome outcome;
    Mailbox* mailbox = nullptr;
    bool applied = false;  // recorded; false when stale, or given up at stop()
  };

  // ---- workers ----
  /// The next message from `ready` (a worker now busy); nullopt when `stop`.
  std::optional<store::ClaimedMessage> take(std::stop_token stop);
  /// Hands `outcome` to the dispatcher and waits until its round ended; true
  /// when it was recorded, false when fenced off (stale) or given up at stop().
  [[nodiscard]] bool submit(Mailbox& mailbox, store::Outcome outcome);
  /// Ends a claim that will not be recorded (given back, or lost to a bug)
  /// and frees its worker.
  void finish(const store::ClaimedMessage& message);
  bool draining() const { return m_draining.load(); }

  // ---- dispatcher ----
  /// Waits for outcomes, wake() with free workers, or `poll`; moves the
  /// outcomes into `group` and returns how many messages to claim; nullopt
  /// when stopped with nothing left to record.
  std::optional<int> wait_for_round(std::stop_token stop, std::vector<Submission*>& group, const SendingHold& hold,
                                    std::chrono::milliseconds poll, std::chrono::microseconds group_wait);
  /// Ends the claims of `outcomes`, hands `claimed` out (first one each to
  /// the workers of `group`, the rest to `ready`) and wakes those workers;
  /// returns the claims to release because stop() began meanwhile.
  std::vector<store::MessageRepo::Claim> deliver(std::vector<Submission*>& group,
                                                 const std::vector<store::Outcome>& outcomes,
                                                 std::vector<store::ClaimedMessage> claimed, int capacity);
  /// Wakes the workers of `group` with nothing handed over (a round that threw).
  static void wake_workers(std::vector<Submission*>& group);
  /// Sleeps `delay` before retrying a refused round; false once abandoned.
  bool wait_to_retry(std::chrono::milliseconds delay);

  // ---- anyone ----
  /// Starts a round now (notify(), a reaper requeue, the end of a hold).
  void wake();
  /// `now_ms`, or the earliest lease expiry of a claim this process holds if
  /// sooner: the reaper requeues only leases expired before it.
  std::int64_t requeue_cutoff(std::int64_t now_ms);
  /// Claims held and not yet recorded.
  int in_flight() const;

  // ---- stop ----
  /// Claims nothing more; returns the handed-out claims no worker took.
  std::vector<store::MessageRepo::Claim> begin_drain();
  /// Waits until `deadline` for every claim to end; returns those left.
  std::vector<store::MessageRepo::Claim> wait_settled(SteadyClock::time_point deadline);
  /// Gives up outcomes the database refuses, so waiting workers can go.
  void abandon();

 private:
  struct Lease {
    std::int64_t token = 0;
    std::int64_t expires_ms = 0;
  };
  int free_slots(const SendingHold& hold) const;                      // under m_mutex
  void end_claim(const std::string& message_id, std::int64_t token);  // under m_mutex

  mutable std::mutex m_mutex;
  std::condition_variable_any m_dispatcher_cv;  // work to claim or outcomes to record
  std::condition_variable_any m_worker_cv;      // `m_ready` has messages
  std::condition_variable_any m_settled_cv;     // `m_claims` became empty
  std::deque<store::ClaimedMessage> m_ready;
  std::map<std::string, Lease> m_claims;  // every claim not yet recorded, by message id
  std::vector<Submission*> m_pending;     // outcomes waiting for the next round
  int m_idle_workers = 0;
  int m_busy_workers = 0;  // took a message and have not finished it
  bool m_wake = false;     // wake() or a worker freed up while a backlog exists
  bool m_backlog = false;  // the last claim was full: more work is probably due
  std::atomic<bool> m_draining{false};
  bool m_abandoned = false;
};

}  // namespace mailer::jobs
