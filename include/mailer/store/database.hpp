#pragma once
// The SQLite database file: opening it (WAL, foreign keys, busy timeout),
// applying the embedded migrations, and the one-daemon-per-file lock.
// Only src/store/ includes SQLiteCpp; other layers see repos.

#include <memory>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"

namespace SQLite { class Database; }

namespace mailer::store {

/// One connection. Not shared between threads: each thread opens its own.
class Database {
 public:
  /// Opens (creating if absent) `path` in WAL mode with foreign keys on and a
  /// busy timeout of 5 s. Errors: storage_unavailable (cannot open/create),
  /// naming the path.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  ~Database();
  SQLite::Database& sql() { return *m_db; }
  const std::string& path() const { return m_path; }

 private:
  Database(std::string path, std::unique_ptr<SQLite::Database> db);
  std::string m_path;
  std::unique_ptr<SQLite::Database> m_db;
};

struct MigrationStatus {
  int current_version = 0;   // highest applied migration, 0 on a fresh file
  int latest_version = 0;    // highest embedded migration
  std::vector<std::string> applied_now;  // file names applied by this call
};

/// Applies every embedded schema file newer than the database's version, each in
/// its own transaction, recording it in `schema_migrations`. Errors: conflict when
/// the database is newer than this binary ("database schema version 7 is newer than
/// this mailerd (5); upgrade mailerd"); storage_unavailable on SQLite failure.
Result<MigrationStatus> migrate(Database& db);

/// Reads the versions without changing anything.
Result<MigrationStatus> migration_status(Database& db);

/// An exclusive advisory lock (flock) on "<db path>.lock", held for the owner's
/// lifetime, so one mailerd serves one database file. Errors: conflict naming
/// the file when another process holds it.
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
