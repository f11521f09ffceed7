// /v1/batches through the real mailerd: acceptance counts, the address
// validation table, limits, reading, and pause/resume/cancel.
#include "api_support.hpp"

#include <chrono>
#include <cstdio>

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

json create(httplib::Client& client, const std::string& key, const json& batch) {
  auto res = post_json(client, "/v1/batches", key, batch);
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 202);
  return json::parse(res->body);
}

}  // namespace

TEST_CASE("batches: accepted with counts, then readable", "[integration][api][batches]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto accepted = create(*client, sender.key, scheduled_batch({"ana@example.com", "bo@example.com"}));
  std::string id = accepted["id"];
  CHECK(id.rfind("bat_", 0) == 0);
  CHECK(accepted["status"] == "scheduled");
  CHECK(accepted["counts"] == json{{"accepted", 2}, {"duplicate", 0}, {"suppressed", 0}, {"invalid", 0}});

  auto batch = body_of(get(*client, "/v1/batches/" + id, sender.key));
  CHECK(batch["status"] == "scheduled");
  CHECK(batch["states"]["scheduled"] == 2);
  CHECK(batch["from"] == "Shop <news@example.com>");

  auto recipients = body_of(get(*client, "/v1/batches/" + id + "/recipients", sender.key));
  REQUIRE(recipients["data"].size() == 2);
  CHECK(recipients["data"][0]["email"] == "ana@example.com");
  CHECK(recipients["data"][1]["index"] == 1);

  auto listed = body_of(get(*client, "/v1/batches?status=scheduled", sender.key));
  REQUIRE(listed["data"].size() == 1);
  CHECK(listed["data"][0]["id"] == id);
  CHECK(body_of(get(*client, "/v1/batches?status=completed", sender.key))["data"].empty());
  require_problem(get(*client, "/v1/batches?status=bogus", sender.key), 400, "invalid_input");

  auto events = body_of(get(*client, "/v1/batches/" + id + "/events", sender.key));
  CHECK(events["data"].empty());
  require_problem(get(*client, "/v1/batches/bat_missing", sender.key), 404, "not_found");
  require_problem(get(*client, "/v1/batches/bat_missing/recipients", sender.key), 404, "not_found");
  require_problem(get(*client, "/v1/batches/bat_missing/events", sender.key), 404, "not_found");
}

TEST_CASE("batches: pause, resume and cancel follow the state rules", "[integration][api][batches]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  std::string id = create(*client, sender.key, scheduled_batch({"ana@example.com"}))["id"];
  std::string base = "/v1/batches/" + id;

  auto paused = post_json(*client, base + "/pause", sender.key, {{"reason", "checking copy"}});
  REQUIRE(paused->status == 200);
  CHECK(body_of(paused)["status"] == "paused");
  CHECK(body_of(paused)["pause_reason"] == "checking copy");
  require_problem(post_json(*client, base + "/pause", sender.key, json::object()), 409, "conflict");
  auto resumed = client->Post((base + "/resume").c_str(), with_key(sender.key), "", "application/json");
  REQUIRE(resumed->status == 200);
  CHECK(body_of(resumed)["status"] == "scheduled");
  require_problem(client->Post((base + "/resume").c_str(), with_key(sender.key), "", "application/json"), 409,
                  "conflict");
  auto cancelled = client->Post((base + "/cancel").c_str(), with_key(sender.key), "", "application/json");
  REQUIRE(cancelled->status == 200);
  CHECK(body_of(cancelled)["status"] == "cancelled");
  require_problem(client->Post((base + "/cancel").c_str(), with_key(sender.key), "", "application/json"), 409,
                  "conflict");
  require_problem(client->Post("/v1/batches/bat_missing/cancel", with_key(sender.key), "", "application/json"), 404,
                  "not_found");
  require_problem(post_json(*client, base + "/pause", sender.key, {{"reason", 3}}), 400, "invalid_input");
  // A misspelt member must not pause with the default reason instead.
  auto misspelt = post_json(*client, base + "/pause", sender.key, {{"resaon", "checking copy"}});
  require_problem(misspelt, 400, "invalid_input");
  CHECK(body_of(misspelt)["errors"][0]["field"] == "resaon");
}

