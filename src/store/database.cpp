#include "mailer/store/database.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "mailer/core/clock.hpp"
#include "mailer/store/schema_files.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

constexpr int k_busy_timeout_ms = 5000;
constexpr int k_restart_wait_ms = 50;  // Database::checkpoint(restart)

// NOTE: synchronous=FULL by default, not the NORMAL usually paired with WAL:
// under NORMAL a commit is durable only after the next checkpoint, so a power
// cut could lose a batch we already answered 202 for. The engine's `deferred`
// connections take NORMAL on purpose (an fsync is ~4 ms here, longer than a
// whole send) and leave checkpoints, which sync, to their owner (the engine's
// dispatcher, every second). journal_size_limit cuts the WAL file back after
// a checkpoint let it start over, or a burst would leave it gigabytes long.
void configure_connection(SQLite::Database& db, Sync sync) {
  db.setBusyTimeout(k_busy_timeout_ms);
  // A new file gets auto_vacuum = INCREMENTAL, so that pages freed by pruning
  // can be returned to the filesystem (store::incremental_vacuum). It must come
  // before anything writes the file's header, journal_mode = WAL included:
  // later it only takes effect through a VACUUM (`mailerctl db compact`).
  // https://www.sqlite.org/pragma.html#pragma_auto_vacuum
  if (sql::query_int64(db, "PRAGMA page_count") == 0) db.exec("PRAGMA auto_vacuum = INCREMENTAL");
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA journal_size_limit = 67108864");
  if (sync == Sync::full) {
    db.exec("PRAGMA synchronous = FULL");
  } else {
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec("PRAGMA wal_autocheckpoint = 0");
  }
  db.exec("PRAGMA foreign_keys = ON");
}

bool has_migrations_table(SQLite::Database& db) {
  return sql::query_int64(db,
                          "SELECT count(*) FROM sqlite_master "
                          "WHERE type = 'table' AND name = 'schema_migrations'") > 0;
}

int current_version(SQLite::Database& db) {
  if (!has_migrations_table(db)) return 0;
  return static_cast<int>(sql::query_int64(db, "SELECT max(version) FROM schema_migrations"));
}

int latest_version() {
  int latest = 0;
  for (const auto& file : schema_files()) latest = std::max(latest, schema_version_of(file.name));
  return latest;
}

Error newer_schema_error(int current, int latest, std::string_view program = "mailerd") {
  return make_error(ErrorCode::conflict, fmt::format("database schema version {} is newer than this {} ({}), written "
                                                     "by a newer mailerd; upgrade {}",
                                                     current, program, latest, program));
}

// Applies one file unless another process applied it meanwhile: the version is
// re-read under the write lock that BEGIN IMMEDIATE takes, so a mailerctl
// migrate racing a starting mailerd applies each file once.
Result<bool> apply_one(Database& db, const SchemaFile& file, int version) {
  return sql::transaction(db, fmt::format("apply migration {}", file.name), [&]() -> Result<bool> {
    if (current_version(db.sql()) >= version) return false;
    db.sql().exec(std::string(file.sql));
    SQLite::Statement record(db.sql(),
                             "INSERT INTO schema_migrations(version, name, applied_at_ms) "
                             "VALUES (?, ?, ?)");
    record.bind(1, version);
    record.bind(2, std::string(file.name));
    record.bind(3, static_cast<std::int64_t>(to_ms(std::chrono::system_clock::now())));
    record.exec();
    return true;
  });
}

}  // namespace

int schema_version_of(std::string_view file_name) {
  int version = 0;
  for (char c : file_name) {
    if (c < '0' || c > '9') break;
    version = version * 10 + (c - '0');
  }
  return version;
}

Database::Database(std::string path, std::unique_ptr<SQLite::Database> db)
    : m_path(std::move(path)), m_db(std::move(db)), m_statements(std::make_unique<sql::StatementCache>(*m_db)) {}

Database::~Database() = default;

Result<std::unique_ptr<Database>> Database::open(const std::string& path, OpenMode mode, Sync sync) {
  if (mode == OpenMode::existing && !std::filesystem::exists(path))
    return make_error(ErrorCode::not_found, fmt::format("database {}: no such file", path));
  int flags = SQLite::OPEN_READWRITE | (mode == OpenMode::create ? SQLite::OPEN_CREATE : 0);
  return sql::guard(fmt::format("open database {}", path), [&]() -> Result<std::unique_ptr<Database>> {
    auto db = std::make_unique<SQLite::Database>(path, flags);
    configure_connection(*db, sync);
    return std::unique_ptr<Database>(new Database(path, std::move(db)));
  });
}

