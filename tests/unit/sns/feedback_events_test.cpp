// FeedbackService::apply for the SES event types beyond bounce, complaint and
// delivery, over a migrated test database.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/render/unsubscribe.hpp"
#include "mailer/service/feedback.hpp"
#include "mailer/store/suppressions.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"
#include "unit/sns/ses_event_records.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::ses_records;

namespace {

sns::SesNotification parsed(const json& record) {
  auto result = sns::parse_ses_notification(record.dump());
  REQUIRE(result);
  return *result;
}

json detail_of(TestDb& t, const std::string& type) {
  return json::parse(t.query_text("SELECT detail_json FROM events WHERE type = '" + type + "'"));
}

// A sent bulk message to k_recipient carrying k_ses_id; returns {batch, message}.
std::pair<std::string, std::string> sent_message(TestDb& t, const std::string& ses_id = k_ses_id) {
  auto batch = insert_batch(t.db(), BatchRow{.status = "sending"}, t.clock().now_ms());
  auto id =
      insert_message(t.db(), MessageRow{.batch_id = batch, .state = "sent", .email = k_recipient}, t.clock().now_ms());
  SQLite::Statement set(t.db().sql(), "UPDATE messages SET ses_message_id = ? WHERE id = ?");
  set.bind(1, ses_id);
  set.bind(2, id);
  set.exec();
  return {batch, id};
}

}  // namespace

TEST_CASE("FeedbackService::apply stores every SES event type linked to the message", "[sns][feedback]") {
  TestDb t;
  Config config;
  auto [batch, message] = sent_message(t);
  service::FeedbackService feedback(t.db(), t.clock(), config);
  std::vector<std::pair<json, std::string>> cases{{send_event(), "SEND"},
                                                  {reject_event(), "REJECT"},
                                                  {open_event(), "OPEN"},
                                                  {click_event(), "CLICK"},
                                                  {delivery_delay_event(), "DELIVERY_DELAY"},
                                                  {rendering_failure_event(), "RENDERING_FAILURE"},
                                                  {subscription_event(false), "SUBSCRIPTION"},
                                                  {record("Teleport", "", json()), "OTHER"}};
  int n = 0;
  for (const auto& [ses_record, type] : cases) {
    INFO(type);
    auto applied = feedback.apply("sns-" + std::to_string(++n), "arn:topic", parsed(ses_record));
    REQUIRE(applied);
    CHECK_FALSE(applied->stored.duplicate);
    CHECK(applied->stored.message_id == std::optional<std::string>(message));
    CHECK(t.query_text("SELECT message_id || '|' || batch_id || '|' || email FROM events WHERE type = '" + type +
                       "'") == message + "|" + batch + "|reader@example.com");
    CHECK(t.query_int("SELECT n FROM batch_counts WHERE key = 'event:" + type + "'") == 1);
    auto detail = detail_of(t, type);
    CHECK(detail["ses_message_id"] == k_ses_id);
    CHECK(detail["sns_message_id"] == "sns-" + std::to_string(n));
  }
  CHECK(t.count_rows("events") == static_cast<std::int64_t>(cases.size()));
  CHECK(t.count_rows("suppressions") == 0);
  CHECK(t.query_text("SELECT state FROM messages WHERE id = '" + message + "'") ==
        "sent");  // a Reject changes no state
  CHECK(detail_of(t, "REJECT")["reason"] == "Bad content");
  CHECK(detail_of(t, "OTHER")["ses_type"] == "Teleport");
  auto delay = detail_of(t, "DELIVERY_DELAY");
  CHECK(delay["delay_type"] == "TransientCommunicationFailure");
  CHECK(delay["expiration_time"] == "2025-03-15T09:27:08.537Z");
  CHECK(delay["status"] == "4.4.1");
  CHECK(delay["diagnostic_code"] == "smtp; 421 4.4.1 Unable to connect");
  auto failure = detail_of(t, "RENDERING_FAILURE");
  CHECK(failure["template_name"] == "welcome");
  CHECK_THAT(failure["error_message"].get<std::string>(), Catch::StartsWith("Attribute 'name'"));
  auto subscription = detail_of(t, "SUBSCRIPTION");
  CHECK(subscription["contact_list"] == "customers");
  CHECK(subscription["unsubscribe_all"] == false);
  CHECK(subscription["topics"] == json::array({json{{"topic", "news"}, {"status", "OptOut"}}}));
}

TEST_CASE("FeedbackService::apply keeps OPEN and CLICK details without the IP address by default", "[sns][feedback]") {
  TestDb t;
  Config config;
  sent_message(t);
  service::FeedbackService feedback(t.db(), t.clock(), config);
  REQUIRE(feedback.apply("sns-o", "arn:topic", parsed(open_event())));
  REQUIRE(feedback.apply("sns-c", "arn:topic", parsed(click_event())));
  auto open = detail_of(t, "OPEN");
  CHECK(open["user_agent"] == "Mozilla/5.0 (Windows NT 10.0) Mail/1.0");
  CHECK(open["timestamp"] == "2025-03-14T10:00:00.000Z");
  CHECK_FALSE(open.contains("ip_address"));
  auto click = detail_of(t, "CLICK");
  CHECK(click["link"] == "https://shop.example.com/offer?id=7");
  CHECK(click["link_tags"] ==
        json{{"campaign", json::array({"spring"})}, {"samplekey0", json::array({"samplevalue0"})}});
  CHECK(click["user_agent"] == "Mozilla/5.0 (Macintosh) Mail/2.0");
  CHECK(click["timestamp"] == "2025-03-14T10:01:00.000Z");
  CHECK_FALSE(click.contains("ip_address"));
  CHECK(t.query_text("SELECT count(*) FROM events WHERE detail_json LIKE '%192.0.2.1%'") == "0");

  SECTION("events.store_client_ip keeps it") {
    config.events.store_client_ip = true;
    REQUIRE(feedback.apply("sns-o2", "arn:topic", parsed(open_event())));
    REQUIRE(feedback.apply("sns-c2", "arn:topic", parsed(click_event())));
    CHECK(t.query_int("SELECT count(*) FROM events WHERE json_extract(detail_json, '$.ip_address') = '192.0.2.1'") ==
          2);
  }
}

