#include "mailer/store/maintenance.hpp"

#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <system_error>
#include <thread>

#include <SQLiteCpp/Backup.h>
#include <fmt/format.h>

#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

constexpr int k_backup_pages_per_step = 1024;
constexpr int k_backup_busy_retries = 200;
constexpr auto k_backup_busy_wait = std::chrono::milliseconds(50);

// Copies every page of `source` into `dest`. Stepping in chunks lets writers
// commit between steps; SQLite restarts the copy if another connection changed
// the source, so the result is always one consistent snapshot. Busy steps are
// retried for up to 10 s (200 x 50 ms) before giving up.
Result<BackupReport> copy_pages(SQLite::Database& dest, SQLite::Database& source) {
  SQLite::Backup copier(dest, source);
  int busy_left = k_backup_busy_retries;
  for (;;) {
    int rc = copier.executeStep(k_backup_pages_per_step);
    if (rc == SQLITE_DONE) break;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
      if (--busy_left == 0) return sql::to_error(rc, "backup");
      std::this_thread::sleep_for(k_backup_busy_wait);
    }
  }
  return BackupReport{copier.getTotalPageCount()};
}

Result<BackupReport> write_copy(Database& db, const std::string& tmp_path) {
  return sql::guard(fmt::format("backup to {}", tmp_path), [&]() -> Result<BackupReport> {
    SQLite::Database dest(tmp_path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    auto report = copy_pages(dest, db.sql());
    if (!report) return report;
    // The copied header says WAL; a backup should be one file that needs no -wal.
    dest.exec("PRAGMA journal_mode = DELETE");
    return report;
  });
}

}  // namespace

Result<IntegrityReport> check_integrity(Database& db) {
  return sql::guard("check database integrity", [&]() -> Result<IntegrityReport> {
    IntegrityReport report;
    SQLite::Statement integrity(db.sql(), "PRAGMA integrity_check(100)");
    while (integrity.executeStep()) {
      std::string line = integrity.getColumn(0).getString();
      if (line != "ok") report.problems.push_back(std::move(line));
    }
    SQLite::Statement foreign_keys(db.sql(), "PRAGMA foreign_key_check");
    while (foreign_keys.executeStep()) ++report.foreign_key_violations;
    return report;
  });
}

Result<BackupReport> backup(Database& db, const std::string& dest_path) {
  std::error_code ec;
  if (std::filesystem::exists(dest_path, ec))
    return make_error(ErrorCode::conflict, fmt::format("backup {}: file exists; choose a new name", dest_path));
  std::string tmp_path = dest_path + ".tmp";
  std::filesystem::remove(tmp_path, ec);  // left over from an interrupted backup
  auto report = write_copy(db, tmp_path);
  if (report) {
    std::filesystem::rename(tmp_path, dest_path, ec);
    if (!ec) return report;
    report = make_error(ErrorCode::storage_unavailable,
                        fmt::format("backup: cannot rename {} to {}: {}", tmp_path, dest_path, ec.message()));
  }
  std::filesystem::remove(tmp_path, ec);
  return report;
}

}  // namespace mailer::store
