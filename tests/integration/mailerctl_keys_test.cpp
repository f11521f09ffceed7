// mailerctl keys ... run as a real process against a temporary database.

#include <catch2/catch.hpp>

#include <regex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mailer/store/keys.hpp"
#include "support/child_process.hpp"
#include "support/fake_clock.hpp"
#include "support/temp_dir.hpp"

using mailer::test::CommandResult;
using mailer::test::run_command;

namespace {

struct KeysCtl {
  mailer::test::TempDir dir;
  std::string db = (dir / "mailer.db").string();

  // With `create_database`, runs `mailerctl migrate` first, as an operator would.
  explicit KeysCtl(bool create_database = true) {
    if (create_database) REQUIRE(run({"migrate"}).exit_code == 0);
  }
  // mailerctl --db <db> args...
  CommandResult run(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {MAILERCTL_BIN, "--db", db});
    return run_command(args, env);
  }
  // mailerctl args... with no --db: the path comes from the environment.
  CommandResult run_bare(std::vector<std::string> args, std::map<std::string, std::string> env) {
    args.insert(args.begin(), MAILERCTL_BIN);
    return run_command(args, env);
  }
  nlohmann::json json(std::vector<std::string> args) {
    args.push_back("--json");
    auto result = run(args);
    INFO(result.errors);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.output);
  }
};

std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}

bool authenticates(const std::string& db_path, const std::string& secret) {
  auto db = mailer::store::Database::open(db_path);
  REQUIRE(db);
  mailer::test::FakeClock clock;
  return mailer::store::KeyRepo(**db, clock).authenticate(secret).has_value();
}

const std::regex k_key_pattern("mk_[A-Za-z0-9_-]{43}");

}  // namespace

TEST_CASE("mailerctl keys create prints a working key alone on its last line", "[mailerctl]") {
  KeysCtl ctl;
  auto result = ctl.run({"keys", "create", "--name", "first admin", "--scope", "admin"});
  INFO(result.errors);
  REQUIRE(result.exit_code == 0);
  std::string key = last_line(result.output);
  CHECK(std::regex_match(key, k_key_pattern));
  CHECK(authenticates(ctl.db, key));
  CHECK_FALSE(authenticates(ctl.db, key.substr(0, 45) + (key.back() == 'A' ? "B" : "A")));
}

TEST_CASE("mailerctl keys create --json prints one object with the key", "[mailerctl]") {
  KeysCtl ctl;
  auto created = ctl.json({"keys", "create", "--name", "ci", "--scope", "send"});
  REQUIRE(created.is_object());
  CHECK(created["name"] == "ci");
  CHECK(created["scope"] == "send");
  std::string key = created["key"];
  CHECK(std::regex_match(key, k_key_pattern));
  CHECK(created["prefix"] == key.substr(0, 12));
  CHECK(std::string(created["id"]).rfind("key_", 0) == 0);
  CHECK(created["created_at"].is_string());
  CHECK(authenticates(ctl.db, key));
}