TEST_CASE("FeedbackService::apply bounds what it stores from outside", "[sns][feedback]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto click = click_event("https://shop.example.com/?q=" + std::string(5000, 'x'));
  click["click"]["userAgent"] = std::string(1000, 'u');
  for (int i = 0; i < 100; ++i) click["click"]["linkTags"]["tag" + std::to_string(i)] = json::array({"v"});
  REQUIRE(feedback.apply("sns-long", "arn:topic", parsed(click)));
  auto detail = detail_of(t, "CLICK");
  CHECK(detail["link"].get<std::string>().size() == service::k_max_detail_link_bytes);
  CHECK(detail["user_agent"].get<std::string>().size() == service::k_max_detail_user_agent_bytes);
  CHECK(detail["link_tags"].size() == service::k_max_detail_entries);
  REQUIRE(feedback.apply("sns-other", "arn:topic", parsed(record(std::string(300, 'T'), "", json()))));
  CHECK(detail_of(t, "OTHER")["ses_type"] == std::string(64, 'T'));
  CHECK(t.query_text("SELECT message_id FROM events WHERE type = 'OTHER'") == "<none>");  // unknown SES id
}

TEST_CASE("FeedbackService::apply finds an engagement event's message by X-Mailer-Message-Id", "[sns][feedback]") {
  TestDb t;
  Config config;
  auto [batch, message] = sent_message(t, "ses-id-not-yet-known");
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto open = open_event();
  open["mail"] = mail(k_ses_id, {k_recipient}, message);
  REQUIRE(feedback.apply("sns-h", "arn:topic", parsed(open)));
  CHECK(t.query_text("SELECT message_id FROM events WHERE type = 'OPEN'") == message);
}

TEST_CASE("FeedbackService::apply unsubscribes from bulk mail on Subscription unsubscribeAll",
          "[sns][feedback][unsubscribe]") {
  TestDb t;
  Config config;
  config.unsubscribe.secret = "test-secret";
  auto [batch, message] = sent_message(t);
  service::FeedbackService feedback(t.db(), t.clock(), config);

  SECTION("unsubscribeAll false changes no suppression") {
    REQUIRE(feedback.apply("sns-keep", "arn:topic", parsed(subscription_event(false))));
    CHECK(t.count_rows("suppressions") == 0);
    CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 0);
  }
  SECTION("unsubscribeAll true: bulk only, once per message, like the one-click link") {
    auto applied = feedback.apply("sns-leave", "arn:topic", parsed(subscription_event(true)));
    REQUIRE(applied);
    REQUIRE(applied->stored.suppressed.size() == 1);
    CHECK(applied->stored.suppressed[0].reason == store::SuppressionReason::unsubscribe);
    CHECK(t.query_text("SELECT reason || '/' || scope FROM suppressions WHERE email = 'reader@example.com'") ==
          "unsubscribe/bulk");
    auto stored = store::SuppressionRepo(t.db(), t.clock()).get("reader@example.com");
    REQUIRE(stored);
    CHECK(store::blocks(stored->scope, store::MessageKind::bulk));
    CHECK_FALSE(store::blocks(stored->scope, store::MessageKind::transactional));
    CHECK(t.query_text("SELECT message_id || '|' || batch_id FROM events WHERE type = 'UNSUBSCRIBE'") ==
          message + "|" + batch);
    CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'SUBSCRIPTION'") == 1);

    // The same reader then uses the List-Unsubscribe link: already done.
    auto one_click = feedback.unsubscribe(render::make_unsubscribe_token(config.unsubscribe.secret, message));
    REQUIRE(one_click);
    CHECK(one_click->already);
    // A second Subscription event is stored, but unsubscribes nothing again.
    auto again = feedback.apply("sns-leave-2", "arn:topic", parsed(subscription_event(true)));
    REQUIRE(again);
    CHECK(again->stored.suppressed.empty());
    CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 1);
    CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'SUBSCRIPTION'") == 2);
  }
  SECTION("a bounce suppression is not narrowed") {
    insert_suppression(t.db(), "reader@example.com", "bounce", "all", 0);
    REQUIRE(feedback.apply("sns-leave", "arn:topic", parsed(subscription_event(true))));
    CHECK(t.query_text("SELECT reason || '/' || scope FROM suppressions WHERE email = 'reader@example.com'") ==
          "bounce/all");
  }
}

TEST_CASE("FeedbackService::apply refuses a record naming no recipient and marks nothing seen", "[sns][feedback]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto record = parsed(open_event());
  record.recipients.clear();
  auto applied = feedback.apply("sns-empty", "arn:topic", record);
  REQUIRE_FALSE(applied);
  CHECK(applied.error().code == ErrorCode::invalid_input);
  CHECK(t.count_rows("sns_messages") == 0);
  CHECK(t.count_rows("events") == 0);
}
