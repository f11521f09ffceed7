// GET /metrics on the real mailerd (issue #7 item 1): valid for promtool,
// counters move with traffic, gauges follow the database, and
// metrics.public=false asks for a key.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"
#include "support/child_process.hpp"
#include "support/mailerd_fixture.hpp"
#include "support/message_rows.hpp"
#include "support/metrics_scrape.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer;
using namespace mailer::test;

namespace {

const std::string k_ses_key_id = "AKIDTESTMAILERD";
const std::string k_ses_secret = "test-secret-not-real";

// Scrapes until `series` reaches `at_least` (bounded: 15 s); returns the last scrape.
std::string scrape_until(const MailerdFixture& mailerd, const std::string& series, double at_least) {
  std::string text;
  for (int i = 0; i < 300; ++i) {
    text = scrape_metrics(mailerd);
    if (sample_value(text, series).value_or(-1) >= at_least) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("timed out waiting for " << series << " >= " << at_least << "; last scrape:\n" << text);
  return text;
}

struct FakeSes {
  explicit FakeSes(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{
        FAKE_SES_BIN,          "--port",    "0", "--out-dir", (dir / "out").string(), "--access-key-id", k_ses_key_id,
        "--secret-access-key", k_ses_secret};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child = std::make_unique<ChildProcess>(argv, dir / "fake.log");
    auto bound = child->wait_for_port();
    REQUIRE(bound);
    url = "http://127.0.0.1:" + std::to_string(*bound);
  }
  TempDir dir;
  std::unique_ptr<ChildProcess> child;
  std::string url;
};

std::int64_t now_ms() { return to_ms(std::chrono::system_clock::now()); }

}  // namespace

TEST_CASE("GET /metrics passes promtool check metrics", "[integration][metrics]") {
  MailerdFixture mailerd;
  REQUIRE(mailerd.client()->Get("/health"));
  REQUIRE(mailerd.client()->Get("/no/such/route"));
  auto text = scrape_metrics(mailerd);
  for (const char* name :
       {"mailer_http_requests_total", "mailer_http_request_duration_seconds", "mailer_ses_requests_total",
        "mailer_ses_request_duration_seconds", "mailer_messages_total", "mailer_suppressions_total",
        "mailer_sns_notifications_total", "mailer_queue_depth", "mailer_dlq_messages", "mailer_in_flight_sends",
        "mailer_send_rate_limit_per_second", "mailer_ses_quota_used_24h", "mailer_build_info"}) {
    INFO(name);
    CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(metric_value(text, "mailer_build_info{version=\"" MAILER_VERSION "\"}") == 1);
  CHECK(metric_value(text, "mailer_queue_depth{state=\"queued\",kind=\"bulk\"}") == 0);
  CHECK(metric_value(text, "mailer_engine_alive") == 1);
  CHECK(metric_value(text, "mailer_workers") >= 1);
  require_promtool_accepts(text);
}

TEST_CASE("HTTP request counters and durations move with traffic", "[integration][metrics]") {
  MailerdFixture mailerd;
  const std::string health = "mailer_http_requests_total{method=\"GET\",route=\"/health\",status_class=\"2xx\"}";
  const std::string unmatched = "mailer_http_requests_total{method=\"GET\",route=\"unmatched\",status_class=\"4xx\"}";
  for (int i = 0; i < 3; ++i) REQUIRE(mailerd.client()->Get("/health"));
  REQUIRE(mailerd.client()->Get("/nothing/here/42"));
  // Requests are counted after their response is written, possibly on another
  // server thread: scrape until each shows up (bounded).
  scrape_until(mailerd, health, 3);
  auto first = scrape_until(mailerd, unmatched, 1);
  CHECK(metric_value(first, health) == 3);
  CHECK(metric_value(first, unmatched) == 1);
  CHECK(metric_value(first, "mailer_http_request_duration_seconds_count{method=\"GET\",route=\"/health\"}") == 3);
  CHECK(first.find("/nothing/here/42") == std::string::npos);  // paths never become labels

  REQUIRE(mailerd.client()->Get("/health"));
  scrape_until(mailerd, health, 4);
  auto second =
      scrape_until(mailerd, "mailer_http_requests_total{method=\"GET\",route=\"/metrics\",status_class=\"2xx\"}", 1);
  CHECK(metric_value(second, health) == 4);
  // The first scrape itself was counted once its response was written.
  CHECK(metric_value(second, "mailer_http_requests_total{method=\"GET\",route=\"/metrics\",status_class=\"2xx\"}") >=
        1);
}

TEST_CASE("Message and SES counters move after sends, and gauges follow the queue", "[integration][metrics]") {
  FakeSes ses({"--reject-address", "bounce@example.com"});
  MailerdFixture mailerd(
      MailerdOptions{.env = {{"MAILER_SES_ENDPOINT", ses.url}, {"MAILER_SES_MAX_SEND_RATE", "100"}}});
  {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    insert_message(**db, {.email = "ana@example.com"}, now_ms());
    insert_message(**db, {.email = "bounce@example.com"}, now_ms());
    // Waiting work: scheduled far ahead, and a paused batch's queued message.
    insert_message(**db, {.state = "scheduled", .email = "later@example.com", .run_at_ms = now_ms() + 86'400'000},
                   now_ms());
    auto batch = insert_batch(**db, {.status = "paused"}, now_ms());
    insert_message(**db, {.batch_id = batch, .paused = 1, .email = "held@example.com"}, now_ms());
  }
  auto text = scrape_until(mailerd, "mailer_messages_total{outcome=\"failed\"}", 1);
  text = scrape_until(mailerd, "mailer_messages_total{outcome=\"sent\"}", 1);
  CHECK(metric_value(text, "mailer_messages_total{outcome=\"sent\"}") == 1);
  CHECK(metric_value(text, "mailer_messages_total{outcome=\"failed\"}") == 1);
  CHECK(metric_value(text, "mailer_ses_requests_total{operation=\"SendEmail\",result=\"ok\"}") == 1);
  CHECK(metric_value(text, "mailer_ses_requests_total{operation=\"SendEmail\",result=\"upstream_permanent\"}") == 1);
  CHECK(metric_value(text, "mailer_ses_errors_total{operation=\"SendEmail\",code=\"MessageRejected\"}") == 1);
  CHECK(metric_value(text, "mailer_ses_request_duration_seconds_count{operation=\"SendEmail\"}") == 2);
  CHECK(metric_value(text, "mailer_dlq_messages") == 1);
  CHECK(metric_value(text, "mailer_queue_depth{state=\"scheduled\",kind=\"transactional\"}") == 1);
  CHECK(metric_value(text, "mailer_queue_depth{state=\"queued\",kind=\"bulk\"}") == 1);  // the paused batch's
  CHECK(metric_value(text, "mailer_queue_depth{state=\"queued\",kind=\"transactional\"}") == 0);
  CHECK(metric_value(text, "mailer_queue_depth{state=\"sending\",kind=\"transactional\"}") == 0);
  // Paused and future work is not due: nothing waits behind.
  CHECK(metric_value(text, "mailer_queue_oldest_age_seconds{kind=\"bulk\"}") == 0);
  CHECK(metric_value(text, "mailer_ses_quota_used_24h") == 1);  // the SENT event of ana@
  CHECK(metric_value(text, "mailer_send_rate_limit_per_second") == 100);
  require_promtool_accepts(text);
}

TEST_CASE("metrics.public=false: /metrics needs a key", "[integration][metrics]") {
  MailerdFixture mailerd(MailerdOptions{.env = {{"MAILER_METRICS_PUBLIC", "false"}}});
  SECTION("no key: 401 problem") {
    auto response = mailerd.client()->Get("/metrics");
    REQUIRE(response);
    CHECK(response->status == 401);
    CHECK(response->get_header_value("Content-Type") == "application/problem+json");
    CHECK(response->body.find("mailer_") == std::string::npos);
  }
  SECTION("unknown key: 401") {
    auto response = mailerd.client()->Get("/metrics", bearer("mk_notarealkeyatall000000000000"));
    REQUIRE(response);
    CHECK(response->status == 401);
  }
  SECTION("a read key: 200") {
    auto key = mailerd.create_key("scraper", "read");
    auto text = scrape_metrics(mailerd, bearer(key.key));
    CHECK(text.find("# TYPE mailer_messages_total counter") != std::string::npos);
  }
}

TEST_CASE("metrics.public=true: /metrics answers without a key", "[integration][metrics]") {
  MailerdFixture mailerd(MailerdOptions{.env = {{"MAILER_METRICS_PUBLIC", "true"}}});
  auto response = mailerd.client()->Get("/metrics");
  REQUIRE(response);
  CHECK(response->status == 200);
}
