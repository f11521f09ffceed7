#include "jobs/sending_hold.hpp"

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/jobs/retry_policy.hpp"

namespace mailer::jobs {

void SendingHold::observe_send(const Result<std::string>& answer) {
  const auto fault = answer ? ServiceFault::none : service_fault(answer.error());
  if (fault == ServiceFault::none && state() == HoldState::clean) return;
  std::scoped_lock lock(m_mutex);
  if (fault == ServiceFault::none) {
    m_breaker.on_answer();
    return publish();
  }
  auto change = m_breaker.on_service_fault(fault, error_text(answer.error()), m_clock.now());
  publish();
  if (change != CircuitBreaker::Change::hold_started) return;
  m_began = SteadyClock::now();
  log::warn("sending on hold; probing SES with GetAccount",
            {{"reason", to_string(fault)}, {"error", m_breaker.detail()}});
  metrics::set_sending_hold(to_string(fault));
}

bool SendingHold::probe_due() {
  std::scoped_lock lock(m_mutex);
  return m_breaker.probe_due(m_clock.now());
}

// NOTE: an IAM policy may allow SendEmail and not GetAccount; the half-open
// trial send is the real test, so any answer from SES ends the hold.
bool SendingHold::on_probe(const Status& answer) {
  const auto fault = answer ? ServiceFault::none : service_fault(answer.error());
  const bool answered = fault != ServiceFault::unavailable || answer.error().upstream_code == "MalformedResponse";
  CircuitBreaker::Change change;
  std::chrono::milliseconds held{0};
  {
    std::scoped_lock lock(m_mutex);
    change = m_breaker.on_probe(answered, fault, answer ? std::string() : error_text(answer.error()), m_clock.now());
    publish();
    held = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - m_began);
  }
  if (change != CircuitBreaker::Change::hold_ended) {
    log::debug("SES probe failed; sending stays on hold", {{"error", answer ? "" : answer.error().detail}});
    return false;
  }
  log::info("sending resumed: SES answered", {{"held_ms", held.count()}});
  metrics::set_sending_hold("");
  return true;
}

std::string SendingHold::reason() const {
  std::scoped_lock lock(m_mutex);
  if (!m_breaker.on_hold()) return "";
  return std::string(to_string(m_breaker.fault())) + ": " + m_breaker.detail();
}

void SendingHold::publish() {
  auto state = HoldState::faulted;
  if (m_breaker.clean()) state = HoldState::clean;
  else if (m_breaker.on_hold()) state = HoldState::on_hold;
  else if (m_breaker.state() == CircuitBreaker::State::half_open) state = HoldState::half_open;
  m_state.store(state, std::memory_order_relaxed);
}

}  // namespace mailer::jobs
