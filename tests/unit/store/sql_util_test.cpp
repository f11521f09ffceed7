#include <catch2/catch.hpp>

#include <sqlite3.h>

#include "store/sql_util.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::Result;
using mailer::Status;
namespace sql = mailer::store::sql;

TEST_CASE("sql::to_error classifies SQLite result codes", "[store]") {
  auto code = [](int rc) { return sql::to_error(rc, "x").code; };
  CHECK(code(SQLITE_BUSY) == ErrorCode::storage_unavailable);
  CHECK(code(SQLITE_LOCKED) == ErrorCode::storage_unavailable);
  CHECK(code(SQLITE_FULL) == ErrorCode::storage_unavailable);
  CHECK(code(SQLITE_IOERR_WRITE) == ErrorCode::storage_unavailable);
  CHECK(code(SQLITE_READONLY) == ErrorCode::storage_unavailable);
  CHECK(code(SQLITE_CONSTRAINT_UNIQUE) == ErrorCode::conflict);
  CHECK(code(SQLITE_CONSTRAINT_PRIMARYKEY) == ErrorCode::conflict);
  CHECK(code(SQLITE_CONSTRAINT_CHECK) == ErrorCode::internal);
  CHECK(code(SQLITE_MISUSE) == ErrorCode::internal);
  CHECK(sql::to_error(SQLITE_BUSY, "create key").detail == "create key: database is locked");
}

TEST_CASE("sql::guard maps real SQLite failures", "[store]") {
  mailer::test::TestDb t;
  SECTION("UNIQUE violation -> conflict without SQL or values in the detail") {
    t.db().sql().exec("INSERT INTO templates VALUES ('tmpl_1', 'welcome', 1, 0, 0)");
    Status r = sql::guard("create template", [&]() -> Status {
      t.db().sql().exec("INSERT INTO templates VALUES ('tmpl_2', 'welcome', 1, 0, 0)");
      return {};
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::conflict);
    CHECK(r.error().detail == "create template: already exists or still referenced");
  }
  SECTION("another connection holds the write lock -> storage_unavailable") {
    auto other = t.open_connection();
    other->sql().exec("BEGIN IMMEDIATE");
    t.db().sql().setBusyTimeout(0);
    Status r = sql::transaction(t.db(), "write", [&]() -> Status { return {}; });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::storage_unavailable);
    other->sql().exec("ROLLBACK");
  }
  SECTION("read-only file -> storage_unavailable") {
    SQLite::Database ro(t.path().string(), SQLite::OPEN_READONLY);
    Status r = sql::guard("write", [&]() -> Status {
      ro.exec("DELETE FROM templates");
      return {};
    });
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::storage_unavailable);
  }
}

TEST_CASE("sql::transaction commits values and rolls back errors", "[store]") {
  mailer::test::TestDb t;
  auto insert = [&](const char* id) {
    t.db().sql().exec(std::string("INSERT INTO sns_messages VALUES ('") + id + "', 't', 'n', 0)");
  };
  Result<int> ok = sql::transaction(t.db(), "a", [&]() -> Result<int> {
    insert("m1");
    return 1;
  });
  CHECK(ok);
  Result<int> refused = sql::transaction(t.db(), "b", [&]() -> Result<int> {
    insert("m2");
    return mailer::make_error(ErrorCode::invalid_input, "no");
  });
  CHECK_FALSE(refused);
  CHECK_THROWS_AS(sql::transaction(t.db(), "c",
                                   [&]() -> Result<int> {
                                     insert("m3");
                                     throw std::logic_error("bug");
                                   }),
                  std::logic_error);
  CHECK(t.count_rows("sns_messages") == 1);
}

TEST_CASE("sql optional column helpers round-trip NULL", "[store]") {
  mailer::test::TestDb t;
  SQLite::Statement insert(t.db().sql(), "INSERT INTO sns_messages VALUES ('m', 't', ?, ?)");
  sql::bind_optional(insert, 1, std::optional<std::string>("n"));
  sql::bind_optional(insert, 2, std::optional<std::int64_t>(5));
  insert.exec();
  SQLite::Statement read(t.db().sql(), "SELECT type, received_at_ms, NULL FROM sns_messages");
  REQUIRE(read.executeStep());
  CHECK(sql::optional_text(read.getColumn(0)) == "n");
  CHECK(sql::optional_int64(read.getColumn(1)) == 5);
  CHECK_FALSE(sql::optional_int64(read.getColumn(2)));
  CHECK_FALSE(sql::optional_text(read.getColumn(2)));
  CHECK(sql::query_int64(t.db().sql(), "SELECT count(*) FROM sns_messages") == 1);
}

TEST_CASE("sql::StatementCache prepares once and hands statements back clean", "[store]") {
  mailer::test::TestDb t;
  auto& cache = t.db().statements();
  t.db().sql().exec("CREATE TABLE c(x INTEGER UNIQUE)");
  auto& insert = cache.get("INSERT INTO c VALUES (?)");
  insert.bind(1, 1);
  insert.exec();
  auto& again = cache.get("INSERT INTO c VALUES (?)");
  CHECK(&again == &insert);
  // Bindings were cleared: x is NULL, not 1 (which would violate UNIQUE).
  again.exec();
  CHECK(sql::query_int64(t.db().sql(), "SELECT count(*) FROM c WHERE x IS NULL") == 1);

  SECTION("a statement whose last run failed is usable again") {
    auto& failing = cache.get("INSERT INTO c VALUES (?)");
    failing.bind(1, 1);
    Status failed = sql::guard("insert", [&]() -> Status {
      failing.exec();
      return {};
    });
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::conflict);
    auto& next = cache.get("INSERT INTO c VALUES (?)");
    next.bind(1, 2);
    CHECK(next.exec() == 1);
  }
  SECTION("a bad query throws and is not cached") {
    Status bad = sql::guard("bad", [&]() -> Status {
      cache.get("SELECT nope FROM c");
      return {};
    });
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::internal);
    Status again_bad = sql::guard("bad", [&]() -> Status {
      cache.get("SELECT nope FROM c");
      return {};
    });
    CHECK_FALSE(again_bad);
  }
}
