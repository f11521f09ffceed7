#pragma once
// A migrated SQLite database in a fresh temporary directory, for store tests.
//
//   mailer::test::TestDb t;                        // <tmp>/mailer.db, schema applied
//   mailer::store::KeyRepo keys(t.db(), t.clock());
//   auto other = t.open_connection();              // a second connection, as another thread

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "fake_clock.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"
#include "temp_dir.hpp"

namespace mailer::test {

class TestDb {
 public:
  /// Creates and migrates the database; fails the running test (Catch2 REQUIRE) on error.
  TestDb();
  ~TestDb();

  store::Database& db() { return *m_db; }
  /// A FakeClock for the repos under test (starts 2026-01-01T00:00:00Z).
  FakeClock& clock() { return m_clock; }
  const std::filesystem::path& path() const { return m_path; }
  const TempDir& dir() const { return m_dir; }
  /// Another connection to the same file (REQUIREs success).
  std::unique_ptr<store::Database> open_connection() const;
  /// Row count of `table` (a literal table name from the test).
  std::int64_t count_rows(const std::string& table);
  /// The first column of the first row of `sql` as text; "<none>" when there
  /// is no row or the value is NULL.
  std::string query_text(const std::string& sql);
  /// The first column of the first row of `sql` as an integer; -1 when there is no row.
  std::int64_t query_int(const std::string& sql);

 private:
  TempDir m_dir;
  std::filesystem::path m_path;
  FakeClock m_clock;
  std::unique_ptr<store::Database> m_db;
};

/// Claims every due message of `t` (up to 100, a 60 s lease) as the
/// dispatcher would; fails the test when the claim does.
std::vector<store::ClaimedMessage> claim_all(TestDb& t);

}  // namespace mailer::test
