// SES event publishing beyond bounces through the real mailerd: SNS envelopes
// signed at test time with the TEST-ONLY key, the certificate served on
// loopback, the results read back through /v1/events and /v1/suppressions.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "integration/api_support.hpp"
#include "support/message_rows.hpp"
#include "support/sns_signer.hpp"
#include "unit/sns/ses_event_records.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::api;
using namespace mailer::test::sns_fixtures;
namespace records = mailer::test::ses_records;

namespace {

MailerdOptions sns_events_options() {
  return api_options({{"MAILER_SNS_TOPIC_ARNS", topic_allowlist()[1]},
                      {"MAILER_SNS_CERT_HOST_PATTERN", R"(^127\.0\.0\.1$)"},
                      {"MAILER_SNS_ALLOW_HTTP", "true"}});
}

httplib::Result post_event(MailerdFixture& mailerd, const CertServer& certs, const json& record,
                           const std::string& sns_id) {
  auto body = signed_notification(record.dump(), sns_id, topic_allowlist()[1], certs.port());
  return mailerd.client()->Post("/webhooks/ses", body, "text/plain; charset=UTF-8");
}

// One event of `type` as /v1/events shows it.
json only_event(httplib::Client& client, const std::string& key, const std::string& type) {
  auto data = body_of(get(client, "/v1/events?type=" + type, key))["data"];
  REQUIRE(data.size() == 1);
  return data[0];
}

}  // namespace

TEST_CASE("webhook stores opens, clicks and subscriptions linked to the message", "[integration][sns]") {
  CertServer certs;
  MailerdFixture mailerd(sns_events_options());
  std::string batch, message;
  {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    batch = insert_batch(**db, BatchRow{.status = "sending"}, 0);
    message = insert_message(**db, MessageRow{.batch_id = batch, .state = "sent", .email = "reader@example.com"}, 0);
    SQLite::Statement set((*db)->sql(), "UPDATE messages SET ses_message_id = ? WHERE id = ?");
    set.bind(1, records::k_ses_id);
    set.bind(2, message);
    set.exec();
  }
  auto reader = mailerd.create_key("reader", "read");
  auto client = mailerd.client();

  int n = 0;
  for (const auto& ses_record : {records::open_event(), records::click_event(), records::subscription_event(true),
                                 records::record("Teleport", "", json())}) {
    auto res = post_event(mailerd, certs, ses_record, "sns-event-" + std::to_string(++n));
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == 200);
    CHECK(json::parse(res->body) == json{{"status", "recorded"}});
  }

  auto click = only_event(*client, reader.key, "CLICK");
  CHECK(click["message_id"] == message);
  CHECK(click["batch_id"] == batch);
  CHECK(click["email"] == "reader@example.com");
  CHECK(click["detail"]["link"] == "https://shop.example.com/offer?id=7");
  CHECK(click["detail"]["link_tags"]["campaign"] == json::array({"spring"}));
  CHECK_FALSE(click["detail"].contains("ip_address"));
  CHECK(only_event(*client, reader.key, "OPEN")["message_id"] == message);
  auto subscription = only_event(*client, reader.key, "SUBSCRIPTION");
  CHECK(subscription["detail"]["unsubscribe_all"] == true);
  CHECK(only_event(*client, reader.key, "UNSUBSCRIBE")["message_id"] == message);
  CHECK(only_event(*client, reader.key, "OTHER")["detail"]["ses_type"] == "Teleport");
  auto suppressed = body_of(get(*client, "/v1/suppressions/reader@example.com", reader.key));
  CHECK(suppressed["reason"] == "unsubscribe");
  CHECK(suppressed["scope"] == "bulk");

  SECTION("a field of the wrong type is refused and nothing is stored") {
    auto bad = records::click_event();
    bad["click"]["link"] = 42;
    auto res = post_event(mailerd, certs, bad, "sns-event-bad");
    auto problem = require_problem(res, 400, "invalid_input");
    CHECK_THAT(problem["detail"].get<std::string>(), Catch::Contains("click.link must be a string"));
    CHECK(body_of(get(*client, "/v1/events?type=CLICK", reader.key))["data"].size() == 1);
  }
  SECTION("the same SNS message again is a duplicate") {
    auto res = post_event(mailerd, certs, records::open_event(), "sns-event-1");
    REQUIRE(res);
    CHECK(json::parse(res->body) == json{{"status", "duplicate"}});
    CHECK(body_of(get(*client, "/v1/events?type=OPEN", reader.key))["data"].size() == 1);
  }
}
