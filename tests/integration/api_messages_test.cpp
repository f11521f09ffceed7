// /v1/messages, /v1/events and /v1/suppressions through the real mailerd.
#include "api_support.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

TEST_CASE("messages: 202 with id and status, then readable", "[integration][api][messages]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  json message{{"from", "App <app@example.com>"},
               {"to", "ana@example.com"},
               {"content", {{"subject", "Reset"}, {"text", "Code {{code}}"}}},
               {"variables", {{"code", "1234"}}}};
  auto res = post_json(*client, "/v1/messages", sender.key, message);
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 202);
  auto accepted = body_of(res);
  std::string id = accepted["id"];
  CHECK(id.rfind("msg_", 0) == 0);
  CHECK(accepted["status"] == "queued");
  CHECK(accepted.size() == 2);

  auto shown = body_of(get(*client, "/v1/messages/" + id, sender.key));
  CHECK(shown["id"] == id);
  CHECK(shown["kind"] == "transactional");
  CHECK(shown["email"] == "ana@example.com");
  CHECK(shown["events"].is_array());
  require_problem(get(*client, "/v1/messages/msg_missing", sender.key), 404, "not_found");

  SECTION("a suppressed recipient is accepted as suppressed, with an event") {
    auto admin = mailerd.create_key("ops", "admin");
    REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "bo@example.com"}})->status == 201);
    message["to"] = "bo@example.com";
    auto blocked = body_of(post_json(*client, "/v1/messages", sender.key, message));
    CHECK(blocked["status"] == "suppressed");
    auto events = body_of(get(*client, "/v1/events?type=SUPPRESSED&email=BO@example.com", sender.key))["data"];
    REQUIRE(events.size() == 1);
    CHECK(events[0]["message_id"] == blocked["id"]);
    CHECK(events[0]["id"].get<std::string>().rfind("evt_", 0) == 0);
  }
  SECTION("invalid requests list every field") {
    auto problem =
        require_problem(post_json(*client, "/v1/messages", sender.key, {{"from", "nobody"}, {"to", "also nobody"}}),
                        400, "invalid_input");
    CHECK(has_field(problem, "from"));
    CHECK(has_field(problem, "to"));
    problem = require_problem(post_json(*client, "/v1/messages", sender.key, {{"to", 3}, {"tags", "x"}, {"cc", 1}}),
                              400, "invalid_input");
    CHECK(has_field(problem, "from"));
    CHECK(has_field(problem, "to"));
    CHECK(has_field(problem, "cc"));
  }
}

TEST_CASE("events: filters are checked and applied", "[integration][api][events]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "x@example.com"}})->status == 201);
  auto batch = scheduled_batch({"x@example.com", "y@example.com"});
  auto accepted = body_of(post_json(*client, "/v1/batches", sender.key, batch));
  std::string batch_id = accepted["id"];

  auto all = body_of(get(*client, "/v1/events", sender.key))["data"];
  REQUIRE(all.size() == 1);
  CHECK(all[0]["type"] == "SUPPRESSED");
  CHECK(all[0]["batch_id"] == batch_id);
  CHECK(body_of(get(*client, "/v1/batches/" + batch_id + "/events", sender.key))["data"].size() == 1);
  CHECK(body_of(get(*client, "/v1/events?batch_id=" + batch_id + "&type=SENT", sender.key))["data"].empty());
  CHECK(body_of(get(*client, "/v1/events?since=2000-01-01T00:00:00Z&until=2099-01-01T00:00:00Z", sender.key))["data"]
            .size() == 1);
  CHECK(body_of(get(*client, "/v1/events?until=2000-01-01T00:00:00Z", sender.key))["data"].empty());

  require_problem(get(*client, "/v1/events?type=OPENED", sender.key), 400, "invalid_input");
  require_problem(get(*client, "/v1/events?since=yesterday", sender.key), 400, "invalid_input");
  require_problem(get(*client, "/v1/events?limit=0", sender.key), 400, "invalid_input");
  require_problem(get(*client, "/v1/events?limit=1001", sender.key), 400, "invalid_input");
  require_problem(get(*client, "/v1/events?cursor=%25%25", sender.key), 400, "invalid_input");
}

TEST_CASE("suppressions: add, read, list, delete", "[integration][api][suppressions]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");

  auto added = post_json(*client, "/v1/suppressions", sender.key,
                         {{"email", "Ana@Example.com"}, {"reason", "complaint"}, {"detail", {{"by", "support"}}}});
  REQUIRE(added);
  INFO(added->body);
  REQUIRE(added->status == 201);
  CHECK(body_of(added)["email"] == "ana@example.com");
  CHECK(body_of(added)["scope"] == "all");

  auto shown = body_of(get(*client, "/v1/suppressions/ANA@example.com", sender.key));
  CHECK(shown["reason"] == "complaint");
  CHECK(shown["detail"]["by"] == "support");
  auto listed = body_of(get(*client, "/v1/suppressions?reason=complaint", sender.key))["data"];
  REQUIRE(listed.size() == 1);
  CHECK(body_of(get(*client, "/v1/suppressions?reason=bounce", sender.key))["data"].empty());

  require_problem(post_json(*client, "/v1/suppressions", sender.key, {{"email", "nope"}, {"reason", "because"}}), 400,
                  "invalid_input");
  require_problem(get(*client, "/v1/suppressions/nobody@example.com", sender.key), 404, "not_found");
  require_problem(client->Delete("/v1/suppressions/ana@example.com", with_key(sender.key)), 403, "forbidden");
  auto removed = client->Delete("/v1/suppressions/ana@example.com", with_key(admin.key));
  REQUIRE(removed);
  CHECK(removed->status == 204);
  require_problem(client->Delete("/v1/suppressions/ana@example.com", with_key(admin.key)), 404, "not_found");

  // '/' is legal in a local part: encoded as %2F it stays inside its segment.
  REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "a/b@example.com"}})->status == 201);
  CHECK(body_of(get(*client, "/v1/suppressions/a%2Fb%40example.com", sender.key))["email"] == "a/b@example.com");
  auto slashed = client->Delete("/v1/suppressions/a%2Fb@example.com", with_key(admin.key));
  REQUIRE(slashed);
  CHECK(slashed->status == 204);
}
