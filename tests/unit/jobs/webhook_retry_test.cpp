#include <catch2/catch.hpp>

#include "mailer/jobs/webhook_retry.hpp"

using namespace mailer;
using namespace std::chrono_literals;

TEST_CASE("jobs::webhook_retry_delay doubles from base up to max, half of it random", "[jobs][webhooks]") {
  SECTION("attempt 3 from 5 s: between 10 and 20 s") {
    CHECK(jobs::webhook_retry_delay(3, 5s, 1h, std::nullopt, 0.0) == 10s);
    CHECK(jobs::webhook_retry_delay(3, 5s, 1h, std::nullopt, 0.999) >= 19s);
    CHECK(jobs::webhook_retry_delay(3, 5s, 1h, std::nullopt, 0.999) < 20s);
  }
  SECTION("capped at max, even after many attempts") {
    CHECK(jobs::webhook_retry_delay(200, 5s, 1h, std::nullopt, 1.0) == 1h);
    CHECK(jobs::webhook_retry_delay(200, 5s, 1h, std::nullopt, 0.0) == 30min);
  }
  SECTION("Retry-After lengthens the wait, but not past max") {
    CHECK(jobs::webhook_retry_delay(1, 5s, 1h, 120s, 0.0) == 120s);
    CHECK(jobs::webhook_retry_delay(1, 5s, 1h, 1s, 0.0) == 2500ms);
    CHECK(jobs::webhook_retry_delay(1, 5s, 1h, 48h, 0.0) == 1h);
  }
}

TEST_CASE("jobs::parse_retry_after reads seconds and IMF-fixdate", "[jobs][webhooks]") {
  const auto now = Clock::time_point(std::chrono::seconds(1445412480));  // 2015-10-21T07:28:00Z
  CHECK(jobs::parse_retry_after("120", now) == std::optional(std::chrono::milliseconds(120000)));
  CHECK(jobs::parse_retry_after(" 0 ", now) == std::optional(std::chrono::milliseconds(0)));
  CHECK(jobs::parse_retry_after("Wed, 21 Oct 2015 07:29:00 GMT", now) ==
        std::optional(std::chrono::milliseconds(60000)));
  CHECK(jobs::parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now) == std::optional(std::chrono::milliseconds(0)));
  CHECK(jobs::parse_retry_after("99999999999999999999999", now).has_value());
  for (const char* bad : {"", "soon", "-5", "1.5", "Wed, 21 Oct 2015 07:29:00 CET"}) {
    INFO(bad);
    CHECK_FALSE(jobs::parse_retry_after(bad, now));
  }
}
