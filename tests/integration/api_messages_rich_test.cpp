// POST /v1/messages with cc, bcc, headers and metadata, and
// POST /v1/messages/batch, refused and accepted through the real mailerd.
#include "api_support.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

json reset_mail(const json& to) {
  return {{"from", "App <app@example.com>"}, {"to", to}, {"content", {{"subject", "Reset"}, {"text", "Code 1"}}}};
}

// Every message mailerd holds, whatever its state (GET /v1/admin/queue).
std::int64_t stored_messages(httplib::Client& client, const std::string& admin_key) {
  auto depth = body_of(get(client, "/v1/admin/queue", admin_key))["depth"];
  std::int64_t total = 0;
  for (const auto& [state, n] : depth.items()) total += n.get<std::int64_t>();
  return total;
}

}  // namespace

TEST_CASE("messages: cc, bcc, headers and metadata are stored and shown", "[integration][api][messages]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "gone@example.com"}})->status == 201);
  auto message = reset_mail(json::array({"ana@example.com", "Bo@Example.com"}));
  message["cc"] = "gone@example.com";
  message["bcc"] = json::array({"audit@example.com"});
  message["headers"] = {{"X-Entity-Ref-ID", "4711"}};
  message["metadata"] = {{"order", "A-1"}, {"customer", "42"}};
  auto res = post_json(*client, "/v1/messages", sender.key, message);
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 202);
  std::string id = body_of(res)["id"];

  // Workers may be trying the closed SES port meanwhile: only SUPPRESSED events are counted.
  auto shown = body_of(get(*client, "/v1/messages/" + id, sender.key));
  CHECK(shown["email"] == "ana@example.com");
  CHECK(shown["to"] == json::array({"ana@example.com", "Bo@example.com"}));
  CHECK(shown["cc"] == json::array());
  CHECK(shown["bcc"] == json::array({"audit@example.com"}));
  CHECK(shown["suppressed"] == json::array({{{"email", "gone@example.com"}, {"field", "cc"}, {"reason", "manual"}}}));
  CHECK(shown["headers"] == json{{"X-Entity-Ref-ID", "4711"}});
  CHECK(shown["metadata"] == json{{"order", "A-1"}, {"customer", "42"}});
  REQUIRE_FALSE(shown["events"].empty());
  CHECK(shown["events"][0]["type"] == "SUPPRESSED");
  CHECK(shown["events"][0]["email"] == "gone@example.com");
  CHECK(shown["events"][0]["metadata"] == json{{"order", "A-1"}, {"customer", "42"}});
  auto listed = body_of(get(*client, "/v1/events?type=SUPPRESSED&message_id=" + id, sender.key))["data"];
  REQUIRE(listed.size() == 1);
  CHECK(listed[0]["metadata"]["order"] == "A-1");

  SECTION("every destination suppressed: the message is suppressed") {
    auto blocked = body_of(post_json(*client, "/v1/messages", sender.key, reset_mail("gone@example.com")));
    CHECK(blocked["status"] == "suppressed");
  }
  SECTION("a message without the new fields reads as before") {
    auto plain = body_of(post_json(*client, "/v1/messages", sender.key, reset_mail("cy@example.com")));
    auto got = body_of(get(*client, "/v1/messages/" + plain["id"].get<std::string>(), sender.key));
    CHECK(got["to"] == json::array({"cy@example.com"}));
    CHECK(got["headers"] == json::object());
    CHECK(got["metadata"] == json::object());
  }
}

TEST_CASE("messages: bad destinations, headers and metadata are refused by field", "[integration][api][messages]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  auto message = reset_mail("ana@example.com");

  SECTION("51 recipients") {
    json cc = json::array();
    for (int i = 0; i < 50; ++i) cc.push_back("cc" + std::to_string(i) + "@example.com");
    message["cc"] = cc;
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(has_field(problem, "cc"));
  }
  SECTION("reserved and malformed headers") {
    message["headers"] = {{"Bcc", "spy@example.com"}, {"X-SES-CONFIGURATION-SET", "other"}, {"X-Ok", "line\r\nbreak"}};
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(has_field(problem, "headers.Bcc"));
    CHECK(has_field(problem, "headers.X-SES-CONFIGURATION-SET"));
    CHECK(has_field(problem, "headers.X-Ok"));
  }
  SECTION("metadata that is not flat strings, cc of the wrong type") {
    message["metadata"] = {{"nested", {{"a", 1}}}};
    message["cc"] = 7;
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(has_field(problem, "cc"));
    message["cc"] = "cy@example.com";
    problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(has_field(problem, "metadata.nested"));
  }
  CHECK(stored_messages(*client, admin.key) == 0);
}

