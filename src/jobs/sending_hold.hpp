#pragma once
// The sending hold: the CircuitBreaker (circuit_breaker.hpp) behind one
// mutex, with its state mirrored in an atomic that workers and the
// dispatcher read on every message without locking.
//
// Owns: the breaker, when the current hold began, the hold's log lines and
// the mailer_sending_on_hold metric.
// Threads: workers call observe_send() after each SES answer; the account
// thread calls probe_due() and on_probe(); the dispatcher, workers and stats
// read state(). All thread-safe.
// Guarantees: state() is at most one store behind the breaker (written under
// the mutex after every change); a hold starts and ends with one log line each.

#include <atomic>
#include <mutex>
#include <string>

#include "jobs/engine_support.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/jobs/circuit_breaker.hpp"

namespace mailer::jobs {

/// The breaker's state as the fast paths read it. Ordered: from half_open
/// on, the dispatcher claims at most one trial message.
enum class HoldState { clean, faulted, half_open, on_hold };

class SendingHold {
 public:
  explicit SendingHold(const Clock& clock) : m_clock(clock) {}

  HoldState state() const { return m_state.load(std::memory_order_relaxed); }
  /// True while sending is on hold: nothing is claimed or sent.
  bool held() const { return state() == HoldState::on_hold; }

  /// Tells the breaker how SES answered a send. The common case, an answer
  /// while nothing is wrong, costs one relaxed atomic load.
  void observe_send(const Result<std::string>& answer);

  /// True when the breaker wants a GetAccount probe now.
  bool probe_due();

  /// The probe's GetAccount answer; true when it ended the hold (the caller
  /// wakes the dispatcher). Any answer from SES ends it, a refusal or a
  /// malformed GetAccount included.
  bool on_probe(const Status& answer);

  /// While on hold, "<fault>: <SES's words>"; empty otherwise.
  std::string reason() const;

 private:
  void publish();  // under m_mutex

  const Clock& m_clock;
  mutable std::mutex m_mutex;
  CircuitBreaker m_breaker;
  SteadyClock::time_point m_began{};
  std::atomic<HoldState> m_state{HoldState::clean};
};

}  // namespace mailer::jobs
