// mailerctl queue, messages show, templates show|update|render and config
// check --db as real processes: the API's objects from the database file.

#include <catch2/catch.hpp>

#include "ctl_fixture.hpp"

using ctltest::Ctl;
using nlohmann::json;

namespace {

// A batch of three, one of them on the suppression list; returns its id.
std::string send_three(Ctl& ctl) {
  ctl.json({"suppressions", "add", "cy@example.com"});
  return ctl.send_three();
}

}  // namespace

TEST_CASE("mailerctl queue shows the depth by state in the API's shape", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  send_three(ctl);
  auto queue = ctl.json({"queue"});
  CHECK(queue["depth"]["queued"] == 2);
  CHECK(queue["depth"]["suppressed"] == 1);
  CHECK(queue["in_flight"] == 0);
  CHECK(queue["send_rate_per_second"] == 0.0);
  CHECK(queue["quota"]["sent_24h"] == 0);
  CHECK(queue["quota"]["max_send_rate"].is_null());  // only the running mailerd knows
  CHECK(queue["engine"].is_null());
  auto text = ctl.run({"queue"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Matches("(.|\n)*\nqueued +2\n(.|\n)*") && Catch::Contains("in flight: 0") &&
                              Catch::Contains("send rate: 0.0/s"));
}

TEST_CASE("mailerctl messages show gives the API's message with its events", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto batch_id = send_three(ctl);
  auto events = ctl.json({"events", "list", "--type", "SUPPRESSED"});
  REQUIRE(events["data"].size() == 1);
  std::string id = events["data"][0]["message_id"];
  auto message = ctl.json({"messages", "show", id});
  CHECK(message["id"] == id);
  CHECK(message["batch_id"] == batch_id);
  CHECK(message["kind"] == "bulk");
  CHECK(message["status"] == "suppressed");
  CHECK(message["to"] == json::array({"cy@example.com"}));
  REQUIRE(message["events"].size() == 1);
  CHECK(message["events"][0] == events["data"][0]);

  auto text = ctl.run({"messages", "show", id});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("suppressed") && Catch::Contains("SUPPRESSED"));
  auto missing = ctl.run({"messages", "show", "msg_nope"});
  CHECK(missing.exit_code == 1);
  CHECK_THAT(missing.errors, Catch::Contains("msg_nope"));
}

TEST_CASE("mailerctl batches show --json is the API's batch", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto id = send_three(ctl);
  auto batch = ctl.json({"batches", "show", id});
  CHECK(batch["states"] == json({{"queued", 2}, {"suppressed", 1}}));
  CHECK(batch["events"] == json({{"SUPPRESSED", 1}}));
  CHECK(batch["counts"] == json({{"accepted", 2}, {"duplicate", 0}, {"suppressed", 1}, {"invalid", 0}}));
  CHECK_FALSE(batch.contains("state_counts"));
  CHECK(ctl.json({"batches", "list"})["data"][0] == batch);
}

TEST_CASE("mailerctl templates show, update and render", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template("news");
  auto shown = ctl.json({"templates", "show", "news"});
  CHECK(shown["name"] == "news");
  CHECK(shown["version"] == 1);
  CHECK(shown["subject"] == "News for {{first_name}}");
  CHECK(shown["html"] == "<p>Hi {{first_name}} from {{city}}</p>");
  CHECK(ctl.json({"templates", "show", shown["id"]}) == shown);
  CHECK(ctl.json({"templates", "list"})["data"][0] == shown);

  // Only the text part changes; subject and html keep theirs.
  auto updated = ctl.json({"templates", "update", "news", "--text-file", ctl.file("new.txt", "Hello {{first_name}}!")});
  CHECK(updated["version"] == 2);
  CHECK(updated["text"] == "Hello {{first_name}}!");
  CHECK(updated["html"] == shown["html"]);
  CHECK(updated["subject"] == shown["subject"]);
  auto renamed = ctl.json({"templates", "update", shown["id"], "--name", "weekly", "--subject", "Weekly"});
  CHECK(renamed["name"] == "weekly");
  CHECK(renamed["version"] == 3);

  auto rendered = ctl.json({"templates", "render", "weekly", "--variables-json", R"({"first_name":"Ana"})"});
  CHECK(rendered == json({{"subject", "Weekly"}, {"html", "<p>Hi Ana from </p>"}, {"text", "Hello Ana!"}}));
  auto old = ctl.json(
      {"templates", "render", "weekly", "--version", "1", "--variables-json", R"({"first_name":"Bo","city":"Graz"})"});
  CHECK(old["subject"] == "News for Bo");
  auto text = ctl.run({"templates", "render", "weekly"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::StartsWith("Subject: Weekly"));

  SECTION("failures") {
    CHECK(ctl.run({"templates", "show", "nope"}).exit_code == 1);
    CHECK(ctl.run({"templates", "update", "tmpl_nope", "--subject", "x"}).exit_code == 1);
    auto bad_json = ctl.run({"templates", "render", "weekly", "--variables-json", "{oops"});
    CHECK(bad_json.exit_code == 2);
    CHECK_THAT(bad_json.errors, Catch::Contains("--variables-json"));
    auto bad_mustache = ctl.run({"templates", "update", "weekly", "--subject", "{{#open}}"});
    CHECK(bad_mustache.exit_code == 1);
    CHECK_THAT(bad_mustache.errors, Catch::Contains("subject"));
    CHECK(ctl.json({"templates", "show", "weekly"})["version"] == 3);
  }
}

TEST_CASE("mailerctl config check shows the database --db names", "[mailerctl]") {
  Ctl ctl;
  auto text = ctl.run({"config", "check"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains(ctl.db) && Catch::Contains("option --db"));
  auto report = ctl.json({"config", "check"});
  bool found = false;
  for (const auto& entry : report["entries"]) {
    if (entry["key"] != "db.path") continue;
    found = true;
    CHECK(entry["value"] == ctl.db);
    CHECK(entry["source"] == "option");
  }
  CHECK(found);
}
