// mailerctl migrate, db check and db backup run as real processes.

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

using mailer::test::CommandResult;
using mailer::test::run_command;

namespace {

struct DbCtl {
  mailer::test::TempDir dir;
  std::string db = (dir / "mailer.db").string();

  CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {MAILERCTL_BIN, "--db", db});
    return run_command(args);
  }
  void require_ok(std::vector<std::string> args) {
    auto r = run(std::move(args));
    INFO(r.output << r.errors);
    REQUIRE(r.exit_code == 0);
  }
  void sql(const std::string& statement) {
    SQLite::Database conn(db, SQLite::OPEN_READWRITE);
    conn.exec(statement);
  }
};

}  // namespace

TEST_CASE("mailerctl migrate applies the schema once", "[mailerctl]") {
  DbCtl ctl;
  auto first = ctl.run({"migrate"});
  REQUIRE(first.exit_code == 0);
  CHECK_THAT(first.output, Catch::Contains("applied 0001_init.sql"));
  auto second = ctl.run({"migrate", "--json"});
  REQUIRE(second.exit_code == 0);
  auto status = nlohmann::json::parse(second.output);
  CHECK(status["applied"].empty());
  CHECK(status["current_version"] == status["latest_version"]);
}

TEST_CASE("mailerctl refuses a database newer than itself", "[mailerctl]") {
  DbCtl ctl;
  ctl.require_ok({"migrate"});
  ctl.sql("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)");
  for (auto args : {std::vector<std::string>{"migrate"}, {"db", "check"}}) {
    auto r = ctl.run(args);
    INFO(args[0]);
    CHECK(r.exit_code == 1);
  }
  auto keys = ctl.run({"keys", "list"});
  CHECK(keys.exit_code == 78);  // was 1: a schema mailerctl cannot use exits like a bad configuration
  CHECK_THAT(keys.errors, Catch::Contains("version 999 is newer") && Catch::Contains("written by a newer mailerd"));
}

