// POST /webhooks/ses through the real mailerd: signed fixtures from
// shared/testdata/sns, the signing certificate served by a loopback server.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>

#include "support/mailerd_fixture.hpp"
#include "support/message_rows.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::sns_fixtures;

namespace {

std::string joined_topics() {
  auto topics = topic_allowlist();
  return topics[0] + "," + topics[1];
}

MailerdOptions sns_options(std::map<std::string, std::string> extra = {}) {
  MailerdOptions options;
  options.env = {{"MAILER_SNS_TOPIC_ARNS", joined_topics()},
                 {"MAILER_SNS_CERT_HOST_PATTERN", R"(^127\.0\.0\.1$)"},
                 {"MAILER_SNS_ALLOW_HTTP", "true"}};
  for (auto& [k, v] : extra) options.env[k] = v;
  return options;
}

httplib::Result post_fixture(MailerdFixture& mailerd, const std::string& file, int cert_port,
                             httplib::Headers headers = {}) {
  return mailerd.client()->Post("/webhooks/ses", headers, body(file, cert_port), "text/plain; charset=UTF-8");
}

std::int64_t count(MailerdFixture& mailerd, const std::string& sql) {
  SQLite::Database db(mailerd.db_path().string());
  SQLite::Statement q(db, sql);
  return q.executeStep() ? q.getColumn(0).getInt64() : -1;
}

}  // namespace

TEST_CASE("webhook gives every SNS fixture its manifest verdict", "[integration][sns]") {
  CertServer certs;
  // Confirmations of an allowed topic are only logged: the SubscribeURL is a
  // real AWS host, which a test must never call.
  MailerdFixture mailerd(
      sns_options({{"MAILER_SNS_AUTO_CONFIRM", "false"},
                   {"MAILER_SNS_CERT_HOST_PATTERN", R"(^(127\.0\.0\.1|sns\.[a-z0-9-]+\.amazonaws\.com)$)"}}));
  auto all = manifest();
  for (const auto& fixture : all["fixtures"]) {
    auto file = fixture["file"].get<std::string>();
    INFO(file);
    auto res = post_fixture(mailerd, file, certs.port());
    REQUIRE(res);
    if (fixture["verdict"] == "accept") {
      CHECK(res->status == 200);
    } else if (fixture["stage"] == "parse") {
      CHECK(res->status == 400);
    } else {
      CHECK(res->status == 403);
      CHECK(res->get_header_value("Content-Type") == "application/problem+json");
      if (fixture["stage"] == "topic-allowlist") CHECK(res->body.find("sns.topic_arns") != std::string::npos);
    }
  }
  // One certificate URL, fetched once; the two foreign-host fixtures fetched nothing.
  CHECK(certs.paths() == std::vector<std::string>{"/cert.pem"});
  CHECK(mailerd.process().wait_for_log("sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription"));
  // Refusals are logged at most once a second (log::Throttle), so only the first is sure to be there.
  CHECK(mailerd.process().wait_for_log("\"msg\":\"SNS message rejected\""));
  // 20 accepted notifications, each recorded once.
  CHECK(count(mailerd, "SELECT count(*) FROM sns_messages WHERE type = 'Notification'") == 20);
}

TEST_CASE("webhook applies a permanent bounce to the batch message once", "[integration][sns]") {
  CertServer certs;
  MailerdFixture mailerd(sns_options());
  std::string message;
  {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    auto batch = insert_batch(**db, BatchRow{.status = "sending"}, 0);
    message =
        insert_message(**db, MessageRow{.batch_id = batch, .state = "sent", .email = "no-such-user@example.net"}, 0);
    (*db)->sql().exec(
        "UPDATE messages SET ses_message_id = "
        "'01004421969b1c73-20622da6-0131-4b23-b216-15eba6c12047-000000'");
  }
  auto first = post_fixture(mailerd, "envelopes/id-bounce-permanent-general-v2.json", certs.port());
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(count(mailerd,
              "SELECT count(*) FROM suppressions WHERE email = 'no-such-user@example.net' "
              "AND reason = 'bounce' AND scope = 'all'") == 1);
  CHECK(count(mailerd, "SELECT count(*) FROM events WHERE type = 'BOUNCE' AND message_id = '" + message + "'") == 1);

  auto again = post_fixture(mailerd, "envelopes/id-bounce-permanent-general-v2.json", certs.port());
  REQUIRE(again);
  CHECK(again->status == 200);
  CHECK(again->body.find("duplicate") != std::string::npos);
  CHECK(count(mailerd, "SELECT count(*) FROM events") == 1);
}

