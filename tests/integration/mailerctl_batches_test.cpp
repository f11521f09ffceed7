// mailerctl batches list|show|pause|resume|cancel as a real process.

#include <catch2/catch.hpp>

#include "ctl_fixture.hpp"

using ctltest::Ctl;

TEST_CASE("mailerctl batches show gives status and counts", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  std::string id = ctl.send_three();
  auto batch = ctl.json({"batches", "show", id});
  CHECK(batch["id"] == id);
  CHECK(batch["status"] == "queued");
  CHECK(batch["counts"]["accepted"] == 3);
  CHECK(batch["states"] == nlohmann::json({{"queued", 3}}));
  CHECK(batch["pause_reason"].is_null());

  auto human = ctl.run({"batches", "show", id});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.output, Catch::Contains("STATE") && Catch::Contains("queued  3"));

  auto missing = ctl.run({"batches", "show", "bat_nope"});
  CHECK(missing.exit_code == 1);
  CHECK_FALSE(missing.errors.empty());
}

TEST_CASE("mailerctl batches pause, resume and cancel change the batch", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  std::string id = ctl.send_three();

  auto paused = ctl.json({"batches", "pause", id, "--reason", "checking a typo"});
  CHECK(paused["status"] == "paused");
  CHECK(ctl.json({"batches", "show", id})["pause_reason"] == "checking a typo");
  CHECK(ctl.json({"batches", "list", "--status", "paused"})["data"].size() == 1);
  CHECK(ctl.json({"batches", "list", "--status", "queued"})["data"].empty());
  CHECK(ctl.run({"batches", "pause", id}).exit_code == 1);  // already paused

  CHECK(ctl.json({"batches", "resume", id})["status"] == "queued");
  CHECK(ctl.run({"batches", "resume", id}).exit_code == 1);  // not paused

  auto cancelled = ctl.run({"batches", "cancel", id});
  CHECK(cancelled.exit_code == 0);
  CHECK_THAT(cancelled.output, Catch::Contains("is cancelled (3 messages cancelled)"));
  auto batch = ctl.json({"batches", "show", id});
  CHECK(batch["status"] == "cancelled");
  CHECK(batch["states"] == nlohmann::json({{"cancelled", 3}}));
  CHECK(ctl.run({"batches", "cancel", id}).exit_code == 1);  // already cancelled
}

TEST_CASE("mailerctl batches list shows newest first", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  std::string first = ctl.send_three();
  std::string second = ctl.send_three();
  auto page = ctl.json({"batches", "list"});
  CHECK(page["next_cursor"].is_null());
  auto list = page["data"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == second);
  CHECK(list[1]["id"] == first);
  auto one = ctl.json({"batches", "list", "--limit", "1"});
  REQUIRE(one["data"].size() == 1);
  REQUIRE(one["next_cursor"].is_string());
  auto rest = ctl.json({"batches", "list", "--limit", "1", "--cursor", one["next_cursor"]});
  REQUIRE(rest["data"].size() == 1);
  CHECK(rest["data"][0]["id"] == first);
  auto first_page = ctl.run({"batches", "list", "--limit", "1"}).output;
  CHECK_THAT(first_page, Catch::Contains("more: mailerctl --db " + ctl.db + " batches list --limit 1 --cursor " +
                                         std::string(one["next_cursor"])));
  auto next_page = ctl.run_more(first_page);
  CHECK(next_page.exit_code == 0);
  CHECK_THAT(next_page.output, Catch::Contains(first) && !Catch::Contains(second) && !Catch::Contains("more:"));
  auto table = ctl.run({"batches", "list"});
  CHECK_THAT(table.output, Catch::StartsWith("ID") && Catch::Contains(first));
}

TEST_CASE("mailerctl batches exits 2 on bad usage", "[mailerctl]") {
  Ctl ctl;
  CHECK(ctl.run({"batches"}).exit_code == 2);
  CHECK(ctl.run({"batches", "show"}).exit_code == 2);
  CHECK(ctl.run({"batches", "list", "--status", "done"}).exit_code == 2);
  CHECK(ctl.run({"batches", "pause"}).exit_code == 2);
  CHECK(ctl.run({"batches", "cancle", "bat_x"}).exit_code == 2);
}
