// The /metrics figures an operator alerts on (issue #18 item 1), on a real
// mailerd sending through mailer-fake-ses: queue depth and age by kind, SES
// account quotas and credentials expiry, guard figures, events by type, API
// 429s, database files and process_*. Every value is read back from a scrape
// that promtool accepts.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "engine_e2e.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/store/events.hpp"
#include "support/fake_metadata.hpp"
#include "support/metrics_scrape.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

double unix_now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

}  // namespace

TEST_CASE("/metrics exports queue, account, guard, event, database and process figures", "[integration][metrics]") {
  Stack stack({{"MAILER_API_RATE_LIMIT_PER_SECOND", "1"},
               {"MAILER_API_RATE_LIMIT_BURST", "20"},
               {"MAILER_SES_MAX_SEND_RATE", "auto"},
               {"MAILER_GUARD_MIN_SAMPLE", "3"}},
              FakeSesOptions{true, {"--max-send-rate", "40", "--max-24h-send", "5000"}});
  const auto emails = addresses(3);
  stack.post_batch(batch_body(emails));
  // Waited for on /metrics, which needs no key: polling the batch would spend
  // the key's small burst.
  std::string text;
  REQUIRE(wait_until(
      [&] {
        text = scrape_metrics(*stack.mailerd);
        return sample_value(text, "mailer_events_total{type=\"SENT\"}").value_or(0) == emails.size() &&
               sample_value(text, "mailer_in_flight_sends").value_or(1) == 0;
      },
      std::chrono::seconds(20)));

  // A burst past the key's 20 requests: at 1 request per second refill, the
  // last ones are refused with 429.
  int refused = 0;
  auto client = stack.mailerd->client();
  for (int i = 0; i < 30; ++i) {
    auto res = client->Get("/v1/batches", bearer(stack.key));
    REQUIRE(res);
    if (res->status == 429) ++refused;
  }
  REQUIRE(refused > 0);

  wait_until(
      [&] {
        text = scrape_metrics(*stack.mailerd);
        return sample_value(text, "mailer_ses_account_max_send_rate_per_second").has_value() &&
               sample_value(text, "mailer_http_rate_limited_total").value_or(0) >= refused;
      },
      std::chrono::seconds(10));

  // Queue drained: depth 0 for each state and kind, no message waiting.
  for (const char* kind : {"bulk", "transactional"}) {
    INFO(kind);
    for (const char* state : {"scheduled", "queued", "sending"}) {
      CHECK(metric_value(text, fmt::format("mailer_queue_depth{{state=\"{}\",kind=\"{}\"}}", state, kind)) == 0);
    }
    CHECK(metric_value(text, fmt::format("mailer_queue_oldest_age_seconds{{kind=\"{}\"}}", kind)) == 0);
  }
  // GetAccount's quotas beside the rate in force (95 % of MaxSendRate).
  CHECK(metric_value(text, "mailer_ses_account_max_send_rate_per_second") == 40);
  CHECK(metric_value(text, "mailer_ses_account_max_24h_send") == 5000);
  CHECK(metric_value(text, "mailer_send_rate_limit_per_second") == Approx(38));
  CHECK(metric_value(text, "mailer_ses_account_last_success_timestamp_seconds") > unix_now() - 60);
  // Static keys do not expire: no expiry sample.
  CHECK(text.find("mailer_ses_credentials_expiry_timestamp_seconds") == std::string::npos);
  // No bounce yet: the guard sees nothing and paused nothing.
  CHECK(metric_value(text, "mailer_guard_bounce_ratio") == 0);
  CHECK(metric_value(text, "mailer_guard_complaint_ratio") == 0);
  CHECK(metric_value(text, "mailer_guard_max_bounce_ratio") == Approx(0.05));
  CHECK(metric_value(text, "mailer_guard_max_complaint_ratio") == Approx(0.001));
  CHECK(metric_value(text, "mailer_guard_paused_batches") == 0);
  CHECK(metric_value(text, "mailer_guard_pauses_total") == 0);
  // Events: exactly the sends, every type present.
  CHECK(metric_value(text, "mailer_events_total{type=\"SENT\"}") == emails.size());
  CHECK(metric_value(text, "mailer_events_total{type=\"BOUNCE\"}") == 0);
  CHECK(sample_count(text, "mailer_events_total{") == mailer::store::event_types().size());
  CHECK(metric_value(text, "mailer_http_rate_limited_total") == refused);
  // SES calls: successes carry no error code; errors have their own family.
  CHECK(metric_value(text, "mailer_ses_requests_total{operation=\"SendEmail\",result=\"ok\"}") == emails.size());
  CHECK(metric_value(text, "mailer_ses_requests_total{operation=\"GetAccount\",result=\"ok\"}") >= 1);
  CHECK(text.find("code=\"none\"") == std::string::npos);
  CHECK(sample_count(text, "mailer_ses_errors_total{") == 0);
  // The database files and the process.
  CHECK(metric_value(text, "mailer_db_size_bytes") > 0);
  CHECK(metric_value(text, "mailer_db_wal_size_bytes") >= 0);
  CHECK(metric_value(text, "process_open_fds") > 0);
  CHECK(metric_value(text, "process_max_fds") >= metric_value(text, "process_open_fds"));
  CHECK(metric_value(text, "process_resident_memory_bytes") > 0);
  CHECK(metric_value(text, "process_virtual_memory_bytes") > 0);
  CHECK(metric_value(text, "process_cpu_seconds_total") > 0);
  CHECK(metric_value(text, "process_start_time_seconds") > unix_now() - 120);
  CHECK(metric_value(text, "process_start_time_seconds") <= unix_now());
  require_promtool_accepts(text);
}

TEST_CASE("/metrics shows when credentials from instance metadata expire", "[integration][metrics]") {
  FakeSesFixture fake;
  FakeMetadataServer imds;
  auto expires = std::chrono::system_clock::now() + std::chrono::hours(6);
  auto expires_s = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch()).count();
  imds.set_credentials("AKIDTESTMAILERD", "test-secret-not-real", "session-token",
                       mailer::format_rfc3339(expires_s * 1000).substr(0, 19) + "Z");
  auto env = fake.mailerd_env();
  env["MAILER_SES_ACCESS_KEY_ID"] = "";
  env["MAILER_SES_SECRET_ACCESS_KEY"] = "";
  env["AWS_SHARED_CREDENTIALS_FILE"] = "/nonexistent/credentials";
  env["AWS_EC2_METADATA_DISABLED"] = "false";
  env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = imds.url();
  MailerdFixture mailerd(MailerdOptions{env, {}});
  std::string text;
  wait_until(
      [&] {
        text = scrape_metrics(mailerd);
        return sample_value(text, "mailer_ses_credentials_expiry_timestamp_seconds").has_value();
      },
      std::chrono::seconds(10));
  CHECK(metric_value(text, "mailer_ses_credentials_expiry_timestamp_seconds") == Approx(double(expires_s)));
}
