// What every mailerctl command shares: the --json list page, errors under
// --json, unknown commands and --version.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "ctl_fixture.hpp"
#include "support/child_process.hpp"

using ctltest::Ctl;

TEST_CASE("mailerctl --json prints every list as a page with next_cursor null or a cursor", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  ctl.json({"suppressions", "add", "a@example.com"});
  for (auto args : std::vector<std::vector<std::string>>{
           {"keys", "list"}, {"batches", "list"}, {"templates", "list"}, {"dlq", "list"}, {"suppressions", "list"}}) {
    INFO(args[0]);
    auto page = ctl.json(args);
    REQUIRE(page.is_object());
    CHECK(page.size() == 2);
    CHECK(page["data"].is_array());
    CHECK(page["next_cursor"].is_null());
  }
  ctl.json({"suppressions", "add", "b@example.com"});
  auto first = ctl.json({"suppressions", "list", "--limit", "1"});
  CHECK(first["next_cursor"].is_string());
  CHECK(ctl.json({"suppressions", "list", "--limit", "1", "--cursor", first["next_cursor"]})["next_cursor"].is_null());
}

TEST_CASE("mailerctl --json reports errors as one JSON document on stderr", "[mailerctl]") {
  Ctl ctl;
  SECTION("a failure keeps its exit code") {
    auto result = ctl.run({"keys", "revoke", "key_00000000000000000000", "--json"});
    CHECK(result.exit_code == 1);
    CHECK(result.output.empty());
    auto error = nlohmann::json::parse(result.errors)["error"];
    CHECK(error["type"] == "https://mailerd.dev/problems/not_found");
    CHECK(error["code"] == "not_found");
    CHECK_THAT(error["detail"].get<std::string>(), Catch::Contains("not found"));
    CHECK(error["exit_code"] == 1);
  }
  SECTION("field problems are listed as the API's errors") {
    auto result = ctl.run({"keys", "create", "--name", "", "--scope", "send", "--json"});
    INFO(result.errors);
    CHECK(result.exit_code != 0);
    auto error = nlohmann::json::parse(result.errors)["error"];
    CHECK(error["exit_code"] == result.exit_code);
    CHECK(error["code"].is_string());
  }
  SECTION("a missing database") {
    auto result =
        mailer::test::run_command({MAILERCTL_BIN, "--db", (ctl.dir / "none.db").string(), "keys", "list", "--json"});
    CHECK(result.exit_code == 1);
    CHECK(nlohmann::json::parse(result.errors)["error"]["code"] == "not_found");
  }
  SECTION("a usage error is 2 and JSON too") {
    auto result = ctl.run({"--json", "bogus"});
    CHECK(result.exit_code == 2);
    auto error = nlohmann::json::parse(result.errors)["error"];
    CHECK(error["code"] == "invalid_input");
    CHECK_THAT(error["detail"].get<std::string>(), Catch::StartsWith("unknown command 'bogus'"));
    CHECK(error["exit_code"] == 2);
  }
  SECTION("a bad cursor is a usage error") {
    auto result = ctl.run({"batches", "list", "--cursor", "garbage", "--json"});
    CHECK(result.exit_code == 2);
    CHECK(nlohmann::json::parse(result.errors)["error"]["code"] == "invalid_input");
  }
}

TEST_CASE("mailerctl names an unknown command and points to --help", "[mailerctl]") {
  auto result = mailer::test::run_command({MAILERCTL_BIN, "bogus"});
  CHECK(result.exit_code == 2);
  CHECK_THAT(result.errors,
             Catch::StartsWith("mailerctl: unknown command 'bogus'\n") && Catch::Contains("mailerctl --help"));
  auto nested = mailer::test::run_command({MAILERCTL_BIN, "keys", "bogus"});
  CHECK(nested.exit_code == 2);
  CHECK_THAT(nested.errors, Catch::Contains("unknown command 'keys bogus'"));
  auto typo = mailer::test::run_command({MAILERCTL_BIN, "kyes", "list"});
  CHECK(typo.exit_code == 2);
  CHECK_THAT(typo.errors, Catch::Contains("unknown command 'kyes'") && Catch::Contains("Did you mean 'keys'?"));
}

TEST_CASE("mailerctl --version prints its name and version", "[mailerctl]") {
  auto result = mailer::test::run_command({MAILERCTL_BIN, "--version"});
  CHECK(result.exit_code == 0);
  CHECK(result.output == std::string("mailerctl ") + MAILER_VERSION + "\n");
}

TEST_CASE("mailerctl exits 1 when its output cannot be written", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  std::string command = Ctl::shell_quote(MAILERCTL_BIN) + " --db " + Ctl::shell_quote(ctl.db);
  for (std::string args : {" templates list > /dev/full", " --json templates list > /dev/full"}) {
    INFO(args);
    auto full = mailer::test::run_command({"/bin/sh", "-c", command + args}, ctl.env);
    CHECK(full.exit_code == 1);
    CHECK_THAT(full.errors, Catch::Contains("mailerctl: cannot write to standard output"));
  }
  auto fine = mailer::test::run_command({"/bin/sh", "-c", command + " templates list > /dev/null"}, ctl.env);
  CHECK(fine.exit_code == 0);
  CHECK(fine.errors.empty());
}
