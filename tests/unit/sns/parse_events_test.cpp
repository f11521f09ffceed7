// parse_ses_notification for the event-publishing types beyond bounce,
// complaint and delivery, built by ses_event_records.hpp.
#include <catch2/catch.hpp>

#include "mailer/sns/parse.hpp"
#include "unit/sns/ses_event_records.hpp"

using namespace mailer;
using namespace mailer::test::ses_records;

namespace {

sns::SesNotification parsed(const json& record) {
  auto result = sns::parse_ses_notification(record.dump());
  INFO(record.dump());
  REQUIRE(result);
  return *result;
}

std::string error_of(const json& record) {
  auto result = sns::parse_ses_notification(record.dump());
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::invalid_input);
  return result.error().detail;
}

std::vector<std::string> emails(const sns::SesNotification& n) {
  std::vector<std::string> out;
  for (const auto& r : n.recipients) out.push_back(r.email);
  return out;
}

}  // namespace

TEST_CASE("sns::parse_ses_notification names each event-publishing type", "[sns]") {
  struct Case {
    json record;
    sns::SesEventKind kind;
    const char* stored;
  };
  std::vector<Case> cases{{send_event(), sns::SesEventKind::send, "SEND"},
                          {reject_event(), sns::SesEventKind::reject, "REJECT"},
                          {open_event(), sns::SesEventKind::open, "OPEN"},
                          {click_event(), sns::SesEventKind::click, "CLICK"},
                          {delivery_delay_event(), sns::SesEventKind::delivery_delay, "DELIVERY_DELAY"},
                          {rendering_failure_event(), sns::SesEventKind::rendering_failure, "RENDERING_FAILURE"},
                          {subscription_event(false), sns::SesEventKind::subscription, "SUBSCRIPTION"}};
  for (const auto& c : cases) {
    auto n = parsed(c.record);
    INFO(n.type_name);
    CHECK(n.flavour == sns::Flavour::event_type);
    CHECK(n.kind == c.kind);
    CHECK(sns::event_type(n.kind) == c.stored);
    CHECK(n.ses_message_id == k_ses_id);
    CHECK(emails(n) == std::vector<std::string>{k_recipient});
    CHECK(sns::classify(n) == sns::FeedbackAction::record_only);
  }
}

TEST_CASE("sns::parse_ses_notification reads the fields of each type", "[sns]") {
  SECTION("Reject") { CHECK(parsed(reject_event()).event.reason == "Bad content"); }
  SECTION("Open") {
    auto e = parsed(open_event()).event;
    CHECK(e.ip_address == "192.0.2.1");
    CHECK(e.user_agent == "Mozilla/5.0 (Windows NT 10.0) Mail/1.0");
    CHECK(e.timestamp == "2025-03-14T10:00:00.000Z");
  }
  SECTION("Click") {
    auto e = parsed(click_event()).event;
    CHECK(e.link == "https://shop.example.com/offer?id=7");
    CHECK(e.link_tags.at("campaign") == std::vector<std::string>{"spring"});
    CHECK(e.user_agent == "Mozilla/5.0 (Macintosh) Mail/2.0");
    CHECK(e.ip_address == "192.0.2.1");
  }
  SECTION("DeliveryDelay uses delayedRecipients, with status and diagnostic code") {
    auto record = delivery_delay_event();
    record["mail"]["destination"] = json::array({"someone-else@example.com"});
    auto n = parsed(record);
    CHECK(emails(n) == std::vector<std::string>{k_recipient});
    CHECK(n.recipients[0].status == "4.4.1");
    CHECK(n.recipients[0].diagnostic_code == "smtp; 421 4.4.1 Unable to connect");
    CHECK(n.event.delay_type == "TransientCommunicationFailure");
    CHECK(n.event.expiration_time == "2025-03-15T09:27:08.537Z");
  }
  SECTION("Rendering Failure") {
    auto e = parsed(rendering_failure_event()).event;
    CHECK(e.template_name == "welcome");
    CHECK_THAT(e.error_message, Catch::StartsWith("Attribute 'name'"));
  }
  SECTION("Subscription reads the new preferences") {
    auto n = parsed(subscription_event(true));
    CHECK(n.event.contact_list == "customers");
    CHECK(n.event.unsubscribe_all);
    REQUIRE(n.event.topics.size() == 1);
    CHECK(n.event.topics[0].topic_name == "news");
    CHECK(n.event.topics[0].subscription_status == "OptOut");
    CHECK(sns::classify(n) == sns::FeedbackAction::unsubscribe_bulk);
    CHECK(sns::classify(parsed(subscription_event(false))) == sns::FeedbackAction::record_only);
  }
  SECTION("every recipient of mail.destination") {
    auto record = open_event();
    record["mail"]["destination"] = json::array({"a@example.com", "b@example.com"});
    CHECK(emails(parsed(record)) == std::vector<std::string>{"a@example.com", "b@example.com"});
  }
}

