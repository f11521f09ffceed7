#include "jobs/hand_off.hpp"

#include <algorithm>

namespace mailer::jobs {

// ---- workers ----

std::optional<store::ClaimedMessage> HandOff::take(std::stop_token stop) {
  std::unique_lock lock(m_mutex);
  ++m_idle_workers;
  // Only a worker that would wait calls for a round: one that finds its
  // message already handed over must not wake the dispatcher for nothing.
  if (m_backlog && m_ready.empty()) {
    m_wake = true;
    m_dispatcher_cv.notify_one();
  }
  m_worker_cv.wait(lock, stop, [&] { return !m_ready.empty(); });
  --m_idle_workers;
  if (m_ready.empty()) return std::nullopt;
  auto message = std::move(m_ready.front());
  m_ready.pop_front();
  ++m_busy_workers;
  return message;
}

bool HandOff::submit(Mailbox& mailbox, store::Outcome outcome) {
  Submission entry{std::move(outcome), &mailbox};
  mailbox.committed.store(false, std::memory_order_relaxed);
  bool call = false;
  {
    std::scoped_lock lock(m_mutex);
    m_pending.push_back(&entry);
    // The dispatcher needs waking for the first outcome of a round and for
    // the one that completes it, not for every one in between.
    call = m_pending.size() == 1 || static_cast<int>(m_pending.size()) >= m_busy_workers;
  }
  if (call) m_dispatcher_cv.notify_one();
  mailbox.committed.wait(false, std::memory_order_acquire);
  return entry.applied;
}

void HandOff::finish(const store::ClaimedMessage& message) {
  std::scoped_lock lock(m_mutex);
  end_claim(message.id, message.lease_token);
  --m_busy_workers;
  if (m_claims.empty()) m_settled_cv.notify_all();
}

// ---- dispatcher ----

int HandOff::free_slots(const SendingHold& hold) const {
  switch (m_draining ? HoldState::on_hold : hold.state()) {
    case HoldState::on_hold: return 0;
    // Half-open: one trial message at a time until SES answers a send.
    case HoldState::half_open: return m_claims.empty() && m_ready.empty() ? std::min(m_idle_workers, 1) : 0;
    default: return m_idle_workers - static_cast<int>(m_ready.size());
  }
}

std::optional<int> HandOff::wait_for_round(std::stop_token stop, std::vector<Submission*>& group,
                                           const SendingHold& hold, std::chrono::milliseconds poll,
                                           std::chrono::microseconds group_wait) {
  std::unique_lock lock(m_mutex);
  m_dispatcher_cv.wait_for(lock, stop, poll, [&] { return !m_pending.empty() || (m_wake && free_slots(hold) > 0); });
  if (stop.stop_requested() && m_pending.empty()) return std::nullopt;
  if (!m_pending.empty()) {
    // Give the other busy workers a moment to report: one round for all.
    m_dispatcher_cv.wait_for(lock, group_wait, [&] { return static_cast<int>(m_pending.size()) >= m_busy_workers; });
  }
  group.swap(m_pending);
  m_wake = false;
  // The workers whose outcomes are in this round are free once it commits.
  // (Messages handed over in the last round may still outnumber idle workers.)
  if (hold.state() >= HoldState::half_open) return free_slots(hold);
  return m_draining ? 0 : std::max(0, free_slots(hold) + static_cast<int>(group.size()));
}

std::vector<store::MessageRepo::Claim> HandOff::deliver(std::vector<Submission*>& group,
                                                        const std::vector<store::Outcome>& outcomes,
                                                        std::vector<store::ClaimedMessage> claimed, int capacity) {
  std::vector<store::MessageRepo::Claim> to_release;
  std::size_t queued = 0;
  {
    std::scoped_lock lock(m_mutex);
    for (const auto& o : outcomes) end_claim(o.message_id, o.lease_token);
    if (m_draining) {
      for (const auto& m : claimed) to_release.push_back({m.id, m.lease_token});
      claimed.clear();
    }
    m_backlog = capacity > 0 && static_cast<int>(claimed.size()) == capacity;
    m_wake = m_wake || m_backlog;
    for (std::size_t i = 0; i < claimed.size(); ++i) {
      m_claims[claimed[i].id] = Lease{claimed[i].lease_token, claimed[i].lease_expires_ms};
      if (i < group.size()) {
        group[i]->mailbox->next = std::move(claimed[i]);
      } else {
        m_ready.push_back(std::move(claimed[i]));
        ++queued;
      }
    }
    m_busy_workers -= static_cast<int>(group.size() - std::min(group.size(), claimed.size()));
    if (m_claims.empty()) m_settled_cv.notify_all();
  }
  for (std::size_t i = 0; i < queued; ++i) m_worker_cv.notify_one();
  wake_workers(group);
  return to_release;
}

void HandOff::wake_workers(std::vector<Submission*>& group) {
  for (auto* s : group) {
    Mailbox* mailbox = s->mailbox;  // `s` may be gone once the flag is set
    mailbox->committed.store(true, std::memory_order_release);
    mailbox->committed.notify_one();
  }
}

bool HandOff::wait_to_retry(std::chrono::milliseconds delay) {
  std::unique_lock lock(m_mutex);
  return !m_dispatcher_cv.wait_for(lock, delay, [&] { return m_abandoned; });
}

// ---- anyone ----

void HandOff::wake() {
  std::scoped_lock lock(m_mutex);
  m_wake = true;
  m_dispatcher_cv.notify_one();
}

// Those older leases are this process's own, waiting for a late send or for
// a commit the database refused; requeueing one would send its message twice.
std::int64_t HandOff::requeue_cutoff(std::int64_t now_ms) {
  std::scoped_lock lock(m_mutex);
  for (const auto& [id, lease] : m_claims) now_ms = std::min(now_ms, lease.expires_ms);
  return now_ms;
}

int HandOff::in_flight() const {
  std::scoped_lock lock(m_mutex);
  return static_cast<int>(m_claims.size());
}

// ---- stop ----

std::vector<store::MessageRepo::Claim> HandOff::begin_drain() {
  std::vector<store::MessageRepo::Claim> not_started;
  std::scoped_lock lock(m_mutex);
  m_draining = true;
  for (const auto& m : m_ready) {
    not_started.push_back({m.id, m.lease_token});
    m_claims.erase(m.id);
  }
  m_ready.clear();
  return not_started;
}

std::vector<store::MessageRepo::Claim> HandOff::wait_settled(SteadyClock::time_point deadline) {
  std::vector<store::MessageRepo::Claim> unfinished;
  std::unique_lock lock(m_mutex);
  m_settled_cv.wait_until(lock, deadline, [&] { return m_claims.empty(); });
  for (const auto& [id, lease] : m_claims) unfinished.push_back({id, lease.token});
  return unfinished;
}

void HandOff::abandon() {
  {
    std::scoped_lock lock(m_mutex);
    m_abandoned = true;
  }
  m_dispatcher_cv.notify_all();
}

// By token: a stale outcome's message may carry a newer claim by now.
void HandOff::end_claim(const std::string& message_id, std::int64_t token) {
  if (auto it = m_claims.find(message_id); it != m_claims.end() && it->second.token == token) {
    m_claims.erase(it);
  }
}

}  // namespace mailer::jobs
