#include <catch2/catch.hpp>

#include <map>

#include "mailer/http/rate_limit.hpp"

using mailer::http::RateLimiter;
using namespace std::chrono_literals;

TEST_CASE("RateLimiter::take allows the burst, then refuses until refilled", "[http][rate_limit]") {
  RateLimiter limiter(1, 2);
  auto t0 = RateLimiter::Clock::time_point{} + 100s;
  auto first = limiter.take("key_a", t0);
  CHECK(first.allowed);
  CHECK(first.limit == 2);
  CHECK(first.remaining == 1);
  CHECK(first.reset_seconds == 1);
  auto second = limiter.take("key_a", t0);
  CHECK(second.allowed);
  CHECK(second.remaining == 0);
  CHECK(second.reset_seconds == 2);
  auto third = limiter.take("key_a", t0 + 200ms);
  CHECK_FALSE(third.allowed);
  CHECK(third.remaining == 0);
  CHECK(third.retry_after_seconds == 1);  // 0.8 s rounded up

  SECTION("a token comes back after 1/rate seconds") {
    CHECK(limiter.take("key_a", t0 + 1s).allowed);
    CHECK_FALSE(limiter.take("key_a", t0 + 1100ms).allowed);
  }
  SECTION("other keys have their own bucket") { CHECK(limiter.take("key_b", t0).allowed); }
  SECTION("the bucket never holds more than the burst") {
    auto later = limiter.take("key_a", t0 + 3600s);
    CHECK(later.allowed);
    CHECK(later.remaining == 1);
  }
}

TEST_CASE("RateDecision::headers names Retry-After only when refused", "[http][rate_limit]") {
  RateLimiter limiter(0.5, 1);
  auto t0 = RateLimiter::Clock::time_point{} + 1s;
  auto ok = limiter.take("k", t0).headers();
  std::map<std::string, std::string> ok_map(ok.begin(), ok.end());
  CHECK(ok_map == std::map<std::string, std::string>{
                      {"RateLimit-Limit", "1"}, {"RateLimit-Remaining", "0"}, {"RateLimit-Reset", "2"}});
  auto refused = limiter.take("k", t0).headers();
  std::map<std::string, std::string> refused_map(refused.begin(), refused.end());
  CHECK(refused_map.at("Retry-After") == "2");
}
