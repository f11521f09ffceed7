// CredentialsProvider's cache under concurrency: one fetch at a time, the
// others served from the cache while it is valid. The source is the container
// step against a loopback stand-in that can hold a fetch in flight; time is a
// FakeClock, so "inside the refresh window" and "expired" are exact.
#include <catch2/catch.hpp>

#include <future>
#include <map>
#include <sstream>
#include <thread>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/log.hpp"
#include "mailer/net/http_client.hpp"
#include "support/aws_env.hpp"
#include "support/fake_clock.hpp"
#include "support/fake_container.hpp"

using namespace mailer;
using namespace mailer::aws;
using namespace std::chrono_literals;
using mailer::test::curl_global;
using mailer::test::env_of;

namespace {

// The FakeClock starts at 2026-01-01T00:00:00Z.
std::string answer(const std::string& token, const std::string& expiration) {
  return R"({"AccessKeyId":"AKIDCONTAINER","SecretAccessKey":"container-secret-value","Token":")" + token +
         R"(","Expiration":")" + expiration + R"("})";
}

struct Rig {
  Rig() {
    curl_global();
    fake.set_raw_answer(200, answer("first", "2026-01-01T01:00:00Z"));
    CredentialsProvider::Options options;
    options.env = env_of({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", fake.url() + "/creds"}});
    options.clock = &clock;
    options.refresh_window = 300s;
    options.retry_gap = 10s;
    provider = std::make_unique<CredentialsProvider>(options);
  }
  std::string token() {
    auto c = provider->get();
    REQUIRE(c);
    return c->session_token;
  }

  test::FakeClock clock;
  test::FakeContainerServer fake;
  std::unique_ptr<CredentialsProvider> provider;
};

// Captures log lines for the life of the object.
struct LogCapture {
  LogCapture() { log::set_output(&lines); }
  ~LogCapture() { log::set_output(nullptr); }
  std::string text() const { return lines.str(); }
  int count(const std::string& needle) const {
    int n = 0;
    for (auto at = text().find(needle); at != std::string::npos; at = text().find(needle, at + 1)) ++n;
    return n;
  }
  std::ostringstream lines;
};

// Polls `done` every 10 ms for up to 5 s: background refreshes finish on their own time.
template <typename F>
bool eventually(F done) {
  for (int i = 0; i < 500 && !done(); ++i) std::this_thread::sleep_for(10ms);
  return done();
}

bool ready_within(const std::future<Result<Credentials>>& f, std::chrono::milliseconds timeout) {
  return f.wait_for(timeout) == std::future_status::ready;
}

}  // namespace

TEST_CASE("fresh credentials come from the cache", "[aws][credentials][refresh]") {
  Rig rig;
  CHECK(rig.token() == "first");
  rig.clock.advance(50min);
  CHECK(rig.token() == "first");
  CHECK(rig.fake.requests() == 1);
  CHECK(rig.provider->cached_expiration() == Clock::time_point(std::chrono::seconds(1767225600 + 3600)));
}

TEST_CASE("in the refresh window a background fetch runs while every caller uses the cache",
          "[aws][credentials][refresh]") {
  Rig rig;
  CHECK(rig.token() == "first");
  rig.clock.advance(56min);  // 4 minutes left, inside the 5-minute window
  rig.fake.set_raw_answer(200, answer("second", "2026-01-01T02:00:00Z"));
  rig.fake.hold_answers();
  // The first caller in the window starts the fetch and, like the others,
  // returns at once with the cached credentials while it is in flight.
  for (int i = 0; i < 4; ++i) {
    auto caller = std::async(std::launch::async, [&] { return rig.provider->get(); });
    REQUIRE(ready_within(caller, 2s));
    auto c = caller.get();
    REQUIRE(c);
    CHECK(c->session_token == "first");
  }
  REQUIRE(rig.fake.wait_until_held(1));
  CHECK(rig.fake.requests() == 2);
  rig.fake.release_answers();
  CHECK(eventually([&] { return rig.token() == "second"; }));
  CHECK(rig.fake.requests() == 2);
}

TEST_CASE("without valid credentials callers wait for one fetch and share it", "[aws][credentials][refresh]") {
  Rig rig;
  rig.fake.hold_answers();
  auto first = std::async(std::launch::async, [&] { return rig.provider->get(); });
  REQUIRE(rig.fake.wait_until_held(1));
  auto second = std::async(std::launch::async, [&] { return rig.provider->get(); });
  CHECK_FALSE(ready_within(second, 200ms));
  rig.fake.release_answers();
  REQUIRE(ready_within(first, 5s));
  REQUIRE(ready_within(second, 5s));
  auto a = first.get();
  auto b = second.get();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->session_token == "first");
  CHECK(rig.fake.requests() == 1);
}

TEST_CASE("waiting callers share a failed fetch's error", "[aws][credentials][refresh]") {
  Rig rig;
  LogCapture log;
  rig.fake.set_raw_answer(403, R"({"code":"AccessDenied"})");
  rig.fake.hold_answers();
  auto first = std::async(std::launch::async, [&] { return rig.provider->get(); });
  REQUIRE(rig.fake.wait_until_held(1));
  auto second = std::async(std::launch::async, [&] { return rig.provider->get(); });
  CHECK_FALSE(ready_within(second, 200ms));
  rig.fake.release_answers();
  auto a = first.get();
  auto b = second.get();
  REQUIRE_FALSE(a);
  REQUIRE_FALSE(b);
  CHECK(b.error().code == ErrorCode::unauthorized);
  CHECK(rig.fake.requests() == 1);
  CHECK(log.count("no usable AWS credentials") == 1);
  CHECK(log.count(R"("provider":"container")") == 1);
  CHECK(log.text().find("answered HTTP 403") != std::string::npos);
}

