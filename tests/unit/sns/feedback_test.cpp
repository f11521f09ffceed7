// SES feedback and unsubscribes at the database level: FeedbackService over a
// migrated test database, with fixture payloads from shared/testdata/sns.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/render/unsubscribe.hpp"
#include "mailer/service/feedback.hpp"
#include "mailer/service/guard.hpp"
#include "mailer/sns/verify.hpp"
#include "mailer/store/batches.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test;
using namespace mailer::test::sns_fixtures;

namespace {

// The SES record inside envelope fixture `file`.
sns::SesNotification record_of(const std::string& file) {
  auto envelope = sns::parse_envelope(body(file, 1));
  REQUIRE(envelope);
  auto record = sns::parse_ses_notification(envelope->message);
  REQUIRE(record);
  return *record;
}

std::string suppression(TestDb& t, const std::string& email) {
  return t.query_text("SELECT reason || '/' || scope FROM suppressions WHERE email = '" + email + "'");
}

// A sent bulk message carrying `ses_id`, in a new batch; returns {batch, message}.
std::pair<std::string, std::string> sent_message(TestDb& t, const std::string& email, const std::string& ses_id,
                                                 std::string batch = {}) {
  if (batch.empty()) batch = insert_batch(t.db(), BatchRow{.status = "sending"}, t.clock().now_ms());
  auto id = insert_message(t.db(), MessageRow{.batch_id = batch, .state = "sent", .email = email}, t.clock().now_ms());
  SQLite::Statement set(t.db().sql(), "UPDATE messages SET ses_message_id = ? WHERE id = ?");
  set.bind(1, ses_id);
  set.bind(2, id);
  set.exec();
  return {batch, id};
}

const char* k_permanent = "envelopes/id-bounce-permanent-general-v2.json";
const char* k_permanent_ses_id = "01004421969b1c73-20622da6-0131-4b23-b216-15eba6c12047-000000";
const char* k_transient = "envelopes/id-bounce-transient-mailboxfull-v1.json";

}  // namespace

TEST_CASE("FeedbackService::apply suppresses a permanent bounce of a batch message", "[sns][feedback]") {
  TestDb t;
  Config config;
  auto [batch, message] = sent_message(t, "No-Such-User@example.net", k_permanent_ses_id);
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto applied = feedback.apply("sns-1", "arn:topic", record_of(k_permanent));
  REQUIRE(applied);
  CHECK_FALSE(applied->stored.duplicate);
  CHECK(applied->stored.message_id == std::optional<std::string>(message));
  CHECK(applied->stored.batch_id == std::optional<std::string>(batch));
  CHECK(suppression(t, "no-such-user@example.net") == "bounce/all");
  CHECK(t.query_text("SELECT message_id || '|' || batch_id FROM events WHERE type = 'BOUNCE'") ==
        message + "|" + batch);
  auto detail = nlohmann::json::parse(t.query_text("SELECT detail_json FROM events WHERE type = 'BOUNCE'"));
  CHECK(detail["bounce_type"] == "Permanent");
  CHECK(detail["bounce_subtype"] == "General");
  CHECK(detail["ses_message_id"] == k_permanent_ses_id);
  CHECK(detail["sns_message_id"] == "sns-1");
  CHECK_THAT(detail["diagnostic_code"].get<std::string>(), Catch::StartsWith("smtp; 550"));
  CHECK(t.query_int("SELECT n FROM batch_counts WHERE key = 'feedback:bounce_permanent'") == 1);
  CHECK(t.query_int("SELECT n FROM batch_counts WHERE key = 'event:BOUNCE'") == 1);

  SECTION("the same SNS MessageId again changes nothing") {
    auto again = feedback.apply("sns-1", "arn:topic", record_of(k_permanent));
    REQUIRE(again);
    CHECK(again->stored.duplicate);
    CHECK(t.count_rows("events") == 1);
    CHECK(t.query_int("SELECT n FROM batch_counts WHERE key = 'feedback:bounce_permanent'") == 1);
  }
}

