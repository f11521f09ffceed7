#include "jobs/reaper.hpp"

#include "mailer/core/log.hpp"

namespace mailer::jobs {
namespace {
constexpr std::chrono::seconds k_alive_window{15};
}  // namespace

void Reaper::start() {
  m_last_tick = SteadyClock::now().time_since_epoch().count();
  m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void Reaper::stop() {
  m_thread.request_stop();
  if (m_thread.joinable()) m_thread.join();
}

bool Reaper::alive() const {
  auto since_tick = SteadyClock::now().time_since_epoch() - SteadyClock::duration(m_last_tick.load());
  return since_tick < k_alive_window;
}

void Reaper::loop(std::stop_token stop) {
  store::MessageRepo repo(m_db, m_clock);
  while (!stop.stop_requested()) {
    guarded("reaper", [&] { reap(repo); });
    m_last_tick = SteadyClock::now().time_since_epoch().count();
    ++m_ticks;
    wait_or_stop(stop, m_interval);
  }
}

void Reaper::reap(store::MessageRepo& repo) {
  const auto now_ms = to_ms(m_clock.now());
  auto requeued = repo.requeue_expired(m_hand_off.requeue_cutoff(now_ms));
  if (!requeued && requeued.error().code == ErrorCode::storage_unavailable) {
    // Every other step would wait out the busy timeout too.
    m_storage.report(StorageHealth::Source::reaper, &requeued.error());
    return;
  }
  m_storage.report(StorageHealth::Source::reaper, nullptr);
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
      log::info("batch status changed",
                {{"batch_id", c.batch_id}, {"from", store::to_string(c.from)}, {"to", store::to_string(c.to)}});
    }
  }
  if ((requeued && *requeued > 0) || (promoted && *promoted > 0)) m_hand_off.wake();
}

}  // namespace mailer::jobs