TEST_CASE("batches: address validation table", "[integration][api][batches]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  // index: address -> expectation
  std::vector<std::string> emails{
      "ana@example.com",     // 0 valid
      "not-an-address",      // 1 invalid: no @
      "ana@bücher.example",  // 2 IDN: valid, stored as Punycode
      "Ana@Example.com",     // 3 duplicate of 0 (case-insensitive)
      "bo@@example.com",     // 4 invalid: two @
      "  cy@example.com ",   // 5 valid, trimmed
      "dee@localhost",       // 6 invalid: no dot in the domain
      "ANA@BÜCHER.EXAMPLE",  // 7 duplicate of 2 (IDN and case)
      "a..b@example.com",    // 8 invalid: double dot
  };

  SECTION("skip_invalid false: rejected whole, every invalid index listed, nothing stored") {
    auto problem =
        require_problem(post_json(*client, "/v1/batches", sender.key, scheduled_batch(emails)), 400, "invalid_input");
    for (int index : {1, 4, 6, 8}) {
      CHECK(has_field(problem, "recipients[" + std::to_string(index) + "].email"));
    }
    for (int index : {0, 2, 3, 5, 7}) {
      CHECK_FALSE(has_field(problem, "recipients[" + std::to_string(index) + "].email"));
    }
    CHECK(body_of(get(*client, "/v1/batches", sender.key))["data"].empty());
  }
  SECTION("skip_invalid true: invalid listed, duplicates counted once") {
    auto batch = scheduled_batch(emails);
    batch["skip_invalid"] = true;
    auto accepted = create(*client, sender.key, batch);
    CHECK(accepted["counts"] == json{{"accepted", 3}, {"duplicate", 2}, {"suppressed", 0}, {"invalid", 4}});
    std::vector<int> invalid_indexes;
    for (const auto& item : accepted["invalid"]) invalid_indexes.push_back(item["index"]);
    CHECK(invalid_indexes == std::vector<int>{1, 4, 6, 8});
    CHECK(accepted["invalid"][0]["address"] == "not-an-address");
    auto recipients =
        body_of(get(*client, "/v1/batches/" + accepted["id"].get<std::string>() + "/recipients", sender.key))["data"];
    REQUIRE(recipients.size() == 3);
    CHECK(recipients[0]["email"] == "ana@example.com");
    CHECK(recipients[1]["email"] == "ana@xn--bcher-kva.example");
    CHECK(recipients[2]["email"] == "cy@example.com");
  }
  SECTION("a suppressed address is counted, not sent") {
    auto admin = mailerd.create_key("ops", "admin");
    REQUIRE(post_json(*client, "/v1/suppressions", admin.key, {{"email", "ANA@example.com"}})->status == 201);
    auto accepted = create(*client, sender.key, scheduled_batch({"ana@example.com", "bo@example.com"}));
    CHECK(accepted["counts"]["suppressed"] == 1);
    CHECK(accepted["counts"]["accepted"] == 1);
  }
}

TEST_CASE("batches: request errors", "[integration][api][batches]") {
  SECTION("over limits.max_recipients is 413") {
    MailerdFixture mailerd(api_options({{"MAILER_LIMITS_MAX_RECIPIENTS", "2"}}));
    auto sender = mailerd.create_key("app", "send");
    auto res = post_json(*mailerd.client(), "/v1/batches", sender.key,
                         scheduled_batch({"a@example.com", "b@example.com", "c@example.com"}));
    auto problem = require_problem(res, 413, "too_large");
    CHECK(problem["detail"].get<std::string>().find('2') != std::string::npos);
  }
  SECTION("bulk without unsubscribe.secret is 409") {
    MailerdFixture mailerd;
    auto sender = mailerd.create_key("app", "send");
    auto res = post_json(*mailerd.client(), "/v1/batches", sender.key, scheduled_batch({"a@example.com"}));
    auto problem = require_problem(res, 409, "conflict");
    CHECK(problem["detail"].get<std::string>().find("unsubscribe.secret") != std::string::npos);
  }
  SECTION("wrong types are 400 with each field") {
    MailerdFixture mailerd(api_options());
    auto sender = mailerd.create_key("app", "send");
    json batch{{"from", 7}, {"recipients", json::array({json{{"email", 1}}, "ok@example.com"})}, {"skip_invalid", "x"}};
    auto problem =
        require_problem(post_json(*mailerd.client(), "/v1/batches", sender.key, batch), 400, "invalid_input");
    CHECK(has_field(problem, "from"));
    CHECK(has_field(problem, "recipients[0].email"));
    CHECK(has_field(problem, "skip_invalid"));
  }
  SECTION("unknown template is 400 naming template_id") {
    MailerdFixture mailerd(api_options());
    auto sender = mailerd.create_key("app", "send");
    auto batch = scheduled_batch({"a@example.com"});
    batch.erase("content");
    batch["template_id"] = "tmpl_missing";
    auto problem =
        require_problem(post_json(*mailerd.client(), "/v1/batches", sender.key, batch), 400, "invalid_input");
    CHECK(has_field(problem, "template_id"));
  }
}

TEST_CASE("batches: 100,000 recipients are accepted through the real server", "[integration][api][batches][perf]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  client->set_read_timeout(120, 0);
  client->set_write_timeout(120, 0);
  auto sender = mailerd.create_key("app", "send");
  std::vector<std::string> emails;
  emails.reserve(100000);
  for (int i = 0; i < 100000; ++i) emails.push_back("user" + std::to_string(i) + "@example.com");
  auto batch = scheduled_batch(emails);
  for (std::size_t i = 0; i < batch["recipients"].size(); i += 2) batch["recipients"][i]["variables"] = {{"n", i}};
  auto body = batch.dump();
  auto start = std::chrono::steady_clock::now();
  auto res = client->Post("/v1/batches", with_key(sender.key), body, "application/json");
  auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(res);
  INFO(res->body.substr(0, 500));
  REQUIRE(res->status == 202);
  CHECK(json::parse(res->body)["counts"]["accepted"] == 100000);
  std::printf("POST /v1/batches with 100000 recipients (%zu bytes): %.2f s\n", body.size(), elapsed);
  CHECK(elapsed < 60);  // generous: shared CI machines; the figure above is the measurement
}
