#pragma once
// When a failed webhook delivery is tried again (pure; the webhook thread in
// src/jobs/webhook_sender.cpp applies it).

#include <chrono>
#include <optional>
#include <string_view>

#include "mailer/core/clock.hpp"

namespace mailer::jobs {

/// The wait before the next try of a delivery whose `attempt`-th try (1 for
/// the first) failed: d = `base` * 2^(attempt-1) capped at `max`, of which
/// the second half is random (`random01` in [0, 1): d/2 + d/2 * random01),
/// so endpoints that failed together are not all retried at once (AWS
/// Architecture Blog, "Exponential Backoff And Jitter", equal jitter). A
/// `retry_after` from the answer (RFC 9110 section 10.2.3) lengthens the
/// wait to it, but never past `max`. Example: base 5 s, attempt 3 -> 10-20 s.
std::chrono::milliseconds webhook_retry_delay(int attempt, std::chrono::milliseconds base,
                                              std::chrono::milliseconds max,
                                              std::optional<std::chrono::milliseconds> retry_after, double random01);

/// A Retry-After header value as a wait from `now`: delay-seconds
/// ("120") or an HTTP-date ("Wed, 21 Oct 2015 07:28:00 GMT", IMF-fixdate
/// only); a date in the past is 0. nullopt when it is neither (ignored).
/// RFC 9110 section 10.2.3.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Clock::time_point now);

}  // namespace mailer::jobs
