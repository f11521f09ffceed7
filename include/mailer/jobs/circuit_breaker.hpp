#pragma once
// The SES circuit breaker: when SES (or the way to it) is down, every send
// fails alike, and trying message after message only fills the log and the
// DEFERRED history. After k_trip_after service faults in a row
// (service_fault(): transport errors, 5xx, refused credentials), sending goes
// on hold: the engine stops claiming, gives back what it claimed and has not
// sent, and probes SES with GetAccount, 1 s after the hold began, then with a
// doubling delay capped at 30 s. A probe that answers ends the hold
// (half-open): claiming resumes one message at a time until a send gets an
// answer, which closes the breaker; a service fault in between puts sending
// on hold again at once, with the probe delay going on from where it was, so
// an SES that answers GetAccount but fails SendEmail is tried at most every
// 30 s. Throttling and answers about the message (MessageRejected, ...) are
// answers: SES is there.
//
//        k_trip_after faults in a row            probe fails (delay doubles)
//   closed ───────────────────────────► open ◄──────┐
//     ▲                                  │ ▲ └──────┘
//     │ a send is answered     probe OK  │ │ a service fault
//     └──────────────────── half_open ◄──┘ │
//                               └──────────┘
//
// Pure (no clock, no I/O, no lock): the engine passes the time in and guards
// an instance with its own mutex.

#include <chrono>
#include <string>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/jobs/retry_policy.hpp"

namespace mailer::jobs {

class CircuitBreaker {
 public:
  /// Service faults in a row that put sending on hold. More than one, so a
  /// single dropped connection does not stop sending; fewer than the usual
  /// worker count, so an outage is caught by the first wave of failures.
  static constexpr int k_trip_after = 3;
  static constexpr std::chrono::milliseconds k_probe_base{1000};
  static constexpr std::chrono::milliseconds k_probe_max{30000};

  enum class State {
    closed,     // sending
    open,       // on hold: nothing is claimed or sent; GetAccount probes
    half_open,  // a probe answered: one message at a time until a send is answered
  };
  /// What a call changed, for the one log line at each end of a hold.
  enum class Change { none, hold_started, hold_ended };

  /// SES answered a send (accepted it, refused the message, throttled):
  /// closed, the streak and the probe delay start over.
  void on_answer();
  /// A send failed with `fault` (not none) at `now`, `detail` saying how.
  /// hold_started when this is the k_trip_after-th in a row while closed, or
  /// any while half-open; the first probe is then due probe_delay(level) later.
  Change on_service_fault(ServiceFault fault, const std::string& detail, Clock::time_point now);
  /// True when on hold and the next probe is due at `now`.
  bool probe_due(Clock::time_point now) const;
  /// A probe (GetAccount) at `now` answered (`answered`) or failed with
  /// `fault`/`detail`: hold_ended (half-open) or the next probe is scheduled,
  /// each one probe_delay later than the one before. Ignored unless open.
  Change on_probe(bool answered, ServiceFault fault, const std::string& detail, Clock::time_point now);

  State state() const { return m_state; }
  bool on_hold() const { return m_state == State::open; }
  /// Closed with no fault since the last answer: the engine's fast path need
  /// not tell the breaker about a success.
  bool clean() const { return m_state == State::closed && m_streak == 0 && m_level == 0; }
  /// Why the last hold began (or goes on): the fault, and SES's words.
  ServiceFault fault() const { return m_fault; }
  const std::string& detail() const { return m_detail; }
  Clock::time_point next_probe() const { return m_next_probe; }

  /// Delay before probe number `level` + 1 of a hold: k_probe_base *
  /// 2^level, capped at k_probe_max (1 s, 2 s, 4 s ... 30 s). No jitter: one
  /// prober per process. `level` < 0 counts as 0.
  static std::chrono::milliseconds probe_delay(int level);

 private:
  Change start_hold(Clock::time_point now);

  State m_state = State::closed;
  int m_streak = 0;  // service faults in a row while closed
  int m_level = 0;   // probes since the last answered send: the backoff step
  ServiceFault m_fault = ServiceFault::none;
  std::string m_detail;
  Clock::time_point m_next_probe{};
};

}  // namespace mailer::jobs
