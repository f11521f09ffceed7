#include "mailer/http/rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace mailer::http {

namespace {

constexpr std::uint64_t k_sweep_every = 4096;  // takes between sweeps of idle buckets

std::int64_t ceil_seconds(double seconds) { return static_cast<std::int64_t>(std::ceil(std::max(0.0, seconds))); }

}  // namespace

std::vector<std::pair<std::string, std::string>> RateDecision::headers() const {
  std::vector<std::pair<std::string, std::string>> out{{"RateLimit-Limit", std::to_string(limit)},
                                                       {"RateLimit-Remaining", std::to_string(remaining)},
                                                       {"RateLimit-Reset", std::to_string(reset_seconds)}};
  if (!allowed) out.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return out;
}

RateLimiter::RateLimiter(double per_second, double burst)
    : m_per_second(std::max(per_second, 1e-9)), m_burst(std::max(burst, 1.0)) {}

RateDecision RateLimiter::take(const std::string& key, Clock::time_point now) {
  std::scoped_lock lock(m_mutex);
  if (++m_takes % k_sweep_every == 0) drop_full_buckets(now);
  auto [it, inserted] = m_buckets.try_emplace(key, Bucket{m_burst, now});
  Bucket& bucket = it->second;
  if (!inserted) {
    double elapsed = std::chrono::duration<double>(now - bucket.updated).count();
    bucket.tokens = std::min(m_burst, bucket.tokens + std::max(0.0, elapsed) * m_per_second);
    bucket.updated = std::max(bucket.updated, now);
  }
  RateDecision decision;
  decision.limit = static_cast<std::int64_t>(m_burst);
  decision.allowed = bucket.tokens >= 1.0;
  if (decision.allowed) bucket.tokens -= 1.0;
  decision.remaining = static_cast<std::int64_t>(std::floor(bucket.tokens));
  decision.reset_seconds = ceil_seconds((m_burst - bucket.tokens) / m_per_second);
  if (!decision.allowed) {
    decision.retry_after_seconds = std::max<std::int64_t>(1, ceil_seconds((1.0 - bucket.tokens) / m_per_second));
  }
  return decision;
}

void RateLimiter::drop_full_buckets(Clock::time_point now) {
  std::erase_if(m_buckets, [&](const auto& item) {
    double elapsed = std::chrono::duration<double>(now - item.second.updated).count();
    return item.second.tokens + elapsed * m_per_second >= m_burst;
  });
}

}  // namespace mailer::http