TEST_CASE("sns::parse_ses_notification keeps an unknown type as other", "[sns]") {
  auto n = parsed(record("Teleport", "teleport", {{"where", "moon"}}));
  CHECK(n.kind == sns::SesEventKind::other);
  CHECK(n.type_name == "Teleport");
  CHECK(sns::event_type(n.kind) == "OTHER");
  CHECK(emails(n) == std::vector<std::string>{k_recipient});
  CHECK(sns::classify(n) == sns::FeedbackAction::record_only);
}

TEST_CASE("sns::parse_ses_notification tolerates missing optional fields", "[sns]") {
  CHECK(parsed(record("Open", "", json())).event.user_agent.empty());
  CHECK(parsed(record("Send", "", json())).kind == sns::SesEventKind::send);
  auto click = click_event();
  click["click"].erase("linkTags");
  click["click"]["userAgent"] = nullptr;
  click["click"]["unknownField"] = json::array({1, 2});
  auto n = parsed(click);
  CHECK(n.event.link_tags.empty());
  CHECK(n.event.user_agent.empty());
  auto subscription = subscription_event(true);
  subscription["subscription"].erase("newTopicPreferences");
  CHECK_FALSE(parsed(subscription).event.unsubscribe_all);
}

TEST_CASE("sns::parse_ses_notification names a field of the wrong type", "[sns]") {
  auto click = click_event();
  SECTION("a string") {
    click["click"]["link"] = 42;
    CHECK(error_of(click) == "click.link must be a string");
  }
  SECTION("link tags") {
    click["click"]["linkTags"]["campaign"] = json::array({1});
    CHECK(error_of(click) == "click.linkTags.campaign must be an array of strings");
  }
  SECTION("the kind's object") { CHECK(error_of(record("Open", "open", "yesterday")) == "open must be an object"); }
  SECTION("unsubscribeAll") {
    auto s = subscription_event(true);
    s["subscription"]["newTopicPreferences"]["unsubscribeAll"] = "true";
    CHECK(error_of(s) == "subscription.newTopicPreferences.unsubscribeAll must be a boolean");
  }
  SECTION("topics") {
    auto s = subscription_event(true);
    s["subscription"]["newTopicPreferences"]["topicSubscriptionStatus"] = json::array({"news"});
    CHECK_THAT(error_of(s), Catch::StartsWith("subscription.newTopicPreferences.topicSubscriptionStatus"));
  }
}

TEST_CASE("sns::parse_ses_notification needs someone the record is about", "[sns]") {
  auto open = open_event();
  SECTION("no destination") {
    open["mail"].erase("destination");
    CHECK(error_of(open) == "mail.destination is missing");
  }
  SECTION("an unknown type without destination") {
    auto other = record("Teleport", "", json());
    other["mail"]["destination"] = json::array();
    CHECK(error_of(other) == "mail.destination is missing");
  }
  SECTION("a destination entry without address") {
    open["mail"]["destination"] = json::array({""});
    CHECK(error_of(open) == "mail.destination has an entry without an address");
  }
  SECTION("a delay without its object or recipients") {
    CHECK(error_of(record("DeliveryDelay", "", json())) == "deliveryDelay object is missing");
    auto delay = delivery_delay_event();
    delay["deliveryDelay"].erase("delayedRecipients");
    CHECK(error_of(delay) == "deliveryDelay.delayedRecipients is missing");
  }
}
