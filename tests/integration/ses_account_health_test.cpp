// End to end: a failing SES GetAccount (a garbage answer from mailer-fake-ses)
// shows in /ready (200 "degraded" with the reason), /metrics and the log, and
// clears by itself once GetAccount answers again. And the start-up warning
// about a non-https server.public_url.
#include "engine_e2e.hpp"

#include "support/prometheus_text.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

json ready_body(MailerdFixture& mailerd, int& status) {
  auto res = mailerd.client()->Get("/ready");
  status = res ? res->status : 0;
  return res ? json::parse(res->body, nullptr, false) : json();
}

double metric(MailerdFixture& mailerd, const std::string& series) {
  auto res = mailerd.client()->Get("/metrics");
  if (!res || res->status != 200) return -1;
  return sample_value(res->body, series).value_or(-1);
}

std::map<std::string, std::string> auto_rate_env(const FakeSesFixture& fake) {
  auto env = base_env(fake);
  env["MAILER_SES_MAX_SEND_RATE"] = "auto";
  return env;
}

}  // namespace

TEST_CASE("a failing GetAccount makes /ready degraded, shows in /metrics and recovers",
          "[integration][e2e][ses][ready]") {
  FakeSesFixture fake({false, {}});
  fake.set_faults({{"account_body", "this is not JSON"}});  // SendEmail still works
  MailerdFixture mailerd({auto_rate_env(fake), {}});

  int status = 0;
  json body;
  REQUIRE(wait_until(
      [&] {
        body = ready_body(mailerd, status);
        return body.value("status", "") == "degraded";
      },
      std::chrono::seconds(60)));
  CHECK(status == 200);
  REQUIRE(body["reasons"].size() == 1);
  const auto reason = body["reasons"][0].get<std::string>();
  CHECK(reason.rfind("SES GetAccount failing (", 0) == 0);
  CHECK(reason.find("MalformedResponse") != std::string::npos);
  CHECK(reason.find("sending at 1 msg/s (start-up rate: GetAccount has not answered yet)") != std::string::npos);
  CHECK(metric(mailerd, "mailer_ses_account_consecutive_failures") >= 3);
  CHECK(metric(mailerd, "mailer_ses_account_last_success_timestamp_seconds") == 0);
  CHECK(metric(mailerd, "mailer_ready_degraded") == 1);
  // One warning for the run of failures, not one per retry.
  CHECK(json_log_lines(mailerd.log(), "GetAccount failed; keeping the current send rate and quota").size() == 1);

  // Mail still goes out while degraded.
  auto key = mailerd.create_key("ops", "admin").key;
  auto accepted =
      mailerd.client()->Post("/v1/batches", bearer(key), batch_body({"a@example.com"}).dump(), "application/json");
  REQUIRE(accepted);
  CHECK(accepted->status == 202);
  CHECK(wait_until([&] { return fake.stats().accepted == 1; }, std::chrono::seconds(30)));

  fake.set_faults({{"account_body", ""}});
  REQUIRE(wait_until(
      [&] {
        body = ready_body(mailerd, status);
        return status == 200 && body.value("status", "") == "ready";
      },
      std::chrono::seconds(60)));
  CHECK(metric(mailerd, "mailer_ses_account_consecutive_failures") == 0);
  CHECK(metric(mailerd, "mailer_ses_account_last_success_timestamp_seconds") > 1.7e9);
  CHECK(metric(mailerd, "mailer_ready_degraded") == 0);
  CHECK(json_log_lines(mailerd.log(), "GetAccount answers again; send rate and quota refreshed").size() == 1);
  // The fake's MaxSendRate 14, less SendRate's 10 % headroom.
  CHECK(metric(mailerd, "mailer_send_rate_limit_per_second") == Approx(13.3));
}

TEST_CASE("a fixed send rate: a failing GetAccount degrades /ready for the quota only",
          "[integration][e2e][ses][ready]") {
  FakeSesFixture fake({false, {}});
  fake.set_faults({{"account_body", "[]"}});
  auto env = base_env(fake);
  env["MAILER_SES_MAX_SEND_RATE"] = "50";
  MailerdFixture mailerd({env, {}});
  int status = 0;
  json body;
  REQUIRE(wait_until(
      [&] {
        body = ready_body(mailerd, status);
        return body.value("status", "") == "degraded";
      },
      std::chrono::seconds(60)));
  CHECK(status == 200);
  CHECK(body["reasons"][0].get<std::string>().find(
            "sending at 50 msg/s (fixed by ses.max_send_rate; only the daily quota is not being refreshed)") !=
        std::string::npos);
}

TEST_CASE("mailerd warns at start about a non-https public_url for one-click unsubscribe", "[integration][config]") {
  FakeSesFixture fake({false, {}});
  auto env = base_env(fake);  // sets unsubscribe.secret: bulk mail carries List-Unsubscribe-Post
  // MailerdFixture returns once mailerd logged "listening", after the warnings.
  SECTION("http: one warning naming the key and RFC 8058 section 3.1") {
    env["MAILER_SERVER_PUBLIC_URL"] = "http://mail.example.com";
    MailerdFixture mailerd({env, {}});
    auto lines = json_log_lines(mailerd.log(), "configuration warning");
    REQUIRE(lines.size() == 1);
    auto line = json::parse(lines[0]);
    CHECK(line["key"] == "server.public_url");
    CHECK(line["detail"].get<std::string>().find("RFC 8058 section 3.1") != std::string::npos);
  }
  SECTION("https: no warning") {
    env["MAILER_SERVER_PUBLIC_URL"] = "https://mail.example.com";
    MailerdFixture mailerd({env, {}});
    CHECK(json_log_lines(mailerd.log(), "configuration warning").empty());
  }
}
