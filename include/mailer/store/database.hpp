#pragma once
// The SQLite database file: opening it (WAL, foreign keys, busy timeout),
// applying the embedded migrations, and the one-daemon-per-file lock.
// Only src/store/ includes SQLiteCpp; other layers see repos.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace SQLite {
class Database;
}
namespace mailer::store::sql {
class StatementCache;
}

namespace mailer::store {

/// Whether Database::open may create a missing file. `existing` is for tools
/// that inspect a database (`mailerctl db check|backup`) and must not leave an
/// empty file behind when given a wrong path.
enum class OpenMode { create, existing };

/// When a connection's commits reach the disk.
/// - `full`: every commit fsyncs the WAL before it returns (synchronous=FULL),
///   so a power cut cannot undo it. The API needs this: 202 means on disk.
/// - `deferred`: a commit reaches the OS at once, so it survives a crash or
///   kill -9 of mailerd, and the disk at the next `full` commit of any
///   connection or the next checkpoint() (synchronous=NORMAL, no automatic
///   checkpoints on this connection: its owner calls checkpoint()). A power
///   cut can undo its last commits.
///   The job engine's claims and outcomes use it: undoing those re-sends a
///   message, never loses one (docs/ARCHITECTURE.md "Durability guarantees").
/// https://www.sqlite.org/pragma.html#pragma_synchronous
enum class Sync { full, deferred };

/// One connection. Not shared between threads: each thread opens its own.
class Database {
 public:
  /// Opens (creating if absent, unless `mode` is `existing`) `path` in WAL mode
  /// (a new, empty file also in auto_vacuum = INCREMENTAL mode) with foreign keys on, a busy timeout of 5 s and commits
  /// synced as `sync` says (default `full`: SPEC §3, 202 means on disk). Errors: storage_unavailable (cannot
  /// open/create, or not a database), not_found (mode `existing` and no such file); the detail names the path.
  static Result<std::unique_ptr<Database>> open(const std::string& path, OpenMode mode = OpenMode::create,
                                                Sync sync = Sync::full);
  ~Database();
  SQLite::Database& sql() { return *m_db; }
  /// This connection's prepared statements, for repos' hot paths (src/store only).
  sql::StatementCache& statements() { return *m_statements; }
  const std::string& path() const { return m_path; }

  /// Syncs the WAL and copies every committed frame into the database file,
  /// waiting for other writers to finish and readers to move on
  /// (https://www.sqlite.org/c3ref/wal_checkpoint_v2.html):
  /// - `restart` (PRAGMA wal_checkpoint(RESTART), waiting at most 50 ms, then
  ///   copying what it can without waiting): the next write starts the
  ///   WAL over and cuts the file back to 64 MB (journal_size_limit). This is
  ///   what makes `deferred` commits durable, and what keeps the WAL from
  ///   growing without end under constant writes (a passive checkpoint never
  ///   catches up with them).
  /// - `truncate` (PRAGMA wal_checkpoint(TRUNCATE), waiting up to the busy
  ///   timeout): also empties the WAL file, so a stopped mailerd leaves one
  ///   self-contained database file.
  /// - `passive` (PRAGMA wal_checkpoint(PASSIVE)): syncs the WAL and copies
  ///   what it can without waiting for anyone, so it never delays the job
  ///   engine; the webhook thread uses it to make its own `deferred` commits
  ///   durable while no mail is sent.
  /// A checkpoint the busy timeout cut short is not an error: it synced what it
  /// could. Errors: storage_unavailable (e.g. called inside a transaction).
  enum class CheckpointMode { restart, truncate, passive };
  Status checkpoint(CheckpointMode mode = CheckpointMode::restart);

 private:
  Database(std::string path, std::unique_ptr<SQLite::Database> db);
  std::string m_path;
  std::unique_ptr<SQLite::Database> m_db;
  std::unique_ptr<sql::StatementCache> m_statements;  // after m_db: finalized first
};

struct MigrationStatus {
  int current_version = 0;               // highest applied migration, 0 on a fresh file
  int latest_version = 0;                // highest embedded migration
  std::vector<std::string> applied_now;  // file names applied by this call
};

/// Applies every embedded schema file newer than the database's version, each in
/// its own transaction, recording it in `schema_migrations`. Errors: conflict when
/// the database is newer than this binary ("database schema version 7 is newer than
/// this mailerd (5); upgrade mailerd"); storage_unavailable on SQLite failure.
Result<MigrationStatus> migrate(Database& db);

/// Reads the versions without changing anything. Errors: storage_unavailable.
Result<MigrationStatus> migration_status(Database& db);

/// Whether a write could start now: takes the write lock (BEGIN IMMEDIATE) and
/// rolls back at once, so a full disk, a read-only file or a writer stuck past
/// the busy timeout shows here (what /ready asks). Errors:
/// storage_unavailable, "database not writable: <SQLite's message>".
Status check_writable(Database& db);

/// Refuses, without changing anything, a database whose schema is not exactly
/// the one this binary was built for: the one check that mailerd (at start and
/// in /ready) and every mailerctl command but `migrate` share. `program` names
/// the binary in the message; `to_upgrade`, when not empty, tells how to bring
/// an older file up to date. Errors: conflict, "database schema is at version
/// 1, this mailerctl needs 3; <to_upgrade>" or "database schema version 7 is
/// newer than this mailerctl (3), written by a newer mailerd; upgrade
/// mailerctl"; storage_unavailable.
Status require_current_schema(Database& db, std::string_view program, std::string_view to_upgrade);

/// The version of a schema file name: its leading number ("0002_x.sql" -> 2),
/// 0 when the name does not start with digits.
int schema_version_of(std::string_view file_name);

/// An exclusive advisory lock (flock) on the database file itself, held for the
/// owner's lifetime, so one mailerd serves one database file whatever name
/// reaches it (symlink, hard link, other mount). Creates the file, empty, when
/// missing. Keep the lock until every Database of this process on the file is
/// closed: closing any descriptor of a file drops the process's POSIX locks on
/// it, SQLite's included. Errors: conflict "database PATH [(the file REAL)] is
/// in use by another mailerd" when another holder exists; storage_unavailable
/// when the file cannot be opened or created.
class DaemonLock {
 public:
  static Result<std::unique_ptr<DaemonLock>> acquire(const std::string& db_path);
  ~DaemonLock();
  DaemonLock(const DaemonLock&) = delete;
  DaemonLock& operator=(const DaemonLock&) = delete;

 private:
  explicit DaemonLock(int fd) : m_fd(fd) {}
  int m_fd;
};

}  // namespace mailer::store
