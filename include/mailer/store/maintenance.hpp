#pragma once
// Operator tasks on the database file for `mailerctl db check|backup`, kept in
// store/ so SQLite stays behind this layer.

#include <cstdint>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

struct IntegrityReport {
  std::vector<std::string> problems;        // PRAGMA integrity_check lines; empty when "ok"
  std::int64_t foreign_key_violations = 0;  // rows of PRAGMA foreign_key_check
  bool ok() const { return problems.empty() && foreign_key_violations == 0; }
};

/// Runs PRAGMA integrity_check (first 100 problems) and foreign_key_check.
/// Read-only. Errors: storage_unavailable.
Result<IntegrityReport> check_integrity(Database& db);

struct BackupReport {
  std::int64_t pages = 0;  // database pages copied
};

/// Copies `db` to the new file `dest_path` with SQLite's online backup API
/// (https://sqlite.org/backup.html): a consistent snapshot, safe while mailerd
/// writes, since in WAL mode the reader it takes blocks no writer. The copy is
/// written to "<dest_path>.tmp", switched to rollback-journal mode (so it is one
/// self-contained file) and renamed into place, so a failed backup leaves
/// nothing at `dest_path`. Errors: conflict when `dest_path` exists;
/// storage_unavailable when it cannot be written or the source stays busy.
Result<BackupReport> backup(Database& db, const std::string& dest_path);

}  // namespace mailer::store
