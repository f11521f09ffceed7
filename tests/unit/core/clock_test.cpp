#include <catch2/catch.hpp>

#include "mailer/core/clock.hpp"

using mailer::format_rfc3339;
using mailer::parse_rfc3339;

namespace {
std::int64_t parsed(const std::string& text) {
  std::int64_t ms = -1;
  REQUIRE(parse_rfc3339(text, ms));
  return ms;
}
}  // namespace

TEST_CASE("format_rfc3339 writes UTC with milliseconds", "[core]") {
  CHECK(format_rfc3339(0) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(1796115600123) == "2026-12-01T09:00:00.123Z");
  CHECK(format_rfc3339(-1) == "1969-12-31T23:59:59.999Z");
  CHECK(format_rfc3339(951782400000) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("parse_rfc3339 reads RFC 3339 timestamps", "[core]") {
  CHECK(parsed("2026-12-01T09:00:00Z") == 1796115600000);
  CHECK(parsed("2026-12-01t09:00:00z") == 1796115600000);
  CHECK(parsed("2026-12-01T09:00:00.5Z") == 1796115600500);
  CHECK(parsed("2026-12-01T09:00:00.123456Z") == 1796115600123);
  CHECK(parsed("2026-12-01T10:30:00+01:30") == 1796115600000);
  CHECK(parsed("2026-12-01T04:00:00-05:00") == 1796115600000);
  for (std::int64_t ms : {std::int64_t{0}, std::int64_t{1796115600123}, std::int64_t{-1}}) {
    CHECK(parsed(format_rfc3339(ms)) == ms);
  }
}

TEST_CASE("parse_rfc3339 rejects malformed text", "[core]") {
  std::int64_t ms = 42;
  for (const char* bad :
       {"", "2026-12-01", "2026-12-01T09:00:00", "2026-12-01 09:00:00Z", "2026-13-01T09:00:00Z", "2026-02-30T09:00:00Z",
        "2026-12-01T24:00:00Z", "2026-12-01T09:60:00Z", "2026-12-01T09:00:60Z", "2026-12-01T09:00:00.Z",
        "2026-12-01T09:00:00+0100", "2026-12-01T09:00:00+24:00", "2026-12-01T09:00:00Zjunk", "26-12-01T09:00:00Z",
        "2026-1a-01T09:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad, ms));
  }
  CHECK(ms == 42);  // untouched on failure
}

TEST_CASE("parse_age_ms reads single and compound ages", "[core]") {
  using mailer::parse_age_ms;
  CHECK(parse_age_ms("30d") == 30LL * 86'400'000);
  CHECK(parse_age_ms("12h") == 12LL * 3'600'000);
  CHECK(parse_age_ms("15m") == 900'000);
  CHECK(parse_age_ms("90s") == 90'000);
  CHECK(parse_age_ms("1h30m") == 5'400'000);
  CHECK(parse_age_ms("1d2h3m4s") == 86'400'000 + 7'200'000 + 180'000 + 4'000);
  CHECK(parse_age_ms("0s") == 0);
  CHECK(parse_age_ms("36500d") == 36'500LL * 86'400'000);
  for (const char* bad : {"", "d", "3w", "-1d", "+1d", "1.5h", "soon", "1h30", "30", "1h-5m", "36501d",
                          "99999999999999999999s", "1d 2h"}) {
    INFO(bad);
    CHECK_FALSE(parse_age_ms(bad));
  }
}

TEST_CASE("read_age_ms names the maximum when an age is too large", "[core]") {
  using mailer::ErrorCode;
  using mailer::read_age_ms;
  CHECK(*read_age_ms("36500d") == 36'500LL * 86'400'000);
  for (const char* over : {"36501d", "36500d1s", "99999999999999999999s", "876001h"}) {
    INFO(over);
    auto age = read_age_ms(over);
    REQUIRE_FALSE(age);
    CHECK(age.error().code == ErrorCode::too_large);
    CHECK(age.error().detail == "must be at most 36500d (100 years)");
  }
  for (const char* bad : {"", "soon", "1h30", "36501d junk", "99999999999999999999x"}) {
    INFO(bad);
    auto age = read_age_ms(bad);
    REQUIRE_FALSE(age);
    CHECK(age.error().code == ErrorCode::invalid_input);
    CHECK(age.error().detail == "must be an age such as 30d, 12h, 15m, 90s or 1h30m");
  }
}
