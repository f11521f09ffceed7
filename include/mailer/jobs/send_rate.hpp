#pragma once
// How fast and how much mailerd may send through SES (SPEC §4 "Send rate").
// SendRate is one token bucket shared by every worker, counting recipients
// because SES does (ses-v2.md §3); it slows down when SES throttles and
// recovers gradually. DailyQuota stops bulk sending before Max24HourSend.

#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>
#include <utility>

#include "mailer/core/clock.hpp"

namespace mailer::jobs {

/// Thread-safe token bucket with AIMD control of its rate.
///
/// Tokens are recipients. The bucket holds at most max(1, rate x
/// k_burst_seconds) tokens: 50 ms of sending, so sends are spread evenly
/// and no sliding one-second window sees more than rate x 1.05 (plus one
/// token at rates under 20/s). SES counts its rate per second and throttles
/// what goes over it (ses-v2.md §3), so a pool that was idle must not spend a
/// second's allowance at once on top of the next second's.
///
/// Callers reserve before sending: the bucket may go into debt, and each
/// caller is told how long to wait, so N threads queue up in order instead of
/// polling. A reservation is never refunded.
///
/// Rate control: on_throttled halves the rate (not below k_floor_fraction of
/// the ceiling), at most once per k_decrease_hold; after a decrease the rate
/// climbs back linearly by k_recovery_per_second x ceiling per second of
/// clock time, applied on each on_success, until it reaches the ceiling, so
/// even from the floor it is back at 90 % of the ceiling in under 6 s.
/// Example: ceiling 100/s, throttled at t -> 50/s; on_success at t+2 s ->
/// 80/s; at t+10/3 s or later -> 100/s.
///
/// Rates below k_min_rate (or NaN/inf) are raised to k_min_rate. A clock that
/// steps back counts as no time passing.
class SendRate {
 public:
  static constexpr double k_burst_seconds = 0.05;
  static constexpr double k_decrease_factor = 0.5;
  static constexpr double k_floor_fraction = 0.1;
  static constexpr double k_recovery_per_second = 0.15;  // fraction of the ceiling
  static constexpr std::chrono::seconds k_decrease_hold{1};
  static constexpr double k_account_headroom = 0.95;
  static constexpr double k_min_rate = 0.01;  // recipients per second

  /// Starts full, at `rate_per_second` (recipients/s, the ceiling too).
  /// `clock` must outlive the bucket.
  SendRate(double rate_per_second, const Clock& clock);

  /// Takes `tokens` (recipients; < 0 counts as 0) and returns how long the
  /// caller must wait before sending them: 0 when the bucket had them.
  /// Example: rate 2/s, empty bucket, reserve(1) -> 500 ms, reserve(1) -> 1 s.
  std::chrono::nanoseconds reserve(int tokens);

  /// reserve(tokens), then sleeps (real time) for the wait. Returns false
  /// when `stop` was requested, or stop_waiting() called, before or during
  /// the wait: do not send.
  bool acquire(int tokens, std::stop_token stop);

  /// Shutdown: ends every acquire() wait now, and every later acquire()
  /// returns false, for good. A worker waiting for a token has sent nothing,
  /// so it gives its message back at once instead of holding up the
  /// shutdown grace period for a send that may be minutes away.
  void stop_waiting();

  /// SES said slow down (TooManyRequestsException, Throttling). Halves the
  /// rate unless it was cut less than k_decrease_hold ago (concurrent
  /// requests see the same throttling once). Returns the throttle streak, the
  /// `throttle_streak` argument of RetryPolicy::decide.
  int on_throttled();

  /// SES accepted a send: applies the linear recovery (see class comment)
  /// and resets the throttle streak.
  void on_success();

  /// New ceiling, e.g. from GetAccount via ceiling_from_account. A bucket at
  /// its old ceiling moves to the new one; a slowed one keeps its rate (capped
  /// at the new ceiling) and recovers toward the new one.
  void set_ceiling(double rate_per_second);

