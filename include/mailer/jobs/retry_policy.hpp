#pragma once
// What to do with a message whose send just failed (SPEC §4 "Retries"): try
// again later, hold it while the SES daily quota is spent, or dead-letter it.
// Pure: no clock, no randomness of its own, no I/O, so every delay is testable.

#include <chrono>
#include <functional>
#include <string>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"

namespace mailer::jobs {

/// Uniform doubles in [0, 1). Injected so tests pin the jitter; production
/// passes a lambda over a seeded std::mt19937_64 (one per worker thread).
using Rng = std::function<double()>;

enum class ConsumesAttempt { no, yes };

/// Outcome of RetryPolicy::decide. Build with the static functions.
struct Decision {
  enum class Kind {
    retry,        // run again at `retry_at`
    quota_pause,  // SES daily quota spent: requeue at `retry_at`, stop bulk claiming
    dead_letter,  // terminal: state `failed`, event FAILED with `reason`
  };
  Kind kind = Kind::dead_letter;
  Clock::time_point retry_at{};                             // retry and quota_pause only
  ConsumesAttempt consumes_attempt = ConsumesAttempt::yes;  // retry only; never for a pause
  std::string reason;                                       // dead_letter only

  static Decision retry(Clock::time_point at, ConsumesAttempt consumes);
  static Decision quota_pause(Clock::time_point at);
  static Decision dead_letter(std::string reason);
};

/// True when `error` says the SES 24-hour sending quota (`Max24HourSend`) is
/// used up, whatever its type: the message text contains "Daily message quota
/// exceeded" (case-insensitive, in `detail`), or `upstream_code` is
/// "ACCOUNT_DAILY_QUOTA_EXCEEDED" (the SES bulk status). Such a failure is a
/// pause of the whole queue, not a fault of the message.
/// Source: shared/reference/ses-v2.md §4 "Daily quota";
/// https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html
bool is_daily_quota_error(const Error& error);

/// What a failed SES call says about SES itself, as opposed to the message.
/// `unavailable`: SES or the path to it is down (transport error, timeout, 5xx,
/// 408, RequestExpired, ExpiredTokenException: every upstream_transient).
/// `credentials`: SES refused who we are, not what we sent (no usable AWS
/// credentials, or 403 UnrecognizedClientException, InvalidClientTokenId,
/// SignatureDoesNotMatch, IncompleteSignatureException,
/// MissingAuthenticationTokenException, AccessDeniedException).
/// `none`: an answer about the message (MessageRejected, BadRequestException,
/// ...), throttling, the daily quota, or not an SES error at all.
/// Source: https://docs.aws.amazon.com/ses/latest/APIReference-V2/CommonErrors.html
enum class ServiceFault { none, unavailable, credentials };
ServiceFault service_fault(const Error& error);
/// "ses_unavailable", "ses_credentials", "none": the label of metrics and logs.
const char* to_string(ServiceFault fault);

class RetryPolicy {
 public:
  /// Delay before the retry of an upstream_throttled failure (see decide).
  static constexpr std::chrono::milliseconds k_throttle_base{1000};
  // Short: the send rate itself slows down on throttling (SendRate), so a
  // throttled message only needs to stay out of the way until the rate has
  // recovered (seconds), not be kept out for a minute after a long storm.
  static constexpr std::chrono::milliseconds k_throttle_max{10000};
  /// How long a quota-paused message waits before it is looked at again.
  /// SES: "wait up to 10 minutes" after a sending-quota error.
  static constexpr std::chrono::minutes k_quota_recheck{10};

  /// `attempts`: tries before the DLQ (config worker.attempts); `backoff_base`
  /// and `backoff_max`: first delay and cap. Config validation rejects bad
  /// values first; here attempts < 1 becomes 1, base < 1 ms becomes 1 ms and
  /// max < base becomes base, so no input yields a zero or negative delay.
  RetryPolicy(int attempts, std::chrono::milliseconds backoff_base, std::chrono::milliseconds backoff_max);

  /// What to do after try number `attempt` (1-based, counting only tries that
  /// consumed an attempt, this one included) failed with `last_error` at `now`.
  ///
  /// - daily quota error (is_daily_quota_error): quota_pause at
  ///   `now` + k_quota_recheck; never uses an attempt, never dead-letters.
  /// - a service fault (service_fault() != none: SES down or refusing our
  ///   credentials): retry without consuming an attempt after
  ///   backoff_delay(attempt, rng); never dead-letters. Such a failure says
  ///   nothing about the message, and the engine's circuit breaker stops
  ///   sending while it lasts.
  /// - storage_unavailable, internal: dead_letter when `attempt` >=
  ///   attempts(), else retry consuming an attempt after
  ///   backoff_delay(attempt, rng).
  /// - upstream_throttled: retry without consuming an attempt after
  ///   throttle_delay(throttle_streak, rng); never dead-letters. The send
  ///   rate is slowed separately (SendRate::on_throttled).
  /// - every other code (upstream_permanent, invalid_input, not_found, ...):
  ///   dead_letter at once.
  ///
  /// `throttle_streak`: throttles in a row without a success in between, this
  /// one included (SendRate::throttle_streak()); used only for throttling.
  /// Example: base 1 s, max 1 h, attempts 5, internal, attempt 3, rng 0.5
  /// -> retry at `now` + 4.4 s, consuming an attempt.
  Decision decide(int attempt, const Error& last_error, Clock::time_point now, Rng& rng, int throttle_streak = 1) const;

  /// Retry delay after failed try `attempt` (1-based): d = backoff_base *
  /// 2^(attempt-1) capped at backoff_max, plus jitter d * u / 5 for u = rng()
  /// clamped to [0, 1], truncated to whole milliseconds. So the delay lies in
  /// [d, 1.2 d]: never below backoff_base, never above 1.2 * backoff_max.
  /// NOTE: not AWS "full jitter" (uniform in [0, d]), which can retry almost
  /// at once and would ignore the operator's backoff_base; 20% on top is
  /// enough to spread a burst of messages that failed together.
  /// Example: base 1 s, attempt 3, u 0.5 -> 4 s + 400 ms.
  std::chrono::milliseconds backoff_delay(int attempt, Rng& rng) const;

  /// Like backoff_delay with k_throttle_base and k_throttle_max (1 s to 10 s)
  /// over `throttle_streak` (< 1 counts as 1).
  static std::chrono::milliseconds throttle_delay(int throttle_streak, Rng& rng);

  int attempts() const { return m_attempts; }
  std::chrono::milliseconds backoff_base() const { return m_backoff_base; }
  std::chrono::milliseconds backoff_max() const { return m_backoff_max; }

 private:
  int m_attempts;
  std::chrono::milliseconds m_backoff_base;
  std::chrono::milliseconds m_backoff_max;
};

}  // namespace mailer::jobs
