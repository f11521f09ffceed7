#include "mailer/store/maintenance.hpp"

#include <sqlite3.h>
#include <sys/statvfs.h>

#include <chrono>
#include <filesystem>
#include <optional>
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

std::int64_t file_bytes(const std::string& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<std::int64_t>(size);
}

// Bytes an unprivileged process may still write on the filesystem of `path`.
std::optional<std::int64_t> free_bytes_near(const std::string& path) {
  auto dir = std::filesystem::absolute(path).parent_path();
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return std::nullopt;
  return static_cast<std::int64_t>(fs.f_bavail) * static_cast<std::int64_t>(fs.f_frsize);
}

Status check_room_for_vacuum(const std::string& path) {
  const auto needed = file_bytes(path) + file_bytes(path + "-wal");
  const auto available = free_bytes_near(path);
  if (available && *available >= needed) return {};
  return make_error(ErrorCode::storage_unavailable,
                    available ? fmt::format("compact {}: not enough free space: {} bytes free, {} needed (the "
                                            "file's size; VACUUM writes a full copy)",
                                            path, *available, needed)
                              : fmt::format("compact {}: cannot read the free space of its filesystem", path));
}

}  // namespace

Result<std::int64_t> incremental_vacuum(Database& db, int max_pages) {
  if (max_pages < 1)
    return make_error(ErrorCode::invalid_input,
                      fmt::format("incremental vacuum: {} pages: must be at least 1", max_pages));
  return sql::guard("incremental vacuum", [&]() -> Result<std::int64_t> {
    if (sql::query_int64(db.sql(), "PRAGMA auto_vacuum") != 2) return 0;
    const auto before = sql::query_int64(db.sql(), "PRAGMA freelist_count");
    if (before == 0) return 0;
    db.sql().exec(fmt::format("PRAGMA incremental_vacuum({})", max_pages));
    return before - sql::query_int64(db.sql(), "PRAGMA freelist_count");
  });
}

Result<CompactReport> compact(Database& db) {
  if (auto room = check_room_for_vacuum(db.path()); !room) return room.error();
  CompactReport report{file_bytes(db.path()), 0};
  auto vacuumed = sql::guard("compact", [&]() -> Status {
    db.sql().exec("PRAGMA auto_vacuum = INCREMENTAL");
    db.sql().exec("VACUUM");
    return {};
  });
  if (!vacuumed) return vacuumed.error();
  if (auto truncated = db.checkpoint(Database::CheckpointMode::truncate); !truncated) return truncated.error();
  report.bytes_after = file_bytes(db.path());
  return report;
}

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
