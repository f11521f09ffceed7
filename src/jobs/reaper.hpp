#pragma once
// The reaper: the engine's housekeeping thread and its liveness signal.
//
// Owns: its thread and its connection's use while running (the engine opens
// it with Sync::full), the tick count and the time of the last tick.
// Thread: its own, every Engine::k_reaper_interval. Each tick: expired
// leases back to `queued` (never one whose claim the HandOff still holds:
// requeue_cutoff), scheduled messages due into `queued`, messages past
// send_before cancelled, batch statuses updated (one log line each); then
// wakes the dispatcher when it made work due.
// May not touch: the HandOff beyond requeue_cutoff() and wake(); any message
// this process holds a claim on.
// Guarantees: a tick that throws is logged and the next one runs; alive()
// turns false when ticks stop (a hung database or thread), which /health and
// the systemd watchdog report.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <stop_token>
#include <thread>

#include "jobs/engine_support.hpp"
#include "jobs/hand_off.hpp"
#include "jobs/storage_health.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::jobs {

class Reaper {
 public:
  /// `db`, `clock`, `hand_off` and `storage` must outlive the reaper.
  Reaper(store::Database& db, const Clock& clock, std::chrono::milliseconds interval, HandOff& hand_off,
         StorageHealth& storage)
      : m_db(db), m_clock(clock), m_interval(interval), m_hand_off(hand_off), m_storage(storage) {}

  void start();
  /// Stops and joins the thread; its connection is free afterwards.
  void stop();

  /// Ticked within the last 15 s. NOTE: longer than the store's 5 s busy
  /// timeout plus an interval: a locked database stalls a step that long,
  /// and that is not a hang.
  bool alive() const;
  std::uint64_t ticks() const { return m_ticks.load(); }

 private:
  void loop(std::stop_token stop);
  void reap(store::MessageRepo& repo);

  store::Database& m_db;
  const Clock& m_clock;
  const std::chrono::milliseconds m_interval;
  HandOff& m_hand_off;
  StorageHealth& m_storage;
  std::atomic<SteadyClock::rep> m_last_tick{0};
  std::atomic<std::uint64_t> m_ticks{0};
  std::jthread m_thread;
};

}  // namespace mailer::jobs