TEST_CASE("FeedbackService::apply acts on feedback for unknown SES ids", "[sns][feedback]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  REQUIRE(feedback.apply("sns-c", "arn:topic", record_of("envelopes/ev-complaint-abuse-v2.json")));
  CHECK(suppression(t, "annoyed.reader@example.net") == "complaint/all");
  CHECK(t.query_text("SELECT message_id FROM events WHERE type = 'COMPLAINT'") == "<none>");
  CHECK(t.query_text("SELECT json_extract(detail_json, '$.feedback_type') FROM events") == "abuse");
}

TEST_CASE("FeedbackService::apply finds the message by X-Mailer-Message-Id", "[sns][feedback]") {
  TestDb t;
  Config config;
  auto [batch, message] = sent_message(t, "no-such-user@example.net", "some-other-ses-id");
  auto record = record_of(k_permanent);
  record.mailer_message_id = message;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto applied = feedback.apply("sns-h", "arn:topic", record);
  REQUIRE(applied);
  CHECK(applied->stored.message_id == std::optional<std::string>(message));
}

TEST_CASE("FeedbackService::apply suppresses soft bounces at the limit within the window", "[sns][feedback]") {
  TestDb t;
  Config config;  // 3 within 168 h
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto record = record_of(k_transient);
  REQUIRE(feedback.apply("sns-s1", "arn:topic", record));
  REQUIRE(feedback.apply("sns-s2", "arn:topic", record));
  CHECK(suppression(t, "full.mailbox@example.net") == "<none>");
  SECTION("third inside the window suppresses") {
    t.clock().advance(std::chrono::hours(100));
    REQUIRE(feedback.apply("sns-s3", "arn:topic", record));
    CHECK(suppression(t, "full.mailbox@example.net") == "soft_bounce/all");
  }
  SECTION("the first two fall out of the window") {
    t.clock().advance(std::chrono::hours(169));
    REQUIRE(feedback.apply("sns-s3", "arn:topic", record));
    CHECK(suppression(t, "full.mailbox@example.net") == "<none>");
  }
  SECTION("undetermined bounces do not count") {
    auto undetermined = record;
    undetermined.bounce_type = "Undetermined";
    REQUIRE(feedback.apply("sns-u", "arn:topic", undetermined));
    CHECK(suppression(t, "full.mailbox@example.net") == "<none>");
  }
}

TEST_CASE("FeedbackService::apply records undetermined bounces and deliveries only", "[sns][feedback]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  REQUIRE(feedback.apply("sns-u", "arn:topic", record_of("envelopes/ev-bounce-undetermined-v1.json")));
  REQUIRE(feedback.apply("sns-d", "arn:topic", record_of("envelopes/id-delivery-v1.json")));
  CHECK(t.count_rows("suppressions") == 0);
  CHECK(t.query_int("SELECT count(*) FROM events WHERE type IN ('BOUNCE', 'DELIVERY')") == 2);
}

TEST_CASE("FeedbackService::apply never narrows a suppression", "[sns][feedback]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  SECTION("a bounce widens an unsubscribe to all mail") {
    insert_suppression(t.db(), "no-such-user@example.net", "unsubscribe", "bulk", 0);
    REQUIRE(feedback.apply("sns-1", "arn:topic", record_of(k_permanent)));
    CHECK(suppression(t, "no-such-user@example.net") == "bounce/all");
  }
  SECTION("a manual suppression stays") {
    insert_suppression(t.db(), "no-such-user@example.net", "manual", "all", 0);
    REQUIRE(feedback.apply("sns-1", "arn:topic", record_of(k_permanent)));
    CHECK(suppression(t, "no-such-user@example.net") == "manual/all");
  }
}

