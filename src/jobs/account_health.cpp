#include "jobs/account_health.hpp"

#include <fmt/format.h>

#include "mailer/jobs/send_rate.hpp"

namespace mailer::jobs {
namespace {

std::string bounded(std::string_view text, std::size_t max) {
  if (text.size() <= max) return std::string(text);
  std::size_t end = max;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;  // not mid-character
  return std::string(text.substr(0, end)) + "...";
}

std::string rfc3339(Clock::time_point t) { return format_rfc3339(to_ms(t)); }

}  // namespace

AccountHealth::AccountHealth(std::optional<double> fixed_rate, double start_rate)
    : m_fixed_rate(fixed_rate), m_rate(fixed_rate.value_or(start_rate)) {}

AccountHealth::Change AccountHealth::on_success(Clock::time_point now, double max_send_rate, double max_24_hour_send) {
  std::scoped_lock lock(m_mutex);
  const bool first = !m_last_success;
  const bool was_failing = m_failures > 0;
  m_last_success = now;
  m_failures = 0;
  m_failing_since.reset();
  m_last_error.clear();
  m_last_logged.reset();
  m_account_max_send_rate = max_send_rate;
  m_account_max_24_hour_send = max_24_hour_send;
  if (!m_fixed_rate) m_rate = SendRate::ceiling_from_account(max_send_rate);
  if (was_failing) return Change::recovered;
  return first ? Change::first_success : Change::none;
}

AccountHealth::Change AccountHealth::on_failure(Clock::time_point now, SteadyClock::time_point steady_now,
                                                std::string_view detail) {
  std::scoped_lock lock(m_mutex);
  if (m_failures == 0) m_failing_since = now;
  ++m_failures;
  m_last_error = bounded(detail, k_max_detail);
  if (!m_last_logged) {
    m_last_logged = steady_now;
    return Change::first_failure;
  }
  if (steady_now - *m_last_logged < k_repeat_log) return Change::none;
  m_last_logged = steady_now;
  return Change::still_failing;
}

std::string AccountHealth::why_locked() const {
  if (m_fixed_rate) {
    return m_failures > 0 ? "fixed by ses.max_send_rate; only the daily quota is not being refreshed"
                          : "fixed by ses.max_send_rate";
  }
  if (!m_last_success) return "start-up rate: GetAccount has not answered yet";
  auto source = fmt::format("{:g}% of GetAccount MaxSendRate {:g}", SendRate::k_account_headroom * 100,
                            m_account_max_send_rate);
  if (m_failures == 0) return source;
  return fmt::format("last known rate: {} at {}", source, rfc3339(*m_last_success));
}

AccountHealth::Snapshot AccountHealth::snapshot() const {
  std::scoped_lock lock(m_mutex);
  return {m_last_success, m_failures,   m_failing_since,         m_last_error,
          m_rate,         why_locked(), m_account_max_send_rate, m_account_max_24_hour_send};
}

std::string AccountHealth::degraded_reason() const {
  std::scoped_lock lock(m_mutex);
  if (m_failures < k_degraded_after || !m_failing_since) return "";
  return fmt::format("SES GetAccount failing ({} times since {}): {}; sending at {:g} msg/s ({})", m_failures,
                     rfc3339(*m_failing_since), m_last_error, m_rate, why_locked());
}

double AccountHealth::last_success_seconds() const {
  std::scoped_lock lock(m_mutex);
  if (!m_last_success) return 0;
  return std::chrono::duration<double>(m_last_success->time_since_epoch()).count();
}

}  // namespace mailer::jobs