TEST_CASE("mailerctl keys list shows keys but never the secret", "[mailerctl]") {
  KeysCtl ctl;
  auto a = ctl.json({"keys", "create", "--name", "alpha", "--scope", "read"});
  auto b = ctl.json({"keys", "create", "--name", "beta", "--scope", "admin"});

  auto table = ctl.run({"keys", "list"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.output, Catch::StartsWith("ID") && Catch::Contains("LAST USED") && Catch::Contains("REVOKED"));
  CHECK_THAT(table.output, Catch::Contains(std::string(a["id"])) && Catch::Contains("alpha") &&
                               Catch::Contains(std::string(b["prefix"])) && Catch::Contains("admin"));
  CHECK_THAT(table.output, !Catch::Contains(std::string(a["key"])) && !Catch::Contains(std::string(b["key"])));

  auto page = ctl.json({"keys", "list"});
  CHECK(page["next_cursor"].is_null());  // every key on one page
  auto list = page["data"];
  REQUIRE(list.size() == 2);
  CHECK(list[0]["id"] == a["id"]);
  CHECK(list[1]["scope"] == "admin");
  CHECK(list[0]["revoked_at"].is_null());
  CHECK(list[0]["use_count"] == 0);
  CHECK_FALSE(list[0].contains("key"));
}

TEST_CASE("mailerctl keys revoke stops a key and is audited", "[mailerctl]") {
  KeysCtl ctl;
  auto created = ctl.json({"keys", "create", "--name", "old", "--scope", "send"});
  std::string id = created["id"];

  auto revoked = ctl.run({"keys", "revoke", id});
  INFO(revoked.errors);
  REQUIRE(revoked.exit_code == 0);
  CHECK_THAT(revoked.output, Catch::Contains("Revoked key " + id));
  CHECK_FALSE(authenticates(ctl.db, created["key"]));
  CHECK(ctl.json({"keys", "list"})["data"][0]["revoked_at"].is_string());

  auto again = ctl.run({"keys", "revoke", id, "--json"});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.errors, Catch::Contains("already revoked"));
  auto unknown = ctl.run({"keys", "revoke", "key_00000000000000000000"});
  CHECK(unknown.exit_code == 1);
  CHECK_THAT(unknown.errors, Catch::Contains("not found"));

  auto audit = ctl.json({"keys", "audit", id});
  // As GET /v1/admin/keys/{id}/audit: the key, then its history as a page.
  CHECK(audit["key"]["id"] == id);
  CHECK(audit["next_cursor"].is_null());
  REQUIRE(audit["data"].size() == 2);
  CHECK(audit["data"][0]["action"] == "created");
  CHECK(audit["data"][1]["action"] == "revoked");
  CHECK(audit["data"][1]["actor"] == "mailerctl");
  auto human = ctl.run({"keys", "audit", id});
  CHECK(human.exit_code == 0);
  CHECK_THAT(human.output, Catch::Contains("created") && Catch::Contains("revoked"));
}

TEST_CASE("mailerctl exits 2 on bad usage", "[mailerctl]") {
  KeysCtl ctl(false);
  SECTION("no command") { CHECK(ctl.run({}).exit_code == 2); }
  SECTION("keys without a subcommand") { CHECK(ctl.run({"keys"}).exit_code == 2); }
  SECTION("unknown scope") {
    auto r = ctl.run({"keys", "create", "--name", "x", "--scope", "root"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.errors, Catch::Contains("--scope"));
  }
  SECTION("missing --name") { CHECK(ctl.run({"keys", "create", "--scope", "read"}).exit_code == 2); }
  SECTION("revoke without an id") { CHECK(ctl.run({"keys", "revoke"}).exit_code == 2); }
  SECTION("misspelt command gets a suggestion") {
    auto r = ctl.run({"kyes", "list"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.errors, Catch::Contains("Did you mean 'keys'?"));
  }
  SECTION("help is not an error") {
    auto r = ctl.run({"keys", "--help"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("create"));
  }
  CHECK_FALSE(std::filesystem::exists(ctl.db));  // nothing ran
}

TEST_CASE("mailerctl finds the database through DATABASE_URL", "[mailerctl]") {
  KeysCtl ctl;  // the file exists: --db and DATABASE_URL name existing databases
  std::map<std::string, std::string> env;
  SECTION("sqlite: URL") {
    env["DATABASE_URL"] = "sqlite:" + ctl.db;
    auto r = ctl.run_bare({"keys", "create", "--name", "x", "--scope", "read"}, env);
    INFO(r.errors);
    REQUIRE(r.exit_code == 0);
    CHECK(authenticates(ctl.db, last_line(r.output)));
  }
  SECTION("--db wins over DATABASE_URL") {
    env["DATABASE_URL"] = (ctl.dir / "other.db").string();
    REQUIRE(ctl.run({"keys", "create", "--name", "x", "--scope", "read"}, env).exit_code == 0);
    CHECK(std::filesystem::exists(ctl.db));
    CHECK_FALSE(std::filesystem::exists(ctl.dir / "other.db"));
  }
  SECTION("an empty sqlite: URL is a configuration error") {
    env["DATABASE_URL"] = "sqlite:";
    auto r = ctl.run_bare({"keys", "list"}, env);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.errors, Catch::Contains("DATABASE_URL"));
  }
  SECTION("a missing --config file is a configuration error") {
    auto r = ctl.run({"--config", (ctl.dir / "absent.toml").string(), "keys", "list"}, env);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.errors, Catch::Contains("absent.toml"));
  }
}
