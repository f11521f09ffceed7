#pragma once
// Per-key rate limit (SPEC §3): a token bucket per API key, refilled at
// api.rate_limit_per_second up to api.rate_limit_burst. Every keyed request
// takes one token; without one it gets 429 with Retry-After. The answer also
// fills the RateLimit-Limit / -Remaining / -Reset headers
// (draft-ietf-httpapi-ratelimit-headers), sent on every keyed response.
//
// Time is passed in, so the arithmetic is unit-tested without sleeping.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace mailer::http {

struct RateDecision {
  bool allowed = true;
  std::int64_t limit = 0;                // RateLimit-Limit: the burst (whole tokens)
  std::int64_t remaining = 0;            // RateLimit-Remaining: whole tokens left after this request
  std::int64_t reset_seconds = 0;        // RateLimit-Reset: seconds until the bucket is full again
  std::int64_t retry_after_seconds = 0;  // Retry-After when !allowed: seconds until one token (>= 1)

  /// The RateLimit-* headers, plus Retry-After when refused.
  std::vector<std::pair<std::string, std::string>> headers() const;
};

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  /// `per_second` > 0 tokens added per second, `burst` >= 1 the bucket size
  /// (config validation guarantees both).
  RateLimiter(double per_second, double burst);

  /// Takes one token from `key`'s bucket (a new key starts full) at `now`.
  /// Thread-safe. Buckets idle long enough to be full again are dropped now
  /// and then, so revoked or one-off keys do not accumulate.
  RateDecision take(const std::string& key, Clock::time_point now);

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point updated;
  };
  void drop_full_buckets(Clock::time_point now);

  double m_per_second;
  double m_burst;
  std::mutex m_mutex;
  std::unordered_map<std::string, Bucket> m_buckets;
  std::uint64_t m_takes = 0;
};

}  // namespace mailer::http
