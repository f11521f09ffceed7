#pragma once
// SES event-publishing records of every type, shaped as
// https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html
// shows them (trimmed to what mailerd reads, plus a few fields it ignores).
// Header-only so unit and integration tests share them.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mailer::test::ses_records {

using nlohmann::json;

inline constexpr const char* k_ses_id = "010001234567890a-11111111-2222-3333-4444-555555555555-000000";
inline constexpr const char* k_recipient = "Reader@Example.com";

/// The `mail` object: SES message id, destination, optional X-Mailer-Message-Id.
inline json mail(const std::string& ses_id = k_ses_id, std::vector<std::string> destination = {k_recipient},
                 const std::string& mailer_message_id = "") {
  json headers = json::array({json{{"name", "Subject"}, {"value", "News"}}});
  if (!mailer_message_id.empty()) headers.push_back({{"name", "X-Mailer-Message-Id"}, {"value", mailer_message_id}});
  return {{"timestamp", "2025-03-14T09:27:08.537Z"},
          {"source", "news@mail.example.com"},
          {"sendingAccountId", "111122223333"},
          {"messageId", ses_id},
          {"destination", json(std::move(destination))},
          {"headersTruncated", false},
          {"headers", std::move(headers)},
          {"tags", {{"ses:configuration-set", json::array({"mailerd-prod"})}}}};
}

/// {"eventType": type, "mail": mail, key: object} (no kind object when key is empty).
inline json record(const std::string& type, const std::string& key, json object, json mail_object = mail()) {
  json r = {{"eventType", type}, {"mail", std::move(mail_object)}};
  if (!key.empty()) r[key] = std::move(object);
  return r;
}

inline json send_event() { return record("Send", "send", json::object()); }
inline json reject_event() { return record("Reject", "reject", {{"reason", "Bad content"}}); }
inline json open_event() {
  return record("Open", "open",
                {{"ipAddress", "192.0.2.1"},
                 {"timestamp", "2025-03-14T10:00:00.000Z"},
                 {"userAgent", "Mozilla/5.0 (Windows NT 10.0) Mail/1.0"}});
}
inline json click_event(const std::string& link = "https://shop.example.com/offer?id=7") {
  return record("Click", "click",
                {{"ipAddress", "192.0.2.1"},
                 {"link", link},
                 {"linkTags", {{"campaign", json::array({"spring"})}, {"samplekey0", json::array({"samplevalue0"})}}},
                 {"timestamp", "2025-03-14T10:01:00.000Z"},
                 {"userAgent", "Mozilla/5.0 (Macintosh) Mail/2.0"}});
}
inline json delivery_delay_event() {
  return record("DeliveryDelay", "deliveryDelay",
                {{"timestamp", "2025-03-14T11:00:00.000Z"},
                 {"delayType", "TransientCommunicationFailure"},
                 {"expirationTime", "2025-03-15T09:27:08.537Z"},
                 {"delayedRecipients", json::array({json{{"emailAddress", k_recipient},
                                                         {"status", "4.4.1"},
                                                         {"diagnosticCode", "smtp; 421 4.4.1 Unable to connect"}}})},
                 {"reportingMTA", "a1-2.smtp-out.us-east-1.amazonses.com"}});
}
inline json rendering_failure_event() {
  return record(
      "Rendering Failure", "failure",
      {{"errorMessage", "Attribute 'name' is not present in the rendering data."}, {"templateName", "welcome"}});
}
inline json subscription_event(bool unsubscribe_all) {
  json topics = json::array({json{{"topicName", "news"}, {"subscriptionStatus", "OptOut"}}});
  return record(
      "Subscription", "subscription",
      {{"contactList", "customers"},
       {"timestamp", "2025-03-14T12:00:00.000Z"},
       {"source", "UnsubscribeHeader"},
       {"newTopicPreferences", {{"unsubscribeAll", unsubscribe_all}, {"topicSubscriptionStatus", topics}}},
       {"oldTopicPreferences",
        {{"unsubscribeAll", false},
         {"topicSubscriptionStatus", json::array({json{{"topicName", "news"}, {"subscriptionStatus", "OptIn"}}})}}}});
}

}  // namespace mailer::test::ses_records
