#include "mailer/jobs/circuit_breaker.hpp"

#include <algorithm>

namespace mailer::jobs {

void CircuitBreaker::on_answer() {
  m_state = State::closed;
  m_streak = 0;
  m_level = 0;
}

CircuitBreaker::Change CircuitBreaker::on_service_fault(ServiceFault fault, const std::string& detail,
                                                        Clock::time_point now) {
  if (fault == ServiceFault::none || m_state == State::open) return Change::none;
  m_fault = fault;
  m_detail = detail;
  // Half-open lets one trial send through; its failure is the verdict.
  if (m_state == State::half_open || ++m_streak >= k_trip_after) return start_hold(now);
  return Change::none;
}

bool CircuitBreaker::probe_due(Clock::time_point now) const { return m_state == State::open && now >= m_next_probe; }

CircuitBreaker::Change CircuitBreaker::on_probe(bool answered, ServiceFault fault, const std::string& detail,
                                                Clock::time_point now) {
  if (m_state != State::open) return Change::none;
  ++m_level;
  if (answered) {
    m_state = State::half_open;
    return Change::hold_ended;
  }
  if (fault != ServiceFault::none) m_fault = fault;
  m_detail = detail;
  m_next_probe = now + probe_delay(m_level);
  return Change::none;
}

std::chrono::milliseconds CircuitBreaker::probe_delay(int level) {
  auto delay = k_probe_base;
  for (int i = 0; i < level && delay < k_probe_max; ++i) delay = std::min(delay * 2, k_probe_max);
  return delay;
}

CircuitBreaker::Change CircuitBreaker::start_hold(Clock::time_point now) {
  m_state = State::open;
  m_streak = 0;
  m_next_probe = now + probe_delay(m_level);
  return Change::hold_started;
}

}  // namespace mailer::jobs