TEST_CASE("messages/batch: one result per message, atomic on request, bounded", "[integration][api][messages]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  json messages = json::array({reset_mail("ana@example.com"), reset_mail("not an address"), 7,
                               reset_mail(json::array({"bo@example.com", "cy@example.com"}))});

  SECTION("valid messages are stored, invalid ones reported at their index") {
    auto res = post_json(*client, "/v1/messages/batch", sender.key, {{"messages", messages}});
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    auto data = body_of(res)["data"];
    REQUIRE(data.size() == 4);
    CHECK(data[0]["index"] == 0);
    CHECK(data[0]["status"] == "accepted");
    CHECK(data[0]["message_status"] == "queued");
    CHECK(data[1]["status"] == "rejected");
    CHECK(data[1]["error"]["status"] == 400);
    CHECK(has_field(data[1]["error"], "to"));
    CHECK(data[2]["status"] == "rejected");
    CHECK(data[3]["status"] == "accepted");
    auto shown = body_of(get(*client, "/v1/messages/" + data[3]["id"].get<std::string>(), sender.key));
    CHECK(shown["to"] == json::array({"bo@example.com", "cy@example.com"}));
    CHECK(stored_messages(*client, admin.key) == 2);
  }
  SECTION("atomic: one invalid message refuses them all") {
    auto problem = require_problem(
        post_json(*client, "/v1/messages/batch", sender.key, {{"messages", messages}, {"atomic", true}}), 400,
        "invalid_input");
    CHECK(has_field(problem, "messages[1].to"));
    CHECK(has_field(problem, "messages[2]"));
    CHECK(stored_messages(*client, admin.key) == 0);
  }
  SECTION("more than 500 messages is 413, nothing stored") {
    json many = json::array();
    for (int i = 0; i < 501; ++i) many.push_back(reset_mail("ana@example.com"));
    auto problem =
        require_problem(post_json(*client, "/v1/messages/batch", sender.key, {{"messages", many}}), 413, "too_large");
    CHECK(has_field(problem, "messages"));
    CHECK(stored_messages(*client, admin.key) == 0);
  }
  SECTION("an Idempotency-Key replays the whole answer") {
    json body{{"messages", json::array({reset_mail("ana@example.com")})}};
    auto first = post_json(*client, "/v1/messages/batch", sender.key, body, {{"Idempotency-Key", "batch-1"}});
    auto again = post_json(*client, "/v1/messages/batch", sender.key, body, {{"Idempotency-Key", "batch-1"}});
    REQUIRE(first);
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(again->get_header_value("Idempotent-Replayed") == "true");
    CHECK(body_of(again) == body_of(first));
    CHECK(stored_messages(*client, admin.key) == 1);
    body["messages"].push_back(reset_mail("bo@example.com"));
    require_problem(post_json(*client, "/v1/messages/batch", sender.key, body, {{"Idempotency-Key", "batch-1"}}), 409,
                    "conflict");
  }
  SECTION("the call itself is checked") {
    require_problem(post_json(*client, "/v1/messages/batch", sender.key, {{"messages", json::array()}}), 400,
                    "invalid_input");
    auto problem = require_problem(
        post_json(*client, "/v1/messages/batch", sender.key, {{"messages", messages}, {"atomic", "yes"}}), 400,
        "invalid_input");
    CHECK(has_field(problem, "atomic"));
    auto reader = mailerd.create_key("viewer", "read");
    require_problem(post_json(*client, "/v1/messages/batch", reader.key, {{"messages", messages}}), 403, "forbidden");
  }
}
