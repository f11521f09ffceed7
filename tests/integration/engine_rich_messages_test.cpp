// End to end, real mailerd + real mailer-fake-ses with SNS feedback: a
// transactional message with cc, bcc, custom headers and metadata reaches SES
// as one SendEmail without its suppressed cc, and the feedback for every
// recipient comes back linked to the message, carrying its metadata.
#include "integration/engine_e2e.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;
using namespace std::chrono_literals;

namespace {

const std::string k_to = "success@simulator.amazonses.com";
const std::string k_cc = "success+cc@simulator.amazonses.com";
const std::string k_bcc = "success+bcc@simulator.amazonses.com";

json call_api(const Stack& stack, const std::string& method, const std::string& path, const json& body = nullptr) {
  auto client = stack.mailerd->client();
  auto res = method == "GET" ? client->Get(path.c_str(), bearer(stack.key))
                             : client->Post(path.c_str(), bearer(stack.key), body.dump(), "application/json");
  REQUIRE(res);
  INFO(method << " " << path << " " << res->body);
  REQUIRE(res->status < 300);
  return json::parse(res->body);
}

}  // namespace

TEST_CASE("A message with cc, bcc and headers reaches SES; feedback carries its metadata",
          "[engine][e2e][integration]") {
  Stack stack(fake_sns_env());
  stack.fake.set_sns({{"endpoint", "http://127.0.0.1:" + std::to_string(stack.mailerd->port()) + "/webhooks/ses"}});
  call_api(stack, "POST", "/v1/suppressions", {{"email", "gone@example.com"}});
  json message{{"from", "App <app@example.com>"},
               {"to", k_to},
               {"cc", json::array({"gone@example.com", k_cc})},
               {"bcc", k_bcc},
               {"headers", {{"X-Entity-Ref-ID", "4711"}}},
               {"metadata", {{"order", "A-1"}}},
               {"content", {{"subject", "Your order"}, {"text", "Shipped"}}}};
  const std::string id = call_api(stack, "POST", "/v1/messages", message)["id"];

  json shown;
  REQUIRE(wait_until(
      [&] {
        shown = call_api(stack, "GET", "/v1/messages/" + id);
        return shown["status"] == "sent";
      },
      10s));
  auto stored = stack.fake.stored_messages();
  REQUIRE(stored.size() == 1);
  const auto& sent = stored[0];
  CHECK(sent.headers.at("X-Mailer-Message-Id") == id);
  CHECK(sent.headers.at("X-Entity-Ref-ID") == "4711");
  CHECK(sent.to == std::vector<std::string>{k_to});
  CHECK(sent.request["Destination"]["CcAddresses"] == json::array({k_cc}));
  CHECK(sent.request["Destination"]["BccAddresses"] == json::array({k_bcc}));

  // One DELIVERY per recipient, each linked to the message.
  json deliveries;
  REQUIRE(wait_until(
      [&] {
        deliveries = call_api(stack, "GET", "/v1/events?type=DELIVERY&message_id=" + id)["data"];
        return deliveries.size() >= 3;
      },
      10s));
  INFO(deliveries.dump());
  REQUIRE(deliveries.size() == 3);
  std::set<std::string> emails;
  for (const auto& event : deliveries) {
    CHECK(event["message_id"] == id);
    CHECK(event["metadata"] == json{{"order", "A-1"}});
    emails.insert(event["email"].get<std::string>());
  }
  CHECK(emails == std::set<std::string>{k_to, k_cc, k_bcc});
  auto suppressed = call_api(stack, "GET", "/v1/events?type=SUPPRESSED&message_id=" + id)["data"];
  REQUIRE(suppressed.size() == 1);
  CHECK(suppressed[0]["email"] == "gone@example.com");
}
