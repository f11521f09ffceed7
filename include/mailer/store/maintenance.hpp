#pragma once
// Operator tasks on the database file for `mailerctl db check|backup|compact`
// and the pruner's incremental vacuum, kept in
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

/// Gives up to `max_pages` free pages back to the filesystem, shrinking the
/// file (PRAGMA incremental_vacuum(N),
/// https://www.sqlite.org/pragma.html#pragma_incremental_vacuum), in one write
/// transaction: 256 pages (1 MiB at 4 KiB pages) hold the write lock a few
/// milliseconds. Returns the pages freed; 0 when the file is not in
/// auto_vacuum = INCREMENTAL mode (run compact() once) or has no free page.
/// Errors: invalid_input (max_pages < 1); storage_unavailable.
Result<std::int64_t> incremental_vacuum(Database& db, int max_pages);

struct CompactReport {
  std::int64_t bytes_before = 0;  // the database file, before and after
  std::int64_t bytes_after = 0;
};

/// Rewrites the file with VACUUM (https://www.sqlite.org/lang_vacuum.html)
/// after setting auto_vacuum = INCREMENTAL, so that from then on freed pages
/// can be returned in the background; then truncates the WAL. VACUUM needs
/// the database to itself for as long as it runs, and up to twice the file's
/// size of free space (a copy in the temporary directory, and the WAL).
/// Refuses, changing nothing, when the filesystem holding the file has less
/// free space than the file's size. The caller keeps mailerd off the file
/// (DaemonLock). Errors: storage_unavailable ("not enough free space ...", or
/// "database is locked" when another connection holds it).
Result<CompactReport> compact(Database& db);

}  // namespace mailer::store
