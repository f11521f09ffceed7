// Retry decisions. The attempt counter belongs to the message row; throttling,
// the daily quota, an SES outage and refused credentials are facts about the
// account or the network, not the message, so they never use one up (SPEC §4:
// "Throttling does not consume an attempt"). Before this, SES unreachable for
// 25 s dead-lettered a whole batch: 5 attempts at 1/2/4/8 s fit in 15 s.

#include "mailer/jobs/retry_policy.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "mailer/core/text.hpp"

namespace mailer::jobs {

namespace {

using std::chrono::milliseconds;

constexpr std::string_view k_daily_quota_text = "daily message quota exceeded";
constexpr std::string_view k_daily_quota_bulk_status = "ACCOUNT_DAILY_QUOTA_EXCEEDED";

bool contains_ignoring_case(std::string_view haystack, std::string_view lower_needle) {
  return text::ascii_lower(haystack).find(lower_needle) != std::string::npos;
}

// base * 2^(n-1), capped at max, by doubling so a large n cannot overflow.
milliseconds capped_exponential(milliseconds base, milliseconds max, int n) {
  milliseconds delay = std::min(base, max);
  for (int i = 1; i < n && delay < max; ++i) delay = std::min(delay * 2, max);
  return delay;
}

// Adds up to 20% of `delay`; dividing by 5 keeps the arithmetic exact for the
// round numbers tests use (0.2 has no exact binary form).
milliseconds with_jitter(milliseconds delay, Rng& rng) {
  double u = std::clamp(rng(), 0.0, 1.0);
  auto extra = static_cast<milliseconds::rep>(static_cast<double>(delay.count()) * u / 5.0);
  return delay + milliseconds(extra);
}

bool is_retryable(ErrorCode code) { return code == ErrorCode::storage_unavailable || code == ErrorCode::internal; }

// SES's error types for a request it refused because of who sent it.
constexpr std::string_view k_credential_errors[] = {"UnrecognizedClientException",
                                                    "InvalidClientTokenId",
                                                    "SignatureDoesNotMatch",
                                                    "IncompleteSignatureException",
                                                    "MissingAuthenticationTokenException",
                                                    "AccessDeniedException"};

}  // namespace

Decision Decision::retry(Clock::time_point at, ConsumesAttempt consumes) {
  return Decision{Kind::retry, at, consumes, {}};
}

Decision Decision::quota_pause(Clock::time_point at) {
  return Decision{Kind::quota_pause, at, ConsumesAttempt::no, {}};
}

Decision Decision::dead_letter(std::string reason) {
  return Decision{Kind::dead_letter, {}, ConsumesAttempt::yes, std::move(reason)};
}

bool is_daily_quota_error(const Error& error) {
  return contains_ignoring_case(error.detail, k_daily_quota_text) || error.upstream_code == k_daily_quota_bulk_status;
}

ServiceFault service_fault(const Error& error) {
  if (error.code == ErrorCode::upstream_transient) return ServiceFault::unavailable;
  // Credentials that cannot be resolved at all (no key, no instance role).
  if (error.code == ErrorCode::unauthorized) return ServiceFault::credentials;
  if (error.code == ErrorCode::upstream_permanent &&
      std::find(std::begin(k_credential_errors), std::end(k_credential_errors), error.upstream_code) !=
          std::end(k_credential_errors)) {
    return ServiceFault::credentials;
  }
  return ServiceFault::none;
}

const char* to_string(ServiceFault fault) {
  switch (fault) {
    case ServiceFault::unavailable: return "ses_unavailable";
    case ServiceFault::credentials: return "ses_credentials";
    case ServiceFault::none: break;
  }
  return "none";
}

RetryPolicy::RetryPolicy(int attempts, milliseconds backoff_base, milliseconds backoff_max)
    : m_attempts(std::max(attempts, 1)),
      m_backoff_base(std::max(backoff_base, milliseconds(1))),
      m_backoff_max(std::max(backoff_max, m_backoff_base)) {}

Decision RetryPolicy::decide(int attempt, const Error& last_error, Clock::time_point now, Rng& rng,
                             int throttle_streak) const {
  if (is_daily_quota_error(last_error)) return Decision::quota_pause(now + k_quota_recheck);
  if (last_error.code == ErrorCode::upstream_throttled)
    return Decision::retry(now + throttle_delay(throttle_streak, rng), ConsumesAttempt::no);
  if (service_fault(last_error) != ServiceFault::none)
    return Decision::retry(now + backoff_delay(attempt, rng), ConsumesAttempt::no);
  auto code_name = to_string(last_error.code);
  if (!is_retryable(last_error.code)) return Decision::dead_letter(fmt::format("{}: not retryable", code_name));
  if (attempt >= m_attempts)
    return Decision::dead_letter(fmt::format("{}: {} of {} attempts used", code_name, attempt, m_attempts));
  return Decision::retry(now + backoff_delay(attempt, rng), ConsumesAttempt::yes);
}

milliseconds RetryPolicy::backoff_delay(int attempt, Rng& rng) const {
  return with_jitter(capped_exponential(m_backoff_base, m_backoff_max, attempt), rng);
}

milliseconds RetryPolicy::throttle_delay(int throttle_streak, Rng& rng) {
  return with_jitter(capped_exponential(k_throttle_base, k_throttle_max, throttle_streak), rng);
}

}  // namespace mailer::jobs
