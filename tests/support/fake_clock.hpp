#pragma once
// A Clock that only moves when told to, for tests of anything time-based
// (throttling, leases, retries). Safe to read from several threads.

#include <atomic>
#include <chrono>
#include <cstdint>

#include "mailer/core/clock.hpp"

namespace mailer::test {

class FakeClock final : public Clock {
 public:
  /// Starts at `start_ms` since the epoch (default 2026-01-01T00:00:00Z).
  explicit FakeClock(std::int64_t start_ms = 1767225600000) : m_now_ms(start_ms) {}
  time_point now() const override { return from_ms(m_now_ms.load()); }
  std::int64_t now_ms() const { return m_now_ms.load(); }
  void set_ms(std::int64_t ms) { m_now_ms.store(ms); }
  void advance(std::chrono::milliseconds by) { m_now_ms.fetch_add(by.count()); }

 private:
  std::atomic<std::int64_t> m_now_ms;
};

}  // namespace mailer::test
