#include <catch2/catch.hpp>

#include <string>

#include "jobs/account_health.hpp"

using mailer::Clock;
using mailer::jobs::AccountHealth;
using mailer::jobs::SteadyClock;
using Change = AccountHealth::Change;
using namespace std::chrono_literals;

namespace {

// 2026-01-01T00:00:00Z plus `s` seconds.
Clock::time_point at(int s) { return Clock::time_point(1767225600s + std::chrono::seconds(s)); }
SteadyClock::time_point steady(int s) { return SteadyClock::time_point(std::chrono::seconds(s)); }

}  // namespace

TEST_CASE("AccountHealth under auto: degraded after three failures, recovered by a success", "[jobs][account]") {
  AccountHealth health(std::nullopt, 1.0);
  CHECK(health.last_success_seconds() == 0);
  CHECK(health.snapshot().why == "start-up rate: GetAccount has not answered yet");

  CHECK(health.on_failure(at(0), steady(0), "AccessDeniedException: not allowed") == Change::first_failure);
  CHECK(health.on_failure(at(5), steady(5), "AccessDeniedException: not allowed") == Change::none);
  CHECK(health.degraded_reason().empty());
  CHECK(health.on_failure(at(10), steady(10), "AccessDeniedException: not allowed") == Change::none);
  CHECK(health.snapshot().consecutive_failures == 3);
  CHECK(health.degraded_reason() ==
        "SES GetAccount failing (3 times since 2026-01-01T00:00:00.000Z): AccessDeniedException: not allowed; "
        "sending at 1 msg/s (start-up rate: GetAccount has not answered yet)");

  CHECK(health.on_success(at(15), 14, 50000) == Change::recovered);
  CHECK(health.degraded_reason().empty());
  CHECK(health.snapshot().consecutive_failures == 0);
  CHECK(health.snapshot().last_error.empty());
  CHECK(health.snapshot().rate == Approx(13.3));
  CHECK(health.snapshot().why == "95% of GetAccount MaxSendRate 14");
  CHECK(health.last_success_seconds() == Approx(1767225615.0));
}

TEST_CASE("AccountHealth keeps the last known rate while failing after a success", "[jobs][account]") {
  AccountHealth health(std::nullopt, 1.0);
  CHECK(health.on_success(at(0), 14, 50000) == Change::first_success);
  CHECK(health.on_success(at(60), 14, 50000) == Change::none);
  CHECK(health.snapshot().account_max_send_rate == 14);
  CHECK(health.snapshot().account_max_24_hour_send == 50000);
  for (int i = 0; i < 3; ++i) health.on_failure(at(100 + 5 * i), steady(100 + 5 * i), "HTTP500: boom");
  CHECK(health.degraded_reason() ==
        "SES GetAccount failing (3 times since 2026-01-01T00:01:40.000Z): HTTP500: boom; sending at 13.3 msg/s "
        "(last known rate: 95% of GetAccount MaxSendRate 14 at 2026-01-01T00:01:00.000Z)");
  CHECK(health.last_success_seconds() == Approx(1767225660.0));
}

TEST_CASE("AccountHealth with a fixed rate reports only the quota as stale", "[jobs][account]") {
  AccountHealth health(50.0, 1.0);
  CHECK(health.snapshot().rate == 50);
  CHECK(health.on_success(at(0), 14, 50000) == Change::first_success);
  CHECK(health.snapshot().rate == 50);  // GetAccount's rate is not used
  for (int i = 0; i < 3; ++i) health.on_failure(at(10 + i), steady(10 + i), "boom");
  auto reason = health.degraded_reason();
  CHECK(reason.find("sending at 50 msg/s (fixed by ses.max_send_rate; only the daily quota is not being "
                    "refreshed)") != std::string::npos);
}

TEST_CASE("AccountHealth repeats the failing log line at most once a minute", "[jobs][account]") {
  AccountHealth health(std::nullopt, 1.0);
  CHECK(health.on_failure(at(0), steady(0), "x") == Change::first_failure);
  int lines = 0;
  for (int s = 5; s <= 180; s += 5) lines += health.on_failure(at(s), steady(s), "x") == Change::still_failing;
  CHECK(lines == 3);  // at 60, 120 and 180 s
  CHECK(health.on_success(at(181), 14, 50000) == Change::recovered);
  // A new run of failures logs its first one again.
  CHECK(health.on_failure(at(190), steady(190), "x") == Change::first_failure);
}

TEST_CASE("AccountHealth bounds the error detail it keeps", "[jobs][account]") {
  AccountHealth health(std::nullopt, 1.0);
  std::string detail(AccountHealth::k_max_detail - 1, 'a');
  detail += "\xc3\xa9" + std::string(1000, 'b');  // a two-byte character across the cut
  health.on_failure(at(0), steady(0), detail);
  auto kept = health.snapshot().last_error;
  CHECK(kept == std::string(AccountHealth::k_max_detail - 1, 'a') + "...");
}