TEST_CASE("webhook refuses what it must not process, changing nothing", "[integration][sns]") {
  CertServer certs;
  SECTION("disabled without topics") {
    MailerdFixture mailerd(sns_options({{"MAILER_SNS_TOPIC_ARNS", ""}}));
    auto res = post_fixture(mailerd, "envelopes/id-delivery-v2.json", certs.port());
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(mailerd.process().wait_for_log("SNS webhook is disabled"));
    CHECK(certs.request_count() == 0);
  }
  SECTION("raw message delivery") {
    MailerdFixture mailerd(sns_options());
    auto raw = read_text(sns_dir() + "/payloads/id-bounce-permanent-general.json");
    auto res = mailerd.client()->Post("/webhooks/ses", {{"x-amz-sns-rawdelivery", "true"}}, raw, "text/plain");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(mailerd.process().wait_for_log("turn RawMessageDelivery off"));
    CHECK(count(mailerd, "SELECT count(*) FROM suppressions") == 0);
  }
  SECTION("tampered message") {
    MailerdFixture mailerd(sns_options());
    auto res = post_fixture(mailerd, "negative/tampered-message-v2.json", certs.port());
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(mailerd.process().wait_for_log("\"stage\":\"signature\""));
    CHECK(count(mailerd, "SELECT count(*) FROM events") == 0);
    CHECK(count(mailerd, "SELECT count(*) FROM sns_messages") == 0);
  }
  SECTION("header contradicting the body is refused before any fetch") {
    MailerdFixture mailerd(sns_options());
    auto res = post_fixture(mailerd, "envelopes/id-delivery-v2.json", certs.port(),
                            {{"x-amz-sns-message-type", "SubscriptionConfirmation"}});
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(count(mailerd, "SELECT count(*) FROM events") == 0);
    CHECK(certs.request_count() == 0);
  }
  SECTION("topic not allowed is refused before any fetch") {
    MailerdFixture mailerd(sns_options({{"MAILER_SNS_TOPIC_ARNS", "arn:aws:sns:us-east-1:111122223333:other"}}));
    auto res = post_fixture(mailerd, "envelopes/id-delivery-v2.json", certs.port());
    REQUIRE(res);
    CHECK(res->status == 403);
    // Refusals are logged at most once a second (log::Throttle), so only the first is sure to be there.
  CHECK(mailerd.process().wait_for_log("\"msg\":\"SNS message rejected\""));
    CHECK(certs.request_count() == 0);
  }
  SECTION("SubscribeURL outside the host pattern is never fetched") {
    MailerdFixture mailerd(sns_options());  // pattern: 127.0.0.1 only
    auto res = post_fixture(mailerd, "envelopes/subscription-confirmation-v2.json", certs.port());
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(mailerd.process().wait_for_log("\"stage\":\"subscribe-url\""));
    CHECK(certs.request_count() == 0);  // nor the certificate: refused before
  }
}

TEST_CASE("webhook refuses an over-long certificate host and keeps serving", "[integration][sns]") {
  // Once a SIGSEGV: the host regex recursed once per character of a 50,000-character host.
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:mailerd-ses-events";
  MailerdOptions options;
  options.env = {{"MAILER_SNS_TOPIC_ARNS", topic}};  // production URL policy
  MailerdFixture mailerd(options);
  nlohmann::json body{{"Type", "Notification"},
                      {"MessageId", "m"},
                      {"TopicArn", topic},
                      {"Message", "{}"},
                      {"Timestamp", "2026-12-05T00:00:00Z"},
                      {"SignatureVersion", "2"},
                      {"Signature", "eA=="},
                      {"SigningCertURL", "https://sns." + std::string(50'000, 'a') + ".amazonaws.com/x.pem"}};
  auto res = mailerd.client()->Post("/webhooks/ses", body.dump(), "text/plain; charset=UTF-8");
  REQUIRE(res);
  CHECK(res->status == 403);
  CHECK(res->get_header_value("Content-Type") == "application/problem+json");
  CHECK_THAT(res->body, Catch::Contains("SigningCertURL: URL is longer than 2048 bytes"));
  auto health = mailerd.client()->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("webhook echoes an attacker's long values shortened, in the answer and the log", "[integration][sns]") {
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:mailerd-ses-events";
  MailerdOptions options;
  options.env = {{"MAILER_SNS_TOPIC_ARNS", topic}};
  MailerdFixture mailerd(options);
  const std::string huge(400 * 1024, 'T');
  auto longest_log_line = [&] {
    std::size_t longest = 0;
    std::istringstream lines(mailerd.process().log());
    for (std::string line; std::getline(lines, line);) longest = std::max(longest, line.size());
    return longest;
  };
  SECTION("a 400 KB Type") {
    auto res = mailerd.client()->Post("/webhooks/ses", nlohmann::json{{"Type", huge}}.dump(), "text/plain");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->body.size() < 2048);
    CHECK_THAT(res->body, Catch::Contains("unknown message type 'TTTT"));
    REQUIRE(mailerd.process().wait_for_log("SNS message rejected"));
  }
  SECTION("a 400 KB TopicArn outside the allowlist") {
    nlohmann::json body{{"Type", "Notification"},
                        {"MessageId", "m"},
                        {"TopicArn", huge},
                        {"Message", "{}"},
                        {"Timestamp", "2026-12-05T00:00:00Z"},
                        {"SignatureVersion", "2"},
                        {"Signature", "eA=="},
                        {"SigningCertURL", "https://sns.us-east-1.amazonaws.com/x.pem"}};
    auto res = mailerd.client()->Post("/webhooks/ses", body.dump(), "text/plain");
    REQUIRE(res);
    CHECK(res->status == 403);
    CHECK(res->body.size() < 2048);
    REQUIRE(mailerd.process().wait_for_log("\"stage\":\"topic-allowlist\""));
  }
  CHECK(longest_log_line() < 2048);
}
