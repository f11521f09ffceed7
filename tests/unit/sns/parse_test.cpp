#include <catch2/catch.hpp>

#include "mailer/sns/parse.hpp"
#include "mailer/sns/verify.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test::sns_fixtures;

TEST_CASE("sns::parse_ses_notification extracts what the manifest expects", "[sns]") {
  int checked = 0;
  auto all = manifest();
  for (const auto& fixture : all["fixtures"]) {
    if (!fixture.contains("expected_payload")) continue;
    const auto& expected = fixture["expected_payload"];
    auto file = fixture["file"].get<std::string>();
    INFO(file);
    auto envelope = sns::parse_envelope(body(file, 1));
    REQUIRE(envelope);
    auto parsed = sns::parse_ses_notification(envelope->message);
    REQUIRE(parsed);
    CHECK((parsed->flavour == sns::Flavour::notification_type) == (expected["flavour"] == "notificationType"));
    CHECK(parsed->type_name == expected["type"].get<std::string>());
    CHECK(parsed->ses_message_id == expected["ses_message_id"].get<std::string>());
    std::vector<std::string> emails;
    for (const auto& r : parsed->recipients) emails.push_back(r.email);
    CHECK(emails == expected["recipients"].get<std::vector<std::string>>());
    CHECK(parsed->bounce_type == expected.value("bounceType", ""));
    CHECK(parsed->bounce_subtype == expected.value("bounceSubType", ""));
    CHECK(parsed->complaint_feedback_type == expected.value("complaintFeedbackType", ""));
    auto action = sns::classify(*parsed);
    auto suggested = expected["suggested_action"].get<std::string>();
    if (suggested.starts_with("suppress")) {
      CHECK((action == sns::FeedbackAction::suppress_bounce || action == sns::FeedbackAction::suppress_complaint));
    } else if (parsed->bounce_type == "Transient") {
      CHECK(action == sns::FeedbackAction::soft_bounce);
    } else {
      CHECK(action == sns::FeedbackAction::record_only);
    }
    ++checked;
  }
  CHECK(checked == 20);
}

TEST_CASE("sns::parse_ses_notification reads bounce details, tags and our header", "[sns]") {
  auto payload = nlohmann::json::parse(read_text(sns_dir() + "/payloads/ev-bounce-permanent-general.json"));
  payload["mail"]["headers"].push_back({{"name", "x-mailer-message-id"}, {"value", "msg_abc"}});
  auto parsed = sns::parse_ses_notification(payload.dump());
  REQUIRE(parsed);
  CHECK(parsed->mailer_message_id == std::optional<std::string>("msg_abc"));
  CHECK(parsed->tags.at("ses:configuration-set") == std::vector<std::string>{"mailerd-prod"});
  REQUIRE(parsed->recipients.size() == 1);
  CHECK(parsed->recipients[0].status == "5.1.1");
  CHECK(parsed->recipients[0].action == "failed");
  CHECK_THAT(parsed->recipients[0].diagnostic_code, Catch::StartsWith("smtp; 550 5.1.1"));
  CHECK(sns::event_type(parsed->kind) == "BOUNCE");
}

TEST_CASE("sns::classify applies the suppression rules", "[sns]") {
  sns::SesNotification n;
  n.kind = sns::SesEventKind::bounce;
  SECTION("SES suppression-list subtypes are permanent") {
    n.bounce_type = "Permanent";
    n.bounce_subtype = "OnAccountSuppressionList";
    CHECK(sns::classify(n) == sns::FeedbackAction::suppress_bounce);
  }
  SECTION("undetermined is recorded only") {
    n.bounce_type = "Undetermined";
    CHECK(sns::classify(n) == sns::FeedbackAction::record_only);
  }
  SECTION("not-spam complaints do not suppress") {
    n.kind = sns::SesEventKind::complaint;
    n.complaint_feedback_type = "not-spam";
    CHECK(sns::classify(n) == sns::FeedbackAction::record_only);
    n.complaint_feedback_type = "";
    CHECK(sns::classify(n) == sns::FeedbackAction::suppress_complaint);
  }
}

TEST_CASE("sns::parse_ses_notification names what is wrong", "[sns]") {
  CHECK(sns::parse_ses_notification("x").error().detail.starts_with("Message is not valid JSON (at byte "));
  CHECK(sns::parse_ses_notification("{}").error().detail == "Message has neither notificationType nor eventType");
  CHECK(sns::parse_ses_notification(R"({"eventType":"Bounce"})").error().detail == "mail object is missing");
  CHECK(sns::parse_ses_notification(R"({"eventType":"Bounce","mail":{}})").error().detail ==
        "mail.messageId is missing");
  CHECK(sns::parse_ses_notification(R"({"eventType":"Bounce","mail":{"messageId":"m"},"bounce":{}})").error().detail ==
        "bounce.bouncedRecipients is missing");
  // Every kind needs someone it is about: an Open without mail.destination
  // could only be dropped.
  CHECK(sns::parse_ses_notification(R"({"eventType":"Open","mail":{"messageId":"m"}})").error().detail ==
        "mail.destination is missing");
  auto open =
      sns::parse_ses_notification(R"({"eventType":"Open","mail":{"messageId":"m","destination":["a@x.example"]}})");
  REQUIRE(open);
  CHECK(open->kind == sns::SesEventKind::open);
}

TEST_CASE("sns::parse_ses_notification refuses a deep or huge Message", "[sns]") {
  std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto nested = sns::parse_ses_notification(R"({"eventType":"Bounce","mail":{"messageId":"m","tags":)" + deep + "}}");
  REQUIRE_FALSE(nested);
  CHECK(nested.error().code == ErrorCode::invalid_input);
  CHECK(nested.error().detail.starts_with("Message nests deeper than 64 levels at mail.tags"));
  auto huge = sns::parse_ses_notification(R"({"eventType":")" + std::string(2 * 1024 * 1024, 'x') + R"("})");
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code == ErrorCode::too_large);
}