namespace {

// A database as the release with only 0001_init.sql left it, the way migrate
// would have written it then.
void make_version_1_database(const std::string& path) {
  std::ifstream init_file(std::string(MAILER_SOURCE_DIR) + "/schema/0001_init.sql");
  REQUIRE(init_file);
  std::stringstream init_sql;
  init_sql << init_file.rdbuf();
  SQLite::Database conn(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  conn.exec(
      "CREATE TABLE schema_migrations ("
      " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)");
  conn.exec(init_sql.str());
  conn.exec("INSERT INTO schema_migrations VALUES (1, '0001_init.sql', 0)");
}

int schema_version(const std::string& path) {
  SQLite::Database conn(path, SQLite::OPEN_READONLY);
  return conn.execAndGet("SELECT max(version) FROM schema_migrations").getInt();
}

}  // namespace

// An old mailerd may still run on the file: only `migrate` (and mailerd at
// start) may upgrade it, never a command that happens to open it.
TEST_CASE("mailerctl commands other than migrate refuse an older schema and leave it", "[mailerctl]") {
  DbCtl ctl;
  auto scratch = (ctl.dir / "scratch.db").string();
  auto fresh = run_command({MAILERCTL_BIN, "--db", scratch, "migrate", "--json"});
  REQUIRE(fresh.exit_code == 0);
  const int latest = nlohmann::json::parse(fresh.output)["latest_version"];
  REQUIRE(latest > 1);
  make_version_1_database(ctl.db);

  const std::vector<std::vector<std::string>> commands{{"keys", "list"},
                                                       {"keys", "create", "--name", "x", "--scope", "admin"},
                                                       {"templates", "list"},
                                                       {"suppressions", "list"},
                                                       {"dlq", "list"},
                                                       {"batches", "list"},
                                                       {"erase", "a@example.com", "--yes"},
                                                       {"seed"}};
  for (const auto& args : commands) {
    INFO(args.front() << " " << args.back());
    auto r = ctl.run(args);
    CHECK(r.exit_code == 78);
    CHECK_THAT(r.errors,
               Catch::Contains("database schema is at version 1, this mailerctl needs " + std::to_string(latest)) &&
                   Catch::Contains("stop mailerd, then run `mailerctl migrate`"));
    CHECK(schema_version(ctl.db) == 1);
  }

  // Read-only helpers still work on the old file: back it up before upgrading.
  ctl.require_ok({"db", "backup", (ctl.dir / "before-upgrade.db").string()});
  CHECK(schema_version(ctl.db) == 1);

  ctl.require_ok({"migrate"});
  CHECK(schema_version(ctl.db) == latest);
  ctl.require_ok({"keys", "list"});
}

TEST_CASE("mailerctl db check", "[mailerctl]") {
  DbCtl ctl;
  SECTION("a migrated database is ok") {
    ctl.require_ok({"migrate"});
    auto r = ctl.run({"db", "check"});
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("integrity: ok") && Catch::EndsWith("ok\n"));
    auto report = nlohmann::json::parse(ctl.run({"db", "check", "--json"}).output);
    CHECK(report["ok"] == true);
    CHECK(report["integrity"] == "ok");
  }
  SECTION("a dangling reference fails") {
    ctl.require_ok({"migrate"});
    ctl.sql(
        "INSERT INTO template_versions(template_id, version, subject, created_at_ms) "
        "VALUES ('tmpl_gone', 1, 's', 0)");  // this connection has foreign keys off
    auto r = ctl.run({"db", "check"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("1 violations") && Catch::Contains("NOT OK"));
  }
  SECTION("an unmigrated database fails and is left unchanged") {
    { SQLite::Database create(ctl.db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE); }
    auto r = ctl.run({"db", "check"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.output, Catch::Contains("run mailerctl migrate"));
    SQLite::Database conn(ctl.db, SQLite::OPEN_READONLY);
    CHECK_FALSE(conn.tableExists("schema_migrations"));
  }
  SECTION("a missing file fails without creating one") {
    auto r = ctl.run({"db", "check"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.errors, Catch::Contains(ctl.db + " does not exist"));
    CHECK_FALSE(std::filesystem::exists(ctl.db));
  }
  SECTION("a file that is not a database fails") {
    std::ofstream(ctl.db) << std::string(8192, 'z');
    auto r = ctl.run({"db", "check"});
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.errors, Catch::Contains(ctl.db));
  }
}

TEST_CASE("mailerctl db backup writes a checked copy holding the keys", "[mailerctl]") {
  DbCtl ctl;
  ctl.require_ok({"migrate"});
  ctl.require_ok({"keys", "create", "--name", "a", "--scope", "admin"});
  ctl.require_ok({"keys", "create", "--name", "b", "--scope", "read"});
  auto copy = (ctl.dir / "backup.db").string();

  auto r = ctl.run({"db", "backup", copy});
  INFO(r.errors);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.output, Catch::Contains("backup.db"));
  {
    SQLite::Database conn(copy, SQLite::OPEN_READONLY);
    CHECK(conn.execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(conn.execAndGet("SELECT group_concat(name) FROM (SELECT name FROM api_keys ORDER BY id)").getString() ==
          "a,b");
  }
  auto check = run_command({MAILERCTL_BIN, "--db", copy, "db", "check"});
  CHECK(check.exit_code == 0);

  auto again = ctl.run({"db", "backup", copy});
  CHECK(again.exit_code == 1);
  CHECK_THAT(again.errors, Catch::Contains("file exists"));
}

// A mistyped --db must not leave a new empty database behind and look like an
// empty install: every command but migrate wants an existing file.
TEST_CASE("mailerctl commands other than migrate refuse a missing database", "[mailerctl]") {
  DbCtl ctl;
  const std::vector<std::vector<std::string>> commands{
      {"keys", "list"},
      {"keys", "create", "--name", "x", "--scope", "admin"},
      {"templates", "list"},
      {"suppressions", "list"},
      {"suppressions", "add", "a@example.com"},
      {"dlq", "list"},
      {"dlq", "purge", "--older-than", "1d"},
      {"batches", "list"},
      {"erase", "a@example.com", "--yes"},
      {"send", "--template", "t", "--from", "a@example.com", "--recipients", ctl.db + ".csv"},
      {"seed"},
      {"db", "check"},
      {"db", "backup", (ctl.dir / "copy.db").string()}};
  std::ofstream(ctl.db + ".csv") << "email\na@example.com\n";
  for (const auto& args : commands) {
    INFO(args.front() << " " << args.back());
    auto r = ctl.run(args);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.errors, Catch::Contains("database " + ctl.db + " does not exist") &&
                             Catch::Contains("starting mailerd once") &&
                             Catch::Contains("mailerctl --db " + ctl.db + " migrate"));
    CHECK_FALSE(std::filesystem::exists(ctl.db));
  }
  SECTION("migrate creates it") { ctl.require_ok({"migrate"}); }
  SECTION("db migrate creates it") { ctl.require_ok({"db", "migrate"}); }
  CHECK(std::filesystem::exists(ctl.db));
  ctl.require_ok({"keys", "list"});
}