TEST_CASE("FeedbackService::unsubscribe suppresses bulk mail once per message", "[sns][unsubscribe]") {
  TestDb t;
  Config config;
  config.unsubscribe.secret = "test-secret";
  auto [batch, message] = sent_message(t, "Ana@Example.com", "ses-a");
  service::FeedbackService feedback(t.db(), t.clock(), config);
  auto token = render::make_unsubscribe_token(config.unsubscribe.secret, message);
  auto done = feedback.unsubscribe(token);
  REQUIRE(done);
  CHECK_FALSE(done->already);
  CHECK(suppression(t, "ana@example.com") == "unsubscribe/bulk");
  CHECK(t.query_text("SELECT batch_id FROM events WHERE type = 'UNSUBSCRIBE'") == batch);
  auto again = feedback.unsubscribe(token);
  REQUIRE(again);
  CHECK(again->already);
  CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 1);

  SECTION("forged or altered tokens change nothing") {
    auto forged = render::make_unsubscribe_token("another-secret", message);
    CHECK(feedback.unsubscribe(forged).error().code == ErrorCode::not_found);
    auto altered = token;
    altered.back() = altered.back() == 'A' ? 'B' : 'A';
    CHECK(feedback.unsubscribe(altered).error().code == ErrorCode::not_found);
    auto unknown = render::make_unsubscribe_token(config.unsubscribe.secret, "msg_gone");
    CHECK(feedback.unsubscribe(unknown).error().code == ErrorCode::not_found);
    CHECK(t.query_int("SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 1);
  }
  SECTION("an unsubscribe does not lift a bounce") {
    auto [b2, m2] = sent_message(t, "bob@example.com", "ses-b", batch);
    insert_suppression(t.db(), "bob@example.com", "bounce", "all", 0);
    REQUIRE(feedback.unsubscribe(render::make_unsubscribe_token(config.unsubscribe.secret, m2)));
    CHECK(suppression(t, "bob@example.com") == "bounce/all");
  }
}

TEST_CASE("guard_pause_reason judges rates after the minimum sample", "[sns][guard]") {
  GuardConfig config;  // 5 %, 0.1 %, 200
  store::BatchReputation batch{"bat_x", store::BatchStatus::sending, 400, 30, 0};
  CHECK(service::guard_pause_reason(batch, config) ==
        std::optional<std::string>("reputation guard: bounce rate 7.5% > 5.0% after 400 sends"));
  batch.permanent_bounces = 20;  // exactly 5 %: not over
  CHECK_FALSE(service::guard_pause_reason(batch, config));
  batch.complaints = 2;
  CHECK(service::guard_pause_reason(batch, config) ==
        std::optional<std::string>("reputation guard: complaint rate 0.50% > 0.10% after 400 sends"));
  batch.sent = 199;
  batch.permanent_bounces = 199;
  CHECK_FALSE(service::guard_pause_reason(batch, config));
}

TEST_CASE("guard_rates gives the rates the guard judges, and whether it judges", "[sns][guard]") {
  GuardConfig config;  // 5 %, 0.1 %, 200
  auto rates = service::guard_rates({"bat_x", store::BatchStatus::sending, 400, 30, 2}, config);
  CHECK(rates.bounce_rate == Approx(0.075));
  CHECK(rates.complaint_rate == Approx(0.005));
  CHECK(rates.judged);
  CHECK_FALSE(service::guard_rates({"bat_x", store::BatchStatus::sending, 199, 30, 2}, config).judged);
  auto none = service::guard_rates({"bat_x", store::BatchStatus::sending, 0, 0, 0}, config);
  CHECK(none.bounce_rate == 0);
  CHECK_FALSE(none.judged);
  CHECK(service::is_guard_pause_reason(*service::guard_pause_reason({"b", {}, 400, 30, 0}, config)));
  CHECK_FALSE(service::is_guard_pause_reason("paused by operator"));
}

TEST_CASE("FeedbackRepo::active_batch_reputations reads every batch the guard may pause", "[sns][guard]") {
  TestDb t;
  auto sending = insert_batch(t.db(), BatchRow{.status = "sending"}, 0);
  sent_message(t, "a@example.com", "ses-a", sending);
  sent_message(t, "b@example.com", "ses-b", sending);
  insert_batch(t.db(), BatchRow{.status = "paused"}, 0);
  insert_batch(t.db(), BatchRow{.status = "completed"}, 0);
  auto queued = insert_batch(t.db(), BatchRow{.status = "queued"}, 0);
  auto active = store::FeedbackRepo(t.db(), t.clock()).active_batch_reputations();
  REQUIRE(active);
  REQUIRE(active->size() == 2);
  std::map<std::string, std::int64_t> sent;
  for (const auto& batch : *active) sent[batch.batch_id] = batch.sent;
  CHECK(sent == std::map<std::string, std::int64_t>{{sending, 2}, {queued, 0}});
}

TEST_CASE("FeedbackService::apply pauses a batch past the bounce limit, and resume re-arms", "[sns][guard]") {
  TestDb t;
  Config config;
  config.guard.min_sample = 20;
  auto batch = insert_batch(t.db(), BatchRow{.status = "sending"}, 0);
  auto first = sent_message(t, "no-such-user@example.net", k_permanent_ses_id, batch).second;
  for (int i = 1; i < 20; ++i)
    sent_message(t, "r" + std::to_string(i) + "@example.com", "ses-" + std::to_string(i), batch);
  auto queued = insert_message(t.db(), MessageRow{.batch_id = batch, .state = "queued", .email = "q@example.com"}, 0);
  service::FeedbackService feedback(t.db(), t.clock(), config);

  auto one = feedback.apply("sns-1", "arn:topic", record_of(k_permanent));  // 1/20 = 5 %: not over
  REQUIRE(one);
  CHECK_FALSE(one->paused);
  auto record = record_of(k_permanent);
  record.ses_message_id = "ses-1";
  record.recipients[0].email = "r1@example.com";
  auto two = feedback.apply("sns-2", "arn:topic", record);  // 2/20 = 10 %
  REQUIRE(two);
  CHECK(two->paused == std::optional<std::string>("reputation guard: bounce rate 10.0% > 5.0% after 20 sends"));
  CHECK(t.query_text("SELECT status || '|' || pause_reason FROM batches") ==
        "paused|reputation guard: bounce rate 10.0% > 5.0% after 20 sends");
  CHECK(message_int(t.db(), queued, "paused") == 1);
  (void)first;

  auto resumed = store::BatchRepo(t.db(), t.clock()).resume(batch);
  REQUIRE(resumed);
  CHECK(t.query_text("SELECT pause_reason FROM batches") == "<none>");
  record.ses_message_id = "ses-2";
  record.recipients[0].email = "r2@example.com";
  auto three = feedback.apply("sns-3", "arn:topic", record);
  REQUIRE(three);
  CHECK(three->paused);
  CHECK(t.query_text("SELECT status FROM batches") == "paused");
}

TEST_CASE("FeedbackRepo::account_reputation counts hard bounces and complaints since a time", "[sns][guard]") {
  TestDb t;
  Config config;
  service::FeedbackService feedback(t.db(), t.clock(), config);
  REQUIRE(feedback.apply("sns-1", "arn:topic", record_of(k_permanent)));
  REQUIRE(feedback.apply("sns-2", "arn:topic", record_of(k_transient)));
  REQUIRE(feedback.apply("sns-3", "arn:topic", record_of("envelopes/id-complaint-abuse-v1.json")));
  auto figures = store::FeedbackRepo(t.db(), t.clock()).account_reputation(t.clock().now_ms() - 1000);
  REQUIRE(figures);
  CHECK(figures->permanent_bounces == 1);
  CHECK(figures->complaints == 1);
  auto later = store::FeedbackRepo(t.db(), t.clock()).account_reputation(t.clock().now_ms() + 1);
  REQUIRE(later);
  CHECK(later->permanent_bounces == 0);
}
