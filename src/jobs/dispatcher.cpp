#include "jobs/dispatcher.hpp"

#include <algorithm>

#include "jobs/engine_support.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"

namespace mailer::jobs {
namespace {
// Waits between tries of a round that could not commit: 100 ms doubling to 5 s.
constexpr std::chrono::milliseconds k_record_retry_first{100};
constexpr std::chrono::milliseconds k_record_retry_max{5000};
constexpr std::chrono::seconds k_checkpoint_interval{1};

std::chrono::milliseconds retry_delay(int failures) {
  auto delay = k_record_retry_first;
  for (int i = 0; i < failures && delay < k_record_retry_max; ++i) delay = std::min(delay * 2, k_record_retry_max);
  return delay;
}
}  // namespace

void Dispatcher::start() {
  m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void Dispatcher::stop() {
  m_thread.request_stop();
  if (m_thread.joinable()) m_thread.join();
}

void Dispatcher::loop(std::stop_token stop) {
  store::MessageRepo repo(m_db, m_clock);
  Group group;
  auto last_checkpoint = SteadyClock::now();
  bool wrote = false;
  while (auto capacity = m_hand_off.wait_for_round(stop, group, m_hold, m_timing.poll, m_timing.group_commit)) {
    if (!group.empty() || *capacity > 0) {
      // round() sets the workers free itself; should even that throw, do it
      // here (their claims then stay until stop()).
      if (!guarded("dispatcher", [&] { round(repo, group, *capacity); })) HandOff::wake_workers(group);
      wrote = true;
    }
    group.clear();
    // The durability point of this connection's `deferred` commits.
    if (wrote && SteadyClock::now() - last_checkpoint >= k_checkpoint_interval) {
      checkpoint(m_db);
      last_checkpoint = SteadyClock::now();
      wrote = false;
    }
  }
}

void Dispatcher::round(store::MessageRepo& repo, Group& group, int capacity) {
  std::vector<store::Outcome> outcomes;
  outcomes.reserve(group.size());
  for (auto* s : group) outcomes.push_back(std::move(s->outcome));
  std::vector<store::ClaimedMessage> claimed;
  // After a bug's exception the round still ends its claims and frees its
  // workers: a claim left in the HandOff would hold back the reaper for good.
  guarded("dispatcher", [&] { claimed = record(repo, group, outcomes, capacity); });
  release_claims(repo, m_hand_off.deliver(group, outcomes, std::move(claimed), capacity));
}

// Commits the round and tells each Submission whether its outcome applied;
// returns the messages claimed.
std::vector<store::ClaimedMessage> Dispatcher::record(store::MessageRepo& repo, Group& group,
                                                      const std::vector<store::Outcome>& outcomes, int capacity) {
  auto cycle = commit_round(repo, outcomes, capacity);
  if (capacity > 0) ++m_counts.claim_rounds;
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
std::optional<store::MessageRepo::Cycle> Dispatcher::commit_round(store::MessageRepo& repo,
                                                                  const std::vector<store::Outcome>& outcomes,
                                                                  int capacity) {
  for (int failures = 0;; ++failures) {
    auto cycle = try_round(repo, outcomes, capacity);
    if (cycle) {
      m_storage.report(StorageHealth::Source::dispatcher, nullptr);
      return std::move(*cycle);
    }
    m_storage.report(StorageHealth::Source::dispatcher, &cycle.error(), outcomes.size());
    if (outcomes.empty()) return std::nullopt;
    if (!m_hand_off.wait_to_retry(retry_delay(failures))) {
      log::error("stopping with outcomes the database refused; those messages may be sent again",
                 {{"count", outcomes.size()}, {"error", cycle.error().detail}});
      return std::nullopt;
    }
  }
}

Result<store::MessageRepo::Cycle> Dispatcher::try_round(store::MessageRepo& repo,
                                                        const std::vector<store::Outcome>& outcomes, int capacity) {
  // Bulk waits while the daily quota is spent; transactional mail goes on.
  auto scope = m_quota.allows(1, Traffic::bulk) ? store::ClaimScope::all : store::ClaimScope::transactional_only;
  const auto lease_ms = std::chrono::milliseconds(m_config.worker.lease).count();
  // A bug's exception must not drop the outcomes either: it is retried too.
  try {
    return repo.record_and_claim(outcomes, capacity, to_ms(m_clock.now()), lease_ms, scope);
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, std::string("record outcomes: ") + e.what());
  }
}

void Dispatcher::count(const store::Outcome& outcome, store::Recorded recorded) {
  if (recorded == store::Recorded::stale) {
    ++m_counts.stale;
    log::warn("outcome fenced off: the lease had moved on", {{"message_id", outcome.message_id}});
    return;
  }
  metrics::count_message(outcome_name(outcome.kind));
  switch (outcome.kind) {
    case store::Outcome::Kind::sent: ++m_counts.sent; break;
    case store::Outcome::Kind::retry: ++m_counts.retried; break;
    case store::Outcome::Kind::dead_letter: ++m_counts.dead_lettered; break;
    case store::Outcome::Kind::suppressed: ++m_counts.suppressed; break;
    case store::Outcome::Kind::cancelled: ++m_counts.cancelled; break;
  }
}

}  // namespace mailer::jobs
