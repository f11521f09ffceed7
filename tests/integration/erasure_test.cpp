// Erasing an address: DELETE /v1/admin/recipients/{email} through the real
// mailerd, and `mailerctl erase` as a real process.
#include "api_support.hpp"
#include "ctl_fixture.hpp"

using namespace mailer::test;
using namespace mailer::test::api;
using ctltest::Ctl;

namespace {

httplib::Result erase(httplib::Client& client, const std::string& path, const std::string& key) {
  return client.Delete(("/v1/admin/recipients/" + path).c_str(), with_key(key));
}

}  // namespace

TEST_CASE("DELETE /v1/admin/recipients/{email} erases an address and keeps it suppressed as a hash",
          "[integration][api][erasure]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto admin = mailerd.create_key("ops", "admin");
  auto sender = mailerd.create_key("app", "send");
  auto accepted = body_of(
      post_json(*client, "/v1/batches", sender.key, scheduled_batch({"Gone.Soon@Example.com", "stays@example.com"})));
  const std::string batch_id = accepted["id"];
  REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "gone.soon@example.com"}})->status == 201);

  auto res = erase(*client, "GONE.soon@example.com?hash_suppression=true", admin.key);
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 200);
  auto erased = body_of(res);
  CHECK(erased["erased"]["messages"] == 1);
  CHECK(erased["erased"]["cancelled"] == 1);
  CHECK(erased["suppression"] == "hashed");
  CHECK(erased["address_hash"].get<std::string>().rfind("sha256:", 0) == 0);
  CHECK(res->body.find("gone.soon") == std::string::npos);

  auto batch = body_of(get(*client, "/v1/batches/" + batch_id, sender.key));
  CHECK(batch["counts"]["accepted"] == 2);
  CHECK(batch["states"]["cancelled"] == 1);
  CHECK(batch["states"]["scheduled"] == 1);
  auto recipients = body_of(get(*client, "/v1/batches/" + batch_id + "/recipients", sender.key))["data"];
  REQUIRE(recipients.size() == 1);
  CHECK(recipients[0]["email"] == "stays@example.com");

  SECTION("the hashed suppression still blocks the address") {
    json message{{"from", "App <app@example.com>"},
                 {"to", "Gone.Soon@example.com"},
                 {"content", {{"subject", "Hi"}, {"text", "Hello"}}}};
    CHECK(body_of(post_json(*client, "/v1/messages", sender.key, message))["status"] == "suppressed");
    auto listed = body_of(get(*client, "/v1/suppressions", sender.key))["data"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["email"] == erased["address_hash"]);
  }
  SECTION("erasing again finds nothing more and still answers 200") {
    auto again = body_of(erase(*client, "gone.soon@example.com", admin.key));
    CHECK(again["erased"]["messages"] == 0);
    CHECK(again["suppression"] == "hashed");
  }
  SECTION("bad input names the field") {
    auto problem = require_problem(erase(*client, "not-an-address", admin.key), 400, "invalid_input");
    CHECK(has_field(problem, "email"));
    problem = require_problem(erase(*client, "a@example.com?hash_suppression=yes", admin.key), 400, "invalid_input");
    CHECK(has_field(problem, "hash_suppression"));
    problem =
        require_problem(erase(*client, erased["address_hash"].get<std::string>(), admin.key), 400, "invalid_input");
    CHECK(has_field(problem, "email"));
  }
}

TEST_CASE("mailerctl erase needs --yes off a terminal, then erases", "[integration][mailerctl][erasure]") {
  Ctl ctl;
  ctl.json({"suppressions", "add", "ana@example.com", "--reason", "complaint"});

  auto refused = ctl.run({"erase", "ana@example.com"});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.errors, Catch::Contains("--yes"));
  CHECK(ctl.json({"suppressions", "list"})["data"][0]["email"] == "ana@example.com");

  SECTION("text output") {
    auto done = ctl.run({"erase", "Ana@Example.com", "--yes"});
    INFO(done.errors);
    CHECK(done.exit_code == 0);
    CHECK_THAT(done.output, Catch::Contains("Erased: messages=0") && Catch::Contains("Suppression: kept"));
    CHECK(done.errors.empty());  // no log line meant for mailerd's journal
  }
  SECTION("a hashed suppression, as JSON") {
    auto done = ctl.json({"erase", "Ana@Example.com", "--yes", "--hash-suppression"});
    CHECK(done["suppression"] == "hashed");
    auto listed = ctl.json({"suppressions", "list"})["data"];
    REQUIRE(listed.size() == 1);
    CHECK(listed[0]["email"] == done["address_hash"]);
    CHECK(listed[0]["reason"] == "complaint");
  }
  SECTION("an invalid address is a usage error") {
    auto bad = ctl.run({"erase", "nope", "--yes"});
    CHECK(bad.exit_code == 2);
    CHECK_THAT(bad.errors, Catch::Contains("email"));
  }
}
