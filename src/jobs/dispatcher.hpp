#pragma once
// The dispatcher: the one thread that writes outcomes and claims messages.
//
// Owns: its thread, its connection's use while running (Sync::deferred,
// checkpointed by this thread alone), and the counts of outcomes applied.
// Thread: its own. One transaction per round (MessageRepo::record_and_claim):
// records every outcome the workers submitted (group commit) and claims as
// many due messages as HandOff::wait_for_round allows, then HandOff::deliver
// hands them out. Between rounds, at most once a second after a write, a
// RESTART checkpoint: the durability point of its deferred commits.
// May not touch: SES, the send rate; the quota only to choose the claim scope.
// Guarantees:
// - An outcome is never dropped while the process lives: a round the database
//   refuses is retried, 100 ms doubling to 5 s, until it commits or stop()
//   abandons it (HandOff::wait_to_retry); its workers wait meanwhile.
// - Every round ends its claims and wakes its workers, even after a bug's
//   exception; a claim left behind would hold back the reaper for good.
// - Fencing: every outcome carries its claim's lease token; one whose lease
//   moved on is counted `stale` and changes nothing (MessageRepo).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <thread>
#include <vector>

#include "jobs/hand_off.hpp"
#include "jobs/sending_hold.hpp"
#include "jobs/storage_health.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::jobs {

/// Outcomes applied since start, by kind, and the claim rounds run.
struct OutcomeCounts {
  std::atomic<std::uint64_t> sent{0}, retried{0}, dead_lettered{0}, suppressed{0}, cancelled{0}, stale{0},
      claim_rounds{0};
};

class Dispatcher {
 public:
  struct Timing {
    std::chrono::milliseconds poll;          // a round at least this often
    std::chrono::microseconds group_commit;  // how long a round waits for more outcomes
  };
  /// Every reference must outlive the dispatcher; `config` is read for worker.lease.
  Dispatcher(store::Database& db, const Config& config, const Clock& clock, Timing timing, const DailyQuota& quota,
             const SendingHold& hold, HandOff& hand_off, StorageHealth& storage)
      : m_db(db),
        m_config(config),
        m_clock(clock),
        m_timing(timing),
        m_quota(quota),
        m_hold(hold),
        m_hand_off(hand_off),
        m_storage(storage) {}

  void start();
  /// Stops and joins, after recording what the workers still submit (stop the
  /// workers first); its connection is free afterwards.
  void stop();

  const OutcomeCounts& counts() const { return m_counts; }

 private:
  using Group = std::vector<HandOff::Submission*>;
  void loop(std::stop_token stop);
  void round(store::MessageRepo& repo, Group& group, int capacity);
  std::vector<store::ClaimedMessage> record(store::MessageRepo& repo, Group& group,
                                            const std::vector<store::Outcome>& outcomes, int capacity);
  std::optional<store::MessageRepo::Cycle> commit_round(store::MessageRepo& repo,
                                                        const std::vector<store::Outcome>& outcomes, int capacity);
  Result<store::MessageRepo::Cycle> try_round(store::MessageRepo& repo, const std::vector<store::Outcome>& outcomes,
                                              int capacity);
  void count(const store::Outcome& outcome, store::Recorded recorded);

  store::Database& m_db;
  const Config& m_config;
  const Clock& m_clock;
  const Timing m_timing;
  const DailyQuota& m_quota;
  const SendingHold& m_hold;
  HandOff& m_hand_off;
  StorageHealth& m_storage;
  OutcomeCounts m_counts;
  std::jthread m_thread;
};

}  // namespace mailer::jobs
