#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/keys.hpp"
#include "mailer/store/maintenance.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
namespace store = mailer::store;

TEST_CASE("check_integrity passes a healthy database and counts foreign key violations", "[store]") {
  mailer::test::TestDb t;
  auto report = store::check_integrity(t.db());
  REQUIRE(report);
  CHECK(report->ok());

  t.db().sql().exec("PRAGMA foreign_keys = OFF");
  t.db().sql().exec(
      "INSERT INTO template_versions(template_id, version, subject, created_at_ms) "
      "VALUES ('tmpl_missing', 1, 's', 0)");
  report = store::check_integrity(t.db());
  REQUIRE(report);
  CHECK(report->foreign_key_violations == 1);
  CHECK_FALSE(report->ok());
}

TEST_CASE("backup copies the database into one new self-contained file", "[store]") {
  mailer::test::TestDb t;
  store::KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("ci", store::Scope::admin, "mailerctl");
  REQUIRE(created);
  auto dest = t.dir() / "copy.db";

  auto report = store::backup(t.db(), dest.string());
  REQUIRE(report);
  CHECK(report->pages > 0);
  CHECK_FALSE(std::filesystem::exists(dest.string() + ".tmp"));
  {
    SQLite::Database copy(dest.string(), SQLite::OPEN_READONLY);
    CHECK(copy.execAndGet("PRAGMA journal_mode").getString() == "delete");
    CHECK(copy.execAndGet("PRAGMA integrity_check").getString() == "ok");
    CHECK(copy.execAndGet("SELECT id FROM api_keys").getString() == created->key.id);
  }

  SECTION("an existing destination is refused, untouched") {
    auto again = store::backup(t.db(), dest.string());
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::conflict);
    CHECK_THAT(again.error().detail, Catch::Contains(dest.string()));
  }
  SECTION("an unwritable destination leaves nothing behind") {
    auto bad = t.dir() / "no-such-dir" / "copy.db";
    auto failed = store::backup(t.db(), bad.string());
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::storage_unavailable);
    CHECK_FALSE(std::filesystem::exists(bad));
  }
}