TEST_CASE("a failed early refresh keeps the credentials until they expire", "[aws][credentials][refresh]") {
  Rig rig;
  CHECK(rig.token() == "first");
  LogCapture log;
  const std::string warning = "AWS credentials refresh failed; using the current ones until they expire";
  rig.clock.advance(56min);
  rig.fake.set_raw_answer(403, R"({"code":"AccessDenied"})");
  CHECK(rig.token() == "first");
  REQUIRE(eventually([&] { return log.count(warning) == 1; }));
  CHECK(rig.fake.requests() == 2);
  CHECK(log.count(R"("provider":"container")") == 1);
  CHECK(log.count(R"("expires_in_s":240)") == 1);
  CHECK(log.text().find("answered HTTP 403") != std::string::npos);
  CHECK(log.text().find("container-secret-value") == std::string::npos);

  // Within retry_gap the source is left alone.
  rig.clock.advance(5s);
  CHECK(rig.token() == "first");
  std::this_thread::sleep_for(50ms);
  CHECK(rig.fake.requests() == 2);
  // Then tried again, still failing, still serving the valid credentials.
  rig.clock.advance(6s);
  CHECK(rig.token() == "first");
  REQUIRE(eventually([&] { return log.count(warning) == 2; }));
  CHECK(rig.fake.requests() == 3);

  // Expired: the error reaches the caller.
  rig.clock.advance(5min);
  auto expired = rig.provider->get();
  REQUIRE_FALSE(expired);
  CHECK(expired.error().code == ErrorCode::unauthorized);
  CHECK(log.count("no usable AWS credentials") == 1);

  // The source recovers: the next call fetches.
  rig.fake.set_raw_answer(200, answer("third", "2026-01-01T03:00:00Z"));
  CHECK(rig.token() == "third");
}

TEST_CASE("credentials already inside the window are not fetched at every call", "[aws][credentials][refresh]") {
  Rig rig;
  rig.fake.set_raw_answer(200, answer("short", "2026-01-01T00:02:00Z"));  // 2 minutes, window 5
  CHECK(rig.token() == "short");
  CHECK(rig.token() == "short");
  CHECK(rig.fake.requests() == 1);
  rig.clock.advance(11s);
  CHECK(rig.token() == "short");
  CHECK(eventually([&] { return rig.fake.requests() == 2; }));
}

TEST_CASE("invalidate makes the next call fetch", "[aws][credentials][refresh]") {
  Rig rig;
  CHECK(rig.token() == "first");
  rig.fake.set_raw_answer(200, answer("after-invalidate", "2026-01-01T01:00:00Z"));
  rig.provider->invalidate();
  CHECK_FALSE(rig.provider->cached_expiration());
  CHECK(rig.token() == "after-invalidate");
  CHECK(rig.fake.requests() == 2);
}

TEST_CASE("readiness answers at once while the first fetch runs", "[aws][credentials][refresh]") {
  Rig rig;
  rig.fake.hold_answers();
  auto probe = std::async(std::launch::async, [&] { return rig.provider->readiness(); });
  REQUIRE(probe.wait_for(2s) == std::future_status::ready);
  auto status = probe.get();
  REQUIRE_FALSE(status);
  CHECK(status.error().detail == "fetching AWS credentials");
  REQUIRE(rig.fake.wait_until_held(1));  // the probe started the fetch
  CHECK_FALSE(rig.provider->readiness());
  rig.fake.release_answers();
  CHECK(eventually([&] { return bool(rig.provider->readiness()); }));
  CHECK(rig.fake.requests() == 1);
}

TEST_CASE("readiness reports the last failure and asks again only after retry_gap", "[aws][credentials][refresh]") {
  Rig rig;
  LogCapture log;
  rig.fake.set_raw_answer(403, R"({"code":"AccessDenied"})");
  REQUIRE_FALSE(rig.provider->get());
  auto status = rig.provider->readiness();
  REQUIRE_FALSE(status);
  CHECK_THAT(status.error().detail, Catch::Contains("403"));
  CHECK(rig.fake.requests() == 1);  // within retry_gap: no new fetch
  rig.fake.set_raw_answer(200, answer("first", "2026-01-01T01:00:00Z"));
  rig.clock.advance(11s);
  (void)rig.provider->readiness();  // starts the fetch
  CHECK(eventually([&] { return bool(rig.provider->readiness()); }));
}

TEST_CASE("credentials that arrive already expired are refused", "[aws][credentials][refresh]") {
  Rig rig;
  LogCapture log;
  rig.fake.set_raw_answer(200, answer("stale", "2025-12-31T23:00:00Z"));
  auto got = rig.provider->get();
  REQUIRE_FALSE(got);
  CHECK(got.error().code == ErrorCode::unauthorized);
  CHECK(got.error().detail == "container: the credentials it gave expired at 2025-12-31T23:00:00.000Z");
  CHECK(log.count("no usable AWS credentials") == 1);
}

TEST_CASE("readiness is ok at the first probe when the source answers at once", "[aws][credentials][refresh]") {
  Rig rig;
  CHECK(rig.provider->readiness());  // fetched within the probe's short wait
  CHECK(rig.fake.requests() == 1);
}