  /// 95% of SES `MaxSendRate` (recipients/s): headroom for clock drift
  /// between us and SES's per-second count, and for sends that leave
  /// together after a scheduling delay. Source:
  /// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendQuota.html
  static double ceiling_from_account(double max_send_rate);

  double current_rate() const;  // recipients/s, for metrics
  double ceiling() const;
  int throttle_streak() const;  // throttle decreases since the last success

 private:
  using time_point = Clock::time_point;
  void refill(time_point now);  // callers hold m_mutex
  void change_rate(double rate, time_point now);
  double capacity() const;

  const Clock& m_clock;
  mutable std::mutex m_mutex;
  double m_ceiling;
  double m_rate;
  double m_tokens;
  time_point m_last_refill;
  time_point m_recovery_from{};  // recovery is measured from here
  time_point m_last_decrease{};
  bool m_decreased_before = false;
  int m_throttle_streak = 0;
  std::stop_source m_stopping;
};

enum class Traffic { bulk, transactional };

/// The SES rolling 24-hour recipient quota, from GetAccount's SendQuota plus
/// what we sent since. Thread-safe.
///
/// Bulk traffic stops k_transactional_reserve_percent of Max24HourSend short
/// of the quota, so password resets and receipts still go out after a large
/// batch used the day's allowance. Sends are counted on top of
/// SentLast24Hours until the next refresh, so the count only grows between
/// refreshes (sends leaving the 24 h window are seen at the next refresh).
/// Before the first refresh and when Max24HourSend is -1 the quota is
/// unlimited. Source: shared/reference/ses-v2.md §3;
/// https://docs.aws.amazon.com/ses/latest/dg/quotas.html
class DailyQuota {
 public:
  static constexpr double k_transactional_reserve_percent = 1.0;

  /// GetAccount SendQuota: `max_24_hour_send` (-1 = unlimited) and
  /// `sent_last_24_hours`. Clears the local count and any on_quota_exceeded.
  void refresh(double max_24_hour_send, double sent_last_24_hours);

  /// True when `recipients` more of `traffic` stay within the quota:
  /// bulk: used + n <= max - reserve; transactional: used + n <= max.
  bool allows(int recipients, Traffic traffic = Traffic::bulk) const;

  /// allows() and, when true, counts the recipients, under one lock so
  /// concurrent workers cannot overshoot together.
  bool try_take(int recipients, Traffic traffic = Traffic::bulk);

  /// Uncounts recipients taken for a send SES did not accept.
  void give_back(int recipients);

  /// Recipients taken by reserve(): given back when the Reservation is
  /// destroyed unless keep() was called, so a send that fails, is abandoned
  /// or throws never leaves its slot counted. Move-only.
  class Reservation {
   public:
    Reservation(DailyQuota& quota, int recipients) : m_quota(&quota), m_recipients(recipients) {}
    Reservation(Reservation&& other) noexcept
        : m_quota(std::exchange(other.m_quota, nullptr)), m_recipients(other.m_recipients) {}
    Reservation& operator=(Reservation&&) = delete;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation() {
      if (m_quota) m_quota->give_back(m_recipients);
    }
    /// SES accepted the send: the recipients stay counted.
    void keep() { m_quota = nullptr; }

   private:
    DailyQuota* m_quota;
    int m_recipients;
  };
  /// try_take() as a Reservation; std::nullopt when the quota does not allow it.
  std::optional<Reservation> reserve(int recipients, Traffic traffic);

  /// SES refused with a daily-quota error (is_daily_quota_error): nothing is
  /// allowed until refresh() (SES knows better than our count).
  void on_quota_exceeded();

  /// Recipients `traffic` may still send (never below 0); infinity when unlimited.
  double remaining(Traffic traffic = Traffic::bulk) const;

 private:
  double remaining_locked(Traffic traffic) const;

  mutable std::mutex m_mutex;
  double m_max = -1;
  double m_sent = 0;  // SentLast24Hours at refresh + taken since
  bool m_exceeded = false;
};

}  // namespace mailer::jobs
