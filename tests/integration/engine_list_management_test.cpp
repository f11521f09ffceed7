// End to end, real mailerd + real mailer-fake-ses: a bulk batch under SES list
// management needs no unsubscribe.secret, reaches SES with
// ListManagementOptions and without mailerd's own List-Unsubscribe headers,
// keeps SES's {{amazonSESUnsubscribeUrl}} placeholder, and the configured
// sending-authorization ARNs and feedback address go with every message.
#include <fstream>
#include <sstream>

#include "integration/api_support.hpp"
#include "integration/engine_e2e.hpp"
#include "support/temp_dir.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;
using api::has_field;
using api::post_json;
using api::require_problem;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_from_arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
constexpr const char* k_feedback_arn = "arn:aws:ses:us-east-1:210987654321:identity/example.org";

// No unsubscribe.secret: only list-managed bulk mail can be accepted.
Env list_managed_env() {
  return {{"MAILER_UNSUBSCRIBE_SECRET", ""},
          {"MAILER_SES_FROM_EMAIL_ADDRESS_IDENTITY_ARN", k_from_arn},
          {"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS", "bounces@example.org"},
          {"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN", k_feedback_arn}};
}

json list_managed_batch(const std::vector<std::string>& emails) {
  auto body = batch_body(emails);
  body["content"]["html"] = "<p>Hi {{name}}</p><a href=\"{{amazonSESUnsubscribeUrl}}\">unsubscribe</a>";
  body["content"]["text"] = "Hi {{name}}\nUnsubscribe: {{amazonSESUnsubscribeUrl}}";
  body["list_management"] = {{"contact_list_name", "customers"}, {"topic_name", "orders"}};
  return body;
}

using mailer::test::read_file;

}  // namespace

TEST_CASE("A list-managed batch leaves unsubscribing to SES and carries the configured identities",
          "[engine][e2e][integration][list_management]") {
  Stack stack(list_managed_env());
  auto accepted = stack.post_batch(list_managed_batch({"ana@example.com"}));
  auto done = stack.wait_for_status(accepted.at("id"), "completed", 30s);
  CHECK(state_count(done, "sent") == 1);
  CHECK(done.at("list_management") == json{{"contact_list_name", "customers"}, {"topic_name", "orders"}});
  REQUIRE(wait_until([&] { return stack.fake.stored_messages().size() == 1; }, 30s));

  const auto sent = stack.fake.stored_messages().at(0);
  const auto& request = sent.request;
  CHECK(request.at("ListManagementOptions") == json{{"ContactListName", "customers"}, {"TopicName", "orders"}});
  CHECK(sent.headers.count("List-Unsubscribe") == 0);
  CHECK(sent.headers.count("List-Unsubscribe-Post") == 0);
  CHECK(sent.headers.count("X-Mailer-Message-Id") == 1);
  const auto& body = request.at("Content").at("Simple").at("Body");
  CHECK(body.at("Html").at("Data") == "<p>Hi N0</p><a href=\"{{amazonSESUnsubscribeUrl}}\">unsubscribe</a>");
  CHECK(body.at("Text").at("Data") == "Hi N0\nUnsubscribe: {{amazonSESUnsubscribeUrl}}");
  CHECK(request.at("FromEmailAddressIdentityArn") == k_from_arn);
  CHECK(request.at("FeedbackForwardingEmailAddress") == "bounces@example.org");
  CHECK(request.at("FeedbackForwardingEmailAddressIdentityArn") == k_feedback_arn);

  // What "SES" made of it: one List-Unsubscribe, its own, and its link in the body.
  const auto eml = read_file(stack.fake.out_dir() / (sent.ses_message_id + ".eml"));
  INFO(eml.substr(0, 1500));
  const std::string link = stack.fake.endpoint() + "/_fake/unsubscribe/" + sent.ses_message_id;
  CHECK(eml.find("List-Unsubscribe: <" + link) != std::string::npos);
  CHECK(eml.find("List-Unsubscribe:") == eml.rfind("List-Unsubscribe:"));
  CHECK(eml.find("Unsubscribe: " + link) != std::string::npos);
  CHECK(eml.find("{{amazonSESUnsubscribeUrl}}") == std::string::npos);
}

TEST_CASE("Without unsubscribe.secret only list-managed bulk mail is accepted",
          "[engine][e2e][integration][list_management]") {
  Stack stack(list_managed_env());
  auto client = stack.mailerd->client();
  auto refused = require_problem(post_json(*client, "/v1/batches", stack.key, batch_body({"ana@example.com"})), 409,
                                 "conflict");
  CHECK(refused.at("detail").get<std::string>().find("unsubscribe.secret") != std::string::npos);
  // Transactional mail never needed the secret, and carries the identities too.
  json message = {{"from", "Shop <orders@example.com>"},
                  {"to", "receipt@example.com"},
                  {"content", {{"subject", "Your receipt"}, {"text", "Thanks."}}}};
  auto sent = post_json(*client, "/v1/messages", stack.key, message);
  REQUIRE(sent);
  REQUIRE(sent->status == 202);
  REQUIRE(wait_until([&] { return stack.fake.stored_messages().size() == 1; }, 30s));
  const auto stored = stack.fake.stored_messages().at(0);
  CHECK(stored.request.at("FromEmailAddressIdentityArn") == k_from_arn);
  CHECK(stored.request.at("FeedbackForwardingEmailAddress") == "bounces@example.org");
  CHECK_FALSE(stored.request.contains("ListManagementOptions"));
}

TEST_CASE("POST /v1/batches names bad list_management members and tags", "[integration][list_management]") {
  Stack stack;
  auto client = stack.mailerd->client();
  auto post = [&](const json& members) {
    auto body = batch_body({"ana@example.com"});
    body.update(members);
    return require_problem(post_json(*client, "/v1/batches", stack.key, body), 400, "invalid_input");
  };
  auto names = post({{"list_management", {{"contact_list_name", "has space"}, {"topic_name", "a/b"}}}});
  CHECK(has_field(names, "list_management.contact_list_name"));
  CHECK(has_field(names, "list_management.topic_name"));
  auto missing = post({{"list_management", {{"topic_name", "orders"}, {"list", "x"}}}});
  CHECK(has_field(missing, "list_management.contact_list_name"));
  CHECK(has_field(missing, "list_management.list"));
  CHECK(has_field(post({{"list_management", "customers"}}), "list_management"));
  // SES's EmailTags rules are checked at accept too, not left to fail at send.
  CHECK(has_field(post({{"tags", {{"camp aign", "spring"}}}}), "tags.camp aign"));
  CHECK(has_field(post({{"tags", {{"campaign", "spring sale"}}}}), "tags.campaign"));
  CHECK(stack.fake.stored_messages().empty());
}
