#include "test_db.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

namespace mailer::test {

TestDb::TestDb() : m_path(m_dir / "mailer.db") {
  m_db = open_connection();
  auto migrated = store::migrate(*m_db);
  if (!migrated) FAIL("migrate: " << migrated.error().detail);
}

TestDb::~TestDb() = default;

std::unique_ptr<store::Database> TestDb::open_connection() const {
  auto db = store::Database::open(m_path.string());
  if (!db) FAIL("open " << m_path << ": " << db.error().detail);
  return std::move(*db);
}

std::int64_t TestDb::count_rows(const std::string& table) {
  return m_db->sql().execAndGet("SELECT count(*) FROM " + table).getInt64();
}

std::string TestDb::query_text(const std::string& sql) {
  SQLite::Statement q(m_db->sql(), sql);
  return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString() : std::string("<none>");
}

std::int64_t TestDb::query_int(const std::string& sql) {
  SQLite::Statement q(m_db->sql(), sql);
  return q.executeStep() ? q.getColumn(0).getInt64() : -1;
}

std::vector<store::ClaimedMessage> claim_all(TestDb& t) {
  auto claimed = store::MessageRepo(t.db(), t.clock()).claim(100, to_ms(t.clock().now()), 60000, store::ClaimScope::all);
  REQUIRE(claimed);
  return *claimed;
}

}  // namespace mailer::test
