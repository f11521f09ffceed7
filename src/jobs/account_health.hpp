#pragma once
// What the account thread knows about SES GetAccount: when it last answered,
// how many calls in a row failed and why, and which send rate that leaves in
// force. Read by /ready (degraded), /metrics and the account thread's log.
//
// Owns: that state, behind one mutex. No clock of its own: callers pass the
// times in, so the state machine is tested without threads.
// Threads: the account thread writes; Engine::stats() (HTTP threads) reads.
// Guarantees: degraded_reason() is set from the k_degraded_after-th failure in
// a row until the next success; log_due() answers true on the first failure,
// at most once per k_repeat_log while failing, and once on recovery.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/engine_support.hpp"
#include "mailer/core/clock.hpp"

namespace mailer::jobs {

class AccountHealth {
 public:
  /// Failures in a row after which /ready reports degraded: with retries 5 s
  /// apart, about 10 s of failing GetAccount.
  static constexpr int k_degraded_after = 3;
  /// While failing, the "still failing" log line repeats at most this often.
  static constexpr std::chrono::seconds k_repeat_log{60};
  /// Longest error detail kept (bytes, cut on a UTF-8 boundary): SES's words
  /// are outside input.
  static constexpr std::size_t k_max_detail = 200;

  /// What a call changed, for the one log line the caller writes.
  enum class Change { none, first_success, first_failure, still_failing, recovered };

  struct Snapshot {
    std::optional<Clock::time_point> last_success;
    int consecutive_failures = 0;
    std::optional<Clock::time_point> failing_since;  // first failure of the current run
    std::string last_error;                          // empty after a success
    double rate = 0;                                 // the send rate ceiling in force, msg/s
    std::string why;                                 // where `rate` comes from
    /// SendQuota of the last answer (msg/s; messages, -1 = unlimited); 0 before any.
    double account_max_send_rate = 0;
    double account_max_24_hour_send = 0;
  };

  /// `fixed_rate`: ses.max_send_rate (nullopt: "auto"); `start_rate`: the
  /// rate used under "auto" until GetAccount answers (msg/s).
  AccountHealth(std::optional<double> fixed_rate, double start_rate);

  /// GetAccount answered with SendQuota.MaxSendRate `max_send_rate` (msg/s)
  /// and Max24HourSend `max_24_hour_send` (-1: unlimited); under "auto" the
  /// rate becomes SendRate::ceiling_from_account of `max_send_rate`.
  Change on_success(Clock::time_point now, double max_send_rate, double max_24_hour_send);
  /// GetAccount failed with `detail`. `steady_now` paces the repeated log line.
  Change on_failure(Clock::time_point now, SteadyClock::time_point steady_now, std::string_view detail);

  Snapshot snapshot() const;
  /// From the k_degraded_after-th failure in a row: "SES GetAccount failing
  /// (N times since <RFC 3339>): <detail>; sending at <rate> msg/s (<why>)";
  /// empty otherwise.
  std::string degraded_reason() const;
  /// Seconds since the Unix epoch of the last success; 0 before any.
  double last_success_seconds() const;

 private:
  std::string why_locked() const;  // callers hold m_mutex

  const std::optional<double> m_fixed_rate;
  mutable std::mutex m_mutex;
  double m_rate;
  double m_account_max_send_rate = 0;  // the last MaxSendRate GetAccount gave
  double m_account_max_24_hour_send = 0;
  std::optional<Clock::time_point> m_last_success;
  std::optional<Clock::time_point> m_failing_since;
  std::optional<SteadyClock::time_point> m_last_logged;
  int m_failures = 0;
  std::string m_last_error;
};

}  // namespace mailer::jobs
