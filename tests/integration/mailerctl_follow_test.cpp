// mailerctl send (following by default) and batches watch against a real
// mailerd sending to mailer-fake-ses: plain progress lines off a terminal,
// one redrawn bar on a pseudo-terminal, and the exit codes.

#include <catch2/catch.hpp>

#include <regex>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "ctl_fixture.hpp"
#include "engine_e2e.hpp"

using ctltest::Ctl;
using mailer::test::e2e::Stack;
using nlohmann::json;

namespace {

std::string recipients_csv(int count) {
  std::string csv = "email,first_name\n";
  for (int i = 0; i < count; ++i) csv += fmt::format("user{}@example.com,N{}\n", i, i);
  return csv;
}

// mailerctl on the running mailerd's database, with the template "news".
struct StackCtl : Ctl {
  explicit StackCtl(const Stack& stack) {
    db = stack.mailerd->db_path().string();
    create_template();
  }
};

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("mailerctl send follows the batch to completion with plain lines off a terminal", "[mailerctl][e2e]") {
  Stack stack(mailer::test::e2e::Env{{"MAILER_SES_MAX_SEND_RATE", "60"}});
  StackCtl ctl(stack);
  auto sent = ctl.send(ctl.file("r.csv", recipients_csv(150)), {"--interval", "1"});
  INFO(sent.output << sent.errors);
  REQUIRE(sent.exit_code == 0);
  CHECK_THAT(sent.output, Catch::StartsWith("Batch bat_") && Catch::Contains("Following the batch"));
  // About 2.5 s at 60/s: a line a second, then the final one.
  CHECK(count_of(sent.output, " done (") >= 2);
  CHECK_THAT(sent.output, Catch::Contains("completed: 150/150 done (100%): sent 150, failed 0, suppressed 0"));
  CHECK(sent.output.find('\r') == std::string::npos);
  CHECK(sent.output.find("\x1b[") == std::string::npos);
  std::smatch id;
  REQUIRE(std::regex_search(sent.output, id, std::regex("bat_[A-Za-z0-9]+")));
  CHECK(stack.batch(id.str())["status"] == "completed");

  // batches watch on a completed batch: one line, exit 0; --json prints the batch.
  auto watched = ctl.run({"batches", "watch", id.str()});
  CHECK(watched.exit_code == 0);
  CHECK_THAT(watched.output, Catch::Contains("completed: 150/150 done (100%)"));
  auto as_json = ctl.run({"--json", "batches", "watch", id.str()});
  REQUIRE(as_json.exit_code == 0);
  CHECK(json::parse(as_json.output) == stack.batch(id.str()));
  CHECK_THAT(as_json.errors, Catch::Contains("150/150 done"));
}

TEST_CASE("mailerctl send --json keeps stdout to the accepted batch and follows on stderr", "[mailerctl][e2e]") {
  Stack stack;
  StackCtl ctl(stack);
  auto sent = ctl.send(ctl.file("r.csv", recipients_csv(20)), {"--json"});
  INFO(sent.errors);
  REQUIRE(sent.exit_code == 0);
  auto accepted = json::parse(sent.output);
  CHECK(accepted["counts"]["accepted"] == 20);
  CHECK(accepted["recipients"] == 20);
  CHECK_THAT(sent.errors, Catch::Contains("completed: 20/20 done (100%)"));
  CHECK(stack.batch(accepted["id"])["status"] == "completed");
}

TEST_CASE("mailerctl batches watch draws one bar on a terminal", "[mailerctl][e2e]") {
  // 100 at 25/s: about 4 s, so even a sanitizer build, slow to start
  // mailerctl, sees the batch unfinished and redraws the bar several times.
  Stack stack(mailer::test::e2e::Env{{"MAILER_SES_MAX_SEND_RATE", "25"}});
  StackCtl ctl(stack);
  auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                            ctl.file("r.csv", recipients_csv(100))});
  auto watched = ctl.run_in_terminal({"batches", "watch", accepted["id"]});
  INFO(watched.output);
  REQUIRE(watched.exit_code == 0);
  CHECK(count_of(watched.output, "\r[") >= 2);  // redrawn in place
  CHECK_THAT(watched.output, Catch::Contains("\x1b[K"));
  CHECK_THAT(watched.output, Catch::Contains("[########################] 100%  100/100  sent 100 failed 0 suppressed 0"));
  CHECK_THAT(watched.output, Catch::Contains("completed"));
  CHECK(count_of(watched.output, " done (") == 0);  // no plain lines
}

TEST_CASE("mailerctl batches watch exits 1 for a cancelled or unknown batch", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                            ctl.file("r.csv", recipients_csv(3))});
  CHECK(accepted["status"] == "queued");
  ctl.json({"batches", "cancel", accepted["id"]});
  auto cancelled = ctl.run({"batches", "watch", accepted["id"]});
  CHECK(cancelled.exit_code == 1);
  CHECK_THAT(cancelled.output,
             Catch::Contains("cancelled: 3/3 done (100%): sent 0, failed 0, suppressed 0, cancelled 3"));
  CHECK_THAT(cancelled.errors, Catch::Contains("was cancelled before it completed"));
  auto scheduled = ctl.send(ctl.file("s.csv", recipients_csv(2)), {"--send-at", "2099-01-01T00:00:00Z"});
  CHECK(scheduled.exit_code == 0);
  CHECK_THAT(scheduled.output,
             Catch::Contains("The batch is scheduled; follow it later with `mailerctl batches watch"));
  // Watching it says until when it waits; cancelling it ends the watch.
  auto scheduled_id = ctl.json({"batches", "list", "--status", "scheduled"})["data"][0]["id"].get<std::string>();
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    ctl.run({"batches", "cancel", scheduled_id});
  });
  auto waiting = ctl.run({"batches", "watch", scheduled_id});
  canceller.join();
  CHECK(waiting.exit_code == 1);
  CHECK_THAT(waiting.errors, Catch::Contains("the batch is scheduled for 2099-01-01T00:00:00"));
  CHECK_THAT(waiting.errors, !Catch::Contains("is mailerd running"));
  auto unknown = ctl.run({"batches", "watch", "bat_nope"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.errors, Catch::Contains("bat_nope"));
  CHECK(ctl.run({"batches", "watch", accepted["id"], "--interval", "0"}).exit_code == 2);
}