Status Database::checkpoint(CheckpointMode mode) {
  // A restart waits for readers, and the engine's dispatcher runs it between
  // rounds: a long reader (mailerctl db backup, an open sqlite3 shell) must
  // not stall sending for the whole busy timeout every second. After a short
  // wait it goes on like a passive checkpoint; the next one goes further.
  const int wait_ms = mode == CheckpointMode::restart ? k_restart_wait_ms : k_busy_timeout_ms;
  return sql::guard("checkpoint", [&]() -> Status {
    m_db->setBusyTimeout(wait_ms);
    // A checkpoint that the wait cut short still synced and copied what it
    // could, so its (busy, log, checkpointed) row is not an error.
    Status done = sql::guard("checkpoint", [&]() -> Status {
      const char* pragma = mode == CheckpointMode::truncate  ? "PRAGMA wal_checkpoint(TRUNCATE)"
                           : mode == CheckpointMode::passive ? "PRAGMA wal_checkpoint(PASSIVE)"
                                                             : "PRAGMA wal_checkpoint(RESTART)";
      sql::query_int64(*m_db, pragma);
      return {};
    });
    m_db->setBusyTimeout(k_busy_timeout_ms);
    return done;
  });
}

Result<MigrationStatus> migration_status(Database& db) {
  return sql::guard("read schema version", [&]() -> Result<MigrationStatus> {
    MigrationStatus status;
    status.current_version = current_version(db.sql());
    status.latest_version = latest_version();
    return status;
  });
}

Status check_writable(Database& db) {
  try {
    db.sql().exec("BEGIN IMMEDIATE");
    db.sql().exec("ROLLBACK");
  } catch (const std::exception& e) {
    return make_error(ErrorCode::storage_unavailable, std::string("database not writable: ") + e.what());
  }
  return {};
}

Status require_current_schema(Database& db, std::string_view program, std::string_view to_upgrade) {
  auto status = migration_status(db);
  if (!status) return std::move(status).error();
  if (status->current_version > status->latest_version)
    return newer_schema_error(status->current_version, status->latest_version, program);
  if (status->current_version < status->latest_version) {
    return make_error(ErrorCode::conflict,
                      fmt::format("database schema is at version {}, this {} needs {}{}{}", status->current_version,
                                  program, status->latest_version, to_upgrade.empty() ? "" : "; ", to_upgrade));
  }
  return {};
}

Result<MigrationStatus> migrate(Database& db) {
  auto status = migration_status(db);
  if (!status) return status;
  if (status->current_version > status->latest_version)
    return newer_schema_error(status->current_version, status->latest_version);
  auto created = sql::guard("create schema_migrations", [&]() -> Status {
    db.sql().exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL)");
    return {};
  });
  if (!created) return created.error();
  for (const auto& file : schema_files()) {
    int version = schema_version_of(file.name);
    if (version <= status->current_version) continue;
    auto applied = apply_one(db, file, version);
    if (!applied) return applied.error();
    if (*applied) status->applied_now.emplace_back(file.name);
    status->current_version = version;
  }
  return status;
}

// --- DaemonLock -------------------------------------------------------------

namespace {

// `path` with symlinks resolved, for messages; `path` itself when it cannot be.
std::string real_path_of(const std::string& path) {
  std::error_code error;
  auto real = std::filesystem::canonical(path, error);
  return error ? path : real.string();
}

std::string describe_database(const std::string& path) {
  const std::string real = real_path_of(path);
  return real == path ? path : fmt::format("{} (the file {})", path, real);
}

}  // namespace

Result<std::unique_ptr<DaemonLock>> DaemonLock::acquire(const std::string& db_path) {
  // The database file itself carries the lock, not a "<path>.lock" beside it:
  // a symlink, a hard link or a second mount of the same file all reach the
  // same inode, hence the same lock, where a lock file named after the path
  // would differ per name. O_CREAT makes the (empty) file SQLite would create.
  int fd = ::open(db_path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    return make_error(ErrorCode::storage_unavailable,
                      fmt::format("cannot open database file {}: {}", db_path, std::strerror(errno)));
  // flock locks belong to the open file description, so even a second open in
  // this same process conflicts, and the kernel drops the lock if we crash.
  // NOTE: flock, not fcntl: SQLite's own locks on this file are POSIX (fcntl)
  // locks, which on Linux are independent of flock.
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int error = errno;
    ::close(fd);
    if (error == EWOULDBLOCK)
      return make_error(ErrorCode::conflict,
                        fmt::format("database {} is in use by another mailerd", describe_database(db_path)));
    return make_error(ErrorCode::storage_unavailable,
                      fmt::format("cannot lock database file {}: {}", db_path, std::strerror(error)));
  }
  return std::unique_ptr<DaemonLock>(new DaemonLock(fd));
}

DaemonLock::~DaemonLock() {
  if (m_fd >= 0) ::close(m_fd);  // closing the last descriptor releases the flock
}

}  // namespace mailer::store
