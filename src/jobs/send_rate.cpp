// Send-rate control. A reservation-style token bucket: reserve() may drive
// the balance negative, and the debt is the queue of callers already told to
// wait, so waits grow in order and no thread spins. The rate is adjusted
// AIMD-style like TCP congestion control: halve on a throttle (once per hold
// window, as a burst of in-flight requests reports one overload many times),
// then add back a fixed share of the ceiling per second.
// SES throttling advice: https://aws.amazon.com/blogs/messaging-and-targeting/
// how-to-handle-a-throttling-maximum-sending-rate-exceeded-error/

#include "mailer/jobs/send_rate.hpp"

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <limits>

namespace mailer::jobs {

namespace {

double sane_rate(double rate) {
  if (!std::isfinite(rate)) return SendRate::k_min_rate;
  return std::max(rate, SendRate::k_min_rate);
}

// Seconds from `from` to `to`; 0 when the clock stepped back.
double seconds_between(Clock::time_point from, Clock::time_point to) {
  std::chrono::duration<double> elapsed = to - from;
  return std::max(elapsed.count(), 0.0);
}

std::chrono::nanoseconds to_nanoseconds(double seconds) {
  return std::chrono::nanoseconds(static_cast<std::int64_t>(std::ceil(seconds * 1e9)));
}

}  // namespace

SendRate::SendRate(double rate_per_second, const Clock& clock)
    : m_clock(clock),
      m_ceiling(sane_rate(rate_per_second)),
      m_rate(m_ceiling),
      m_tokens(capacity()),
      m_last_refill(clock.now()) {}

double SendRate::capacity() const { return std::max(1.0, m_rate * k_burst_seconds); }

void SendRate::refill(time_point now) {
  m_tokens = std::min(capacity(), m_tokens + m_rate * seconds_between(m_last_refill, now));
  m_last_refill = std::max(m_last_refill, now);
}

// Tokens already accrued were earned at the old rate, so refill first. Debt
// is the queue of callers already told when to send: scaling it to the new
// rate keeps the time it clears, so callers reserving after the change queue
// behind them instead of landing in the same second.
void SendRate::change_rate(double rate, time_point now) {
  refill(now);
  double next = std::clamp(rate, k_min_rate, m_ceiling);
  if (m_tokens < 0) m_tokens *= next / m_rate;
  m_rate = next;
  m_tokens = std::min(m_tokens, capacity());
}

std::chrono::nanoseconds SendRate::reserve(int tokens) {
  auto now = m_clock.now();
  std::scoped_lock lock(m_mutex);
  refill(now);
  m_tokens -= std::max(tokens, 0);
  if (m_tokens >= 0) return std::chrono::nanoseconds(0);
  return to_nanoseconds(-m_tokens / m_rate);
}

bool SendRate::acquire(int tokens, std::stop_token stop) {
  auto stopping = m_stopping.get_token();
  if (stop.stop_requested() || stopping.stop_requested()) return false;
  auto wait = reserve(tokens);
  if (wait <= std::chrono::nanoseconds(0)) return true;
  std::mutex mutex;
  std::condition_variable_any woken;
  // Runs at once when stop_waiting() came first; it takes `mutex` so that
  // its notify cannot fall between the predicate check and the sleep.
  std::stop_callback on_stopping(stopping, [&] {
    std::scoped_lock notify_lock(mutex);
    woken.notify_all();
  });
  std::unique_lock lock(mutex);
  woken.wait_for(lock, stop, wait, [&] { return stopping.stop_requested(); });
  return !stop.stop_requested() && !stopping.stop_requested();
}

void SendRate::stop_waiting() { m_stopping.request_stop(); }

int SendRate::on_throttled() {
  auto now = m_clock.now();
  std::scoped_lock lock(m_mutex);
  if (m_decreased_before && now - m_last_decrease < k_decrease_hold) return m_throttle_streak;
  change_rate(std::max(m_rate * k_decrease_factor, m_ceiling * k_floor_fraction), now);
  m_last_decrease = now;
  m_recovery_from = now;
  m_decreased_before = true;
  return ++m_throttle_streak;
}

void SendRate::on_success() {
  auto now = m_clock.now();
  std::scoped_lock lock(m_mutex);
  m_throttle_streak = 0;
  if (m_rate >= m_ceiling) return;
  double gained = k_recovery_per_second * m_ceiling * seconds_between(m_recovery_from, now);
  change_rate(m_rate + gained, now);
  m_recovery_from = std::max(m_recovery_from, now);
}

void SendRate::set_ceiling(double rate_per_second) {
  auto now = m_clock.now();
  std::scoped_lock lock(m_mutex);
  bool at_ceiling = m_rate >= m_ceiling;
  m_ceiling = sane_rate(rate_per_second);
  change_rate(at_ceiling ? m_ceiling : m_rate, now);
}

double SendRate::ceiling_from_account(double max_send_rate) { return sane_rate(max_send_rate * k_account_headroom); }

double SendRate::current_rate() const {
  std::scoped_lock lock(m_mutex);
  return m_rate;
}

double SendRate::ceiling() const {
  std::scoped_lock lock(m_mutex);
  return m_ceiling;
}

int SendRate::throttle_streak() const {
  std::scoped_lock lock(m_mutex);
  return m_throttle_streak;
}

void DailyQuota::refresh(double max_24_hour_send, double sent_last_24_hours) {
  std::scoped_lock lock(m_mutex);
  m_max = max_24_hour_send;
  m_sent = std::max(sent_last_24_hours, 0.0);
  m_exceeded = false;
}

double DailyQuota::remaining_locked(Traffic traffic) const {
  if (m_exceeded) return 0;
  if (m_max < 0) return std::numeric_limits<double>::infinity();
  double reserve = traffic == Traffic::bulk ? m_max * k_transactional_reserve_percent / 100 : 0;
  return std::max(m_max - reserve - m_sent, 0.0);
}

bool DailyQuota::allows(int recipients, Traffic traffic) const {
  std::scoped_lock lock(m_mutex);
  return recipients <= remaining_locked(traffic);
}

bool DailyQuota::try_take(int recipients, Traffic traffic) {
  std::scoped_lock lock(m_mutex);
  if (recipients > remaining_locked(traffic)) return false;
  m_sent += std::max(recipients, 0);
  return true;
}

std::optional<DailyQuota::Reservation> DailyQuota::reserve(int recipients, Traffic traffic) {
  if (!try_take(recipients, traffic)) return std::nullopt;
  return std::optional<Reservation>(std::in_place, *this, recipients);
}

void DailyQuota::give_back(int recipients) {
  std::scoped_lock lock(m_mutex);
  m_sent = std::max(m_sent - std::max(recipients, 0), 0.0);
}

void DailyQuota::on_quota_exceeded() {
  std::scoped_lock lock(m_mutex);
  m_exceeded = true;
}

double DailyQuota::remaining(Traffic traffic) const {
  std::scoped_lock lock(m_mutex);
  return remaining_locked(traffic);
}

}  // namespace mailer::jobs
