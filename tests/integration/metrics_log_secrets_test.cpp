// Issue #7 item 3: the log of a whole run (start, authenticated and refused
// requests, sends accepted and rejected by SES, shutdown), at debug level,
// never contains a configured secret or an API key.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <thread>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"
#include "support/child_process.hpp"
#include "support/mailerd_fixture.hpp"
#include "support/message_rows.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer;
using namespace mailer::test;

namespace {

const std::string k_log_ses_key_id = "AKIDLOGTEST0001";
const std::string k_log_ses_secret = "ses-secret-Zq8vW2nR5tY7uI9oP1aS3dF";
const std::string k_unsubscribe_secret = "unsubscribe-secret-Hj4kL6mN8bV0cX2z";

std::int64_t log_now_ms() { return to_ms(std::chrono::system_clock::now()); }

void wait_for_outcomes(const MailerdFixture& mailerd, const std::string& key, double count) {
  for (int i = 0; i < 300; ++i) {
    auto response = mailerd.client()->Get("/metrics", bearer(key));
    REQUIRE(response);
    auto sent = sample_value(response->body, "mailer_messages_total{outcome=\"sent\"}").value_or(0);
    auto failed = sample_value(response->body, "mailer_messages_total{outcome=\"failed\"}").value_or(0);
    if (sent + failed >= count) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  FAIL("messages were not sent within 15 s");
}

}  // namespace

TEST_CASE("A full run logs no secret and no API key", "[integration][metrics][logs]") {
  TempDir fake_dir;
  ChildProcess fake({FAKE_SES_BIN, "--port", "0", "--out-dir", (fake_dir / "out").string(), "--access-key-id",
                     k_log_ses_key_id, "--secret-access-key", k_log_ses_secret, "--reject-address", "no@example.com"},
                    fake_dir / "fake.log");
  auto fake_port = fake.wait_for_port();
  REQUIRE(fake_port);
  MailerdFixture mailerd(
      MailerdOptions{.env = {{"MAILER_SES_ENDPOINT", "http://127.0.0.1:" + std::to_string(*fake_port)},
                             {"MAILER_SES_ACCESS_KEY_ID", k_log_ses_key_id},
                             {"MAILER_SES_SECRET_ACCESS_KEY", k_log_ses_secret},
                             {"MAILER_UNSUBSCRIBE_SECRET", k_unsubscribe_secret},
                             {"MAILER_METRICS_PUBLIC", "false"},
                             {"MAILER_LOG_LEVEL", "debug"}}});
  auto admin = mailerd.create_key("ops", "admin");
  auto reader = mailerd.create_key("viewer", "read");
  const std::string wrong_key = "mk_ThisKeyDoesNotExist0123456789abcdef";

  {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    insert_message(**db, {.email = "yes@example.com"}, log_now_ms());
    insert_message(**db, {.email = "no@example.com"}, log_now_ms());
  }
  wait_for_outcomes(mailerd, reader.key, 2);
  auto client = mailerd.client();
  REQUIRE(client->Get("/v1/admin/metrics", bearer(admin.key)));
  REQUIRE(client->Get("/v1/admin/keys", bearer(admin.key)));
  REQUIRE(client->Get("/v1/admin/keys", bearer(reader.key)));  // 403
  REQUIRE(client->Get("/metrics", bearer(wrong_key)));         // 401
  REQUIRE(client->Get("/v1/admin/metrics", {{"Authorization", "Basic " + k_log_ses_secret}}));
  REQUIRE(client->Get("/ready"));
  REQUIRE(mailerd.process().stop(SIGTERM) == 0);

  auto log = mailerd.log();
  REQUIRE(json_log_lines(log, "request").size() >= 6);        // the run really was logged
  REQUIRE(log.find("MessageRejected") != std::string::npos);  // and the SES error with its code
  for (const auto& secret : {k_log_ses_secret, k_unsubscribe_secret, admin.key, reader.key, wrong_key}) {
    INFO("secret: " << secret);
    CHECK(log.find(secret) == std::string::npos);
  }
}
