#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>
#include <algorithm>
#include <filesystem>
#include <fstream>

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>

#include "mailer/store/database.hpp"
#include "mailer/store/schema_files.hpp"
#include "support/temp_dir.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::store::DaemonLock;
using mailer::store::Database;
using mailer::store::OpenMode;
namespace store = mailer::store;

namespace {

std::string pragma(Database& db, const std::string& name) { return db.sql().execAndGet("PRAGMA " + name).getString(); }

std::unique_ptr<Database> open_ok(const std::filesystem::path& path) {
  auto db = Database::open(path.string());
  REQUIRE(db);
  return std::move(*db);
}

// The version of the schema file whose name ends with `suffix` (whatever
// number it ends up with).
int version_of(std::string_view suffix) {
  auto found = std::find_if(store::schema_files().begin(), store::schema_files().end(),
                            [&](const store::SchemaFile& f) { return f.name.ends_with(suffix); });
  REQUIRE(found != store::schema_files().end());
  return store::schema_version_of(found->name);
}

// Applies every schema file before `version` to the new file `db`, and
// records them, as the mailerd of that version left its files.
void apply_schema_before(Database& db, int version) {
  db.sql().exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT "
      "NULL)");
  for (const auto& file : store::schema_files()) {
    int v = store::schema_version_of(file.name);
    if (v >= version) break;
    db.sql().exec(std::string(file.sql));
    db.sql().exec("INSERT INTO schema_migrations VALUES (" + std::to_string(v) + ", '" + std::string(file.name) +
                  "', 1)");
  }
}

}  // namespace

TEST_CASE("Database::open sets WAL, FULL sync, foreign keys and a busy timeout", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  CHECK(pragma(*db, "journal_mode") == "wal");
  CHECK(pragma(*db, "synchronous") == "2");  // FULL
  CHECK(pragma(*db, "foreign_keys") == "1");
  CHECK(pragma(*db, "busy_timeout") == "5000");
  CHECK(db->path() == (dir / "a.db").string());
}

TEST_CASE("Database::open reports files it cannot use", "[store]") {
  mailer::test::TempDir dir;
  SECTION("missing directory") {
    auto db = Database::open((dir / "no/such/dir/a.db").string());
    REQUIRE_FALSE(db);
    CHECK(db.error().code == ErrorCode::storage_unavailable);
    CHECK_THAT(db.error().detail, Catch::Contains("no/such/dir/a.db"));
  }
  SECTION("not a database") {
    std::ofstream(dir / "junk.db") << std::string(4096, 'x');
    auto db = Database::open((dir / "junk.db").string());
    REQUIRE_FALSE(db);
    CHECK(db.error().code == ErrorCode::storage_unavailable);
    CHECK_THAT(db.error().detail, Catch::Contains("junk.db"));
  }
  SECTION("existing mode does not create") {
    auto db = Database::open((dir / "absent.db").string(), OpenMode::existing);
    REQUIRE_FALSE(db);
    CHECK(db.error().code == ErrorCode::not_found);
    CHECK_FALSE(std::filesystem::exists(dir / "absent.db"));
  }
}

TEST_CASE("migrate creates every table on a fresh database and records the version", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto before = store::migration_status(*db);
  REQUIRE(before);
  CHECK(before->current_version == 0);
  CHECK(before->latest_version >= 1);

  auto status = store::migrate(*db);
  REQUIRE(status);
  CHECK(status->current_version == status->latest_version);
  REQUIRE(status->applied_now.size() == store::schema_files().size());
  CHECK(status->applied_now.front() == "0001_init.sql");
  for (const char* table :
       {"templates", "template_versions", "batches", "messages", "events", "batch_counts", "event_counts_hourly",
        "suppressions", "api_keys", "api_key_audit", "idempotency_keys", "sns_messages"}) {
    INFO(table);
    CHECK(db->sql().tableExists(table));
  }
  SQLite::Statement row(db->sql(), "SELECT version, name, applied_at_ms FROM schema_migrations");
  REQUIRE(row.executeStep());
  CHECK(row.getColumn(0).getInt() == 1);
  CHECK(row.getColumn(1).getString() == "0001_init.sql");
  CHECK(row.getColumn(2).getInt64() > 0);
}

TEST_CASE("migrate is idempotent", "[store]") {
  mailer::test::TestDb t;
  auto again = store::migrate(t.db());
  REQUIRE(again);
  CHECK(again->applied_now.empty());
  CHECK(again->current_version == again->latest_version);
  CHECK(t.count_rows("schema_migrations") == static_cast<std::int64_t>(store::schema_files().size()));
}

TEST_CASE("migrate refuses a database newer than the binary", "[store]") {
  mailer::test::TestDb t;
  t.db().sql().exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)");
  auto status = store::migrate(t.db());
  REQUIRE_FALSE(status);
  CHECK(status.error().code == ErrorCode::conflict);
  CHECK_THAT(status.error().detail, Catch::Contains("database schema version 999 is newer"));
  CHECK_THAT(status.error().detail, Catch::Contains("upgrade mailerd"));
  auto read = store::migration_status(t.db());
  REQUIRE(read);
  CHECK(read->current_version == 999);
}

TEST_CASE("migrate rolls back a failing migration", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  // A table the first migration creates already exists: the file fails half way.
  db->sql().exec("CREATE TABLE api_keys (x INTEGER)");
  auto status = store::migrate(*db);
  REQUIRE_FALSE(status);
  CHECK(status.error().code == ErrorCode::internal);
  CHECK_THAT(status.error().detail, Catch::Contains("apply migration 0001_init.sql"));
  CHECK_FALSE(db->sql().tableExists("templates"));  // earlier statements rolled back
  auto read = store::migration_status(*db);
  REQUIRE(read);
  CHECK(read->current_version == 0);
}

TEST_CASE("migration 0004 keeps every event and accepts the new types", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  // A database as version 3 left it, with events written through its triggers.
  db->sql().exec(
      "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
      "applied_at_ms INTEGER NOT NULL)");
  for (const auto& file : store::schema_files()) {
    int version = store::schema_version_of(file.name);
    if (version > 3) continue;
    db->sql().exec(std::string(file.sql));
    db->sql().exec("INSERT INTO schema_migrations VALUES (" + std::to_string(version) + ", '" + std::string(file.name) +
                   "', 1)");
  }
  db->sql().exec(
      "INSERT INTO events(id, type, batch_id, message_id, email, detail_json, occurred_at_ms) VALUES "
      "(7, 'SENT', 'bat_1', 'msg_1', 'ana@example.com', '{}', 3600000), "
      "(9, 'BOUNCE', 'bat_1', 'msg_1', 'ana@example.com', '{\"bounce_type\":\"Permanent\"}', 3600001), "
      "(12, 'UNSUBSCRIBE', NULL, NULL, 'bo@example.com', '{}', 7200000)");
  auto dump = [&db](const std::string& sql) {
    std::vector<std::string> rows;
    SQLite::Statement q(db->sql(), sql);
    while (q.executeStep()) {
      std::string row;
      for (int i = 0; i < q.getColumnCount(); ++i) row += (i ? "|" : "") + q.getColumn(i).getString();
      rows.push_back(row);
    }
    return rows;
  };
  const auto events_before = dump("SELECT * FROM events ORDER BY id");
  const auto counts_before = dump("SELECT * FROM batch_counts ORDER BY key");
  REQUIRE(events_before.size() == 3);

  auto status = store::migrate(*db);
  REQUIRE(status);
  // Later migrations follow it; this test is about 0004 alone.
  REQUIRE_FALSE(status->applied_now.empty());
  CHECK(status->applied_now.front() == "0004_event_types.sql");
  CHECK(dump("SELECT * FROM events ORDER BY id") == events_before);
  CHECK(dump("SELECT * FROM batch_counts ORDER BY key") == counts_before);  // the copy counted nothing twice
  // Later migrations add triggers of their own (0005: engagement); these stay.
  auto objects = dump("SELECT name FROM sqlite_master WHERE tbl_name = 'events' AND type IN ('index', 'trigger')");
  for (const char* name : {"events_by_batch", "events_by_email", "events_by_message", "events_by_type",
                           "events_count_insert", "events_hourly_insert"}) {
    INFO(name);
    CHECK(std::count(objects.begin(), objects.end(), name) == 1);
  }
  // The new types are accepted, and the triggers count them as before.
  db->sql().exec(
      "INSERT INTO events(type, batch_id, email, occurred_at_ms) VALUES ('CLICK', 'bat_1', 'ana@example.com', "
      "3600002)");
  CHECK(dump("SELECT n FROM batch_counts WHERE key = 'event:CLICK'") == std::vector<std::string>{"1"});
  CHECK(dump("SELECT n FROM event_counts_hourly WHERE hour_ms = 3600000 AND type = 'CLICK'") ==
        std::vector<std::string>{"1"});
  CHECK(dump("SELECT max(id) FROM events") == std::vector<std::string>{"13"});
  CHECK_THROWS(db->sql().exec("INSERT INTO events(type, email, occurred_at_ms) VALUES ('NOPE', 'a@example.com', 1)"));
}

TEST_CASE("the engagement migration backfills unique opens, clicks, links and hard bounces", "[store]") {
  // The engagement file, whatever number it ends up with.
  auto found = std::find_if(store::schema_files().begin(), store::schema_files().end(),
                            [](const store::SchemaFile& f) { return f.name.ends_with("_engagement.sql"); });
  REQUIRE(found != store::schema_files().end());
  const int engagement_version = store::schema_version_of(found->name);

  // A database as the version before left it, events written through its triggers.
  auto build = [&](const std::filesystem::path& path, bool events_before_migration) {
    auto db = open_ok(path);
    db->sql().exec(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
        "applied_at_ms INTEGER NOT NULL)");
    auto events = [&db] {
      db->sql().exec(
          "INSERT INTO events(type, batch_id, message_id, email, detail_json, occurred_at_ms) VALUES "
          "('OPEN', 'bat_1', 'msg_1', 'a@example.com', '{}', 3600000), "
          "('OPEN', 'bat_1', 'msg_1', 'a@example.com', '{}', 7200000), "
          "('OPEN', 'bat_1', 'msg_2', 'b@example.com', '{}', 7200001), "
          "('OPEN', NULL, NULL, 'c@example.com', '{}', 7200002), "
          "('CLICK', 'bat_1', 'msg_1', 'a@example.com', '{\"link\":\"https://x.example/1\"}', 3600001), "
          "('CLICK', 'bat_1', 'msg_1', 'a@example.com', '{\"link\":\"https://x.example/1\"}', 3600002), "
          "('CLICK', 'bat_1', 'msg_2', 'b@example.com', '{\"link\":\"https://x.example/1\"}', 7200003), "
          "('CLICK', 'bat_1', 'msg_2', 'b@example.com', '{\"link\":\"https://x.example/2\"}', 7200004), "
          "('CLICK', 'bat_2', 'msg_3', 'c@example.com', '{\"link_tags\":{}}', 7200005), "
          "('BOUNCE', 'bat_1', 'msg_3', 'c@example.com', '{\"bounce_type\":\"Permanent\"}', 3600003), "
          "('BOUNCE', 'bat_1', 'msg_3', 'c@example.com', '{\"bounce_type\":\"Transient\"}', 3600004)");
    };
    for (const auto& file : store::schema_files()) {
      int version = store::schema_version_of(file.name);
      if (version >= engagement_version) break;
      db->sql().exec(std::string(file.sql));
      db->sql().exec("INSERT INTO schema_migrations VALUES (" + std::to_string(version) + ", '" +
                     std::string(file.name) + "', 1)");
    }
    if (events_before_migration) events();
    auto status = store::migrate(*db);
    REQUIRE(status);
    CHECK(status->applied_now.front() == found->name);
    if (!events_before_migration) events();
    return db;
  };
  mailer::test::TempDir dir;
  auto backfilled = build(dir / "old.db", true);
  auto live = build(dir / "new.db", false);  // the same events through the new triggers
  auto dump = [](Database& db, const std::string& sql) {
    std::vector<std::string> rows;
    SQLite::Statement q(db.sql(), sql);
    while (q.executeStep()) {
      std::string row;
      for (int i = 0; i < q.getColumnCount(); ++i) row += (i ? "|" : "") + q.getColumn(i).getString();
      rows.push_back(row);
    }
    return rows;
  };
  const std::string counts = "SELECT * FROM batch_counts WHERE key LIKE 'unique:%' ORDER BY batch_id, key";
  const std::string hourly =
      "SELECT * FROM event_counts_hourly WHERE type IN ('unique:OPEN', 'unique:CLICK', "
      "'feedback:bounce_permanent') ORDER BY hour_ms, type";
  const std::string links = "SELECT * FROM batch_links ORDER BY batch_id, link";
  CHECK(dump(*backfilled, counts) ==
        std::vector<std::string>{"bat_1|unique:CLICK|2", "bat_1|unique:OPEN|2", "bat_2|unique:CLICK|1"});
  CHECK(dump(*backfilled, hourly) == std::vector<std::string>{"3600000|feedback:bounce_permanent|1",
                                                              "3600000|unique:CLICK|1", "3600000|unique:OPEN|1",
                                                              "7200000|unique:CLICK|2", "7200000|unique:OPEN|1"});
  CHECK(dump(*backfilled, links) ==
        std::vector<std::string>{"bat_1|https://x.example/1|3|2", "bat_1|https://x.example/2|1|1"});
  // The backfill and the triggers agree.
  CHECK(dump(*live, counts) == dump(*backfilled, counts));
  CHECK(dump(*live, hourly) == dump(*backfilled, hourly));
  CHECK(dump(*live, links) == dump(*backfilled, links));
}

TEST_CASE("schema_version_of reads the leading number", "[store]") {
  CHECK(store::schema_version_of("0001_init.sql") == 1);
  CHECK(store::schema_version_of("0042_x.sql") == 42);
  CHECK(store::schema_version_of("init.sql") == 0);
}

TEST_CASE("DaemonLock allows one holder per database file", "[store]") {
  mailer::test::TempDir dir;
  std::string db_path = (dir / "a.db").string();
  auto first = DaemonLock::acquire(db_path);
  REQUIRE(first);

  SECTION("a second open file description in this process conflicts") {
    auto second = DaemonLock::acquire(db_path);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::conflict);
    CHECK(second.error().detail == "database " + db_path + " is in use by another mailerd");
  }
  SECTION("a symlink to the same file conflicts, naming the real file") {
    const auto link = (dir / "link.db").string();
    std::filesystem::create_symlink(db_path, link);
    auto second = DaemonLock::acquire(link);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::conflict);
    CHECK_THAT(second.error().detail,
               Catch::Contains(link + " (the file " + std::filesystem::canonical(db_path).string() + ")"));
  }
  SECTION("a hard link to the same file conflicts") {
    const auto link = (dir / "hard.db").string();
    std::filesystem::create_hard_link(db_path, link);
    auto second = DaemonLock::acquire(link);
    REQUIRE_FALSE(second);
    CHECK(second.error().code == ErrorCode::conflict);
  }
  SECTION("another database file in the same directory does not conflict") {
    CHECK(DaemonLock::acquire((dir / "b.db").string()));
  }
  SECTION("another process conflicts") {
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      auto second = DaemonLock::acquire(db_path);
      _exit(!second && second.error().code == ErrorCode::conflict ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
  }
  SECTION("released when the holder goes") {
    first->reset();
    auto again = DaemonLock::acquire(db_path);
    CHECK(again);
  }
}

TEST_CASE("DaemonLock reports a database file it cannot create", "[store]") {
  auto lock = DaemonLock::acquire("/nonexistent-dir/a.db");
  REQUIRE_FALSE(lock);
  CHECK(lock.error().code == ErrorCode::storage_unavailable);
  CHECK(lock.error().detail == "cannot open database file /nonexistent-dir/a.db: No such file or directory");
}

TEST_CASE("DaemonLock creates a missing database file SQLite can open", "[store]") {
  mailer::test::TempDir dir;
  const auto db_path = (dir / "new.db").string();
  auto lock = DaemonLock::acquire(db_path);
  REQUIRE(lock);
  CHECK(std::filesystem::file_size(db_path) == 0);
  auto db = mailer::store::Database::open(db_path);
  REQUIRE(db);
  CHECK(mailer::store::migrate(**db));
}

TEST_CASE("Database::open with Sync::deferred leaves syncing to checkpoints", "[store]") {
  mailer::test::TempDir dir;
  auto opened = Database::open((dir / "a.db").string(), OpenMode::create, store::Sync::deferred);
  REQUIRE(opened);
  auto& db = **opened;
  CHECK(pragma(db, "synchronous") == "1");  // NORMAL
  CHECK(pragma(db, "wal_autocheckpoint") == "0");
  CHECK(pragma(db, "journal_mode") == "wal");
  CHECK(pragma(db, "journal_size_limit") == "67108864");
  db.sql().exec("CREATE TABLE t(x)");
  for (int i = 0; i < 50; ++i) db.sql().exec("INSERT INTO t VALUES (randomblob(8000))");
  auto wal_frames = [&] {
    SQLite::Statement check(db.sql(), "PRAGMA wal_checkpoint(PASSIVE)");
    REQUIRE(check.executeStep());
    CHECK(check.getColumn(0).getInt() == 0);
    // Everything in the WAL is in the database file: log == checkpointed.
    CHECK(check.getColumn(1).getInt() == check.getColumn(2).getInt());
    return check.getColumn(1).getInt();
  };
  REQUIRE(db.checkpoint());
  CHECK(wal_frames() >= 100);
  // The next write starts the WAL over instead of appending to it.
  db.sql().exec("INSERT INTO t VALUES (1)");
  CHECK(wal_frames() <= 2);
}

TEST_CASE("Database::checkpoint fails inside an open transaction", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  db->sql().exec("CREATE TABLE t(x)");
  // SQLite refuses to checkpoint from a connection mid-write (SQLITE_LOCKED).
  db->sql().exec("BEGIN IMMEDIATE; INSERT INTO t VALUES (1)");
  auto synced = db->checkpoint();
  db->sql().exec("ROLLBACK");
  REQUIRE_FALSE(synced);
  CHECK(synced.error().code == ErrorCode::storage_unavailable);
  CHECK_THAT(synced.error().detail, Catch::StartsWith("checkpoint: "));
  CHECK(db->checkpoint());
}

TEST_CASE("Database::checkpoint truncate leaves an empty WAL file", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  db->sql().exec("CREATE TABLE t(x); INSERT INTO t VALUES (randomblob(8000))");
  const auto wal = dir / "a.db-wal";
  REQUIRE(std::filesystem::file_size(wal) > 0);
  REQUIRE(db->checkpoint(Database::CheckpointMode::truncate));
  CHECK(std::filesystem::file_size(wal) == 0);
  CHECK(db->sql().execAndGet("SELECT count(*) FROM t").getInt() == 1);
}

TEST_CASE("Database::checkpoint restart does not wait out a long reader", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  db->sql().exec("CREATE TABLE t(x); INSERT INTO t VALUES (1)");
  auto reader = open_ok(dir / "a.db");
  reader->sql().exec("BEGIN");
  CHECK(reader->sql().execAndGet("SELECT count(*) FROM t").getInt() == 1);  // holds a snapshot
  db->sql().exec("INSERT INTO t VALUES (2)");
  const auto started = std::chrono::steady_clock::now();
  CHECK(db->checkpoint());
  // Far below the 5 s busy timeout a full wait for the reader would take.
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
  CHECK(pragma(*db, "busy_timeout") == "5000");  // restored for everything else
  reader->sql().exec("COMMIT");
}

TEST_CASE("require_current_schema refuses an older or newer schema and changes nothing", "[store]") {
  mailer::test::TestDb t;
  CHECK(store::require_current_schema(t.db(), "mailerctl", "run it"));
  const int latest = store::migration_status(t.db())->latest_version;

  t.db().sql().exec("DELETE FROM schema_migrations WHERE version > 1");
  auto older = store::require_current_schema(t.db(), "mailerctl", "run it");
  REQUIRE_FALSE(older);
  CHECK(older.error().code == ErrorCode::conflict);
  CHECK(older.error().detail ==
        "database schema is at version 1, this mailerctl needs " + std::to_string(latest) + "; run it");
  CHECK(store::migration_status(t.db())->current_version == 1);

  t.db().sql().exec("INSERT INTO schema_migrations VALUES (999, '0999_future.sql', 0)");
  auto newer = store::require_current_schema(t.db(), "mailerctl", "run it");
  REQUIRE_FALSE(newer);
  CHECK_THAT(newer.error().detail, Catch::Contains("version 999 is newer than this mailerctl") &&
                                       Catch::Contains("written by a newer mailerd"));
}

TEST_CASE("check_writable fails while another connection holds the write lock", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "a.db");
  auto other = open_ok(dir / "a.db");
  REQUIRE(store::check_writable(*db));
  db->sql().exec("PRAGMA busy_timeout = 0");  // fail at once instead of after 5 s
  other->sql().exec("BEGIN IMMEDIATE");
  auto locked = store::check_writable(*db);
  REQUIRE_FALSE(locked);
  CHECK(locked.error().code == ErrorCode::storage_unavailable);
  CHECK_THAT(locked.error().detail, Catch::StartsWith("database not writable: ") && Catch::Contains("locked"));
  other->sql().exec("ROLLBACK");
  CHECK(store::check_writable(*db));
  db->sql().exec("BEGIN IMMEDIATE");  // the probe left no transaction open
  db->sql().exec("COMMIT");
}

TEST_CASE("the delivery-ids migration keeps every delivery and attempt and their links", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "old.db");
  apply_schema_before(*db, version_of("_webhook_delivery_ids.sql"));
  db->sql().exec(
      "INSERT INTO webhook_endpoints(id, url, secret, last_event_id, created_at_ms, updated_at_ms) "
      "VALUES ('whk_1', 'https://x.example/', 'whsec_A', 0, 1, 1)");
  for (int id : {1, 2, 5})
    db->sql().exec(fmt::format(
        "INSERT INTO webhook_deliveries(id, endpoint_id, kind, event_count, body, status, next_attempt_at_ms, "
        "retry_until_ms, created_at_ms, updated_at_ms) VALUES ({}, 'whk_1', 'test', 0, 'body{}', 'pending', 1, 2, 1, "
        "1)",
        id, id));
  db->sql().exec(
      "INSERT INTO webhook_attempts(delivery_id, attempted_at_ms, latency_ms) VALUES (1, 1, 3), (5, 1, 4), (5, 2, 5)");

  auto status = store::migrate(*db);
  REQUIRE(status);
  auto rows = [&](const std::string& sql) { return db->sql().execAndGet(sql).getString(); };
  CHECK(rows("SELECT group_concat(id || ':' || body, ',') FROM webhook_deliveries") == "1:body1,2:body2,5:body5");
  CHECK(rows("SELECT group_concat(delivery_id || ':' || latency_ms, ',') FROM webhook_attempts") == "1:3,5:4,5:5");
  CHECK(rows("SELECT count(*) FROM pragma_foreign_key_check") == "0");
  // Attempts still follow their delivery, and the newest id is not given again.
  db->sql().exec("DELETE FROM webhook_deliveries WHERE id = 5");
  CHECK(rows("SELECT count(*) FROM webhook_attempts") == "1");
  db->sql().exec(
      "INSERT INTO webhook_deliveries(endpoint_id, kind, event_count, body, status, next_attempt_at_ms, "
      "retry_until_ms, created_at_ms, updated_at_ms) VALUES ('whk_1', 'test', 0, '{}', 'pending', 1, 2, 1, 1)");
  CHECK(rows("SELECT max(id) FROM webhook_deliveries") == "6");
}

TEST_CASE("the event-scale migration starts each type's total from the hourly aggregates", "[store]") {
  mailer::test::TempDir dir;
  auto db = open_ok(dir / "old.db");
  apply_schema_before(*db, version_of("_event_scale.sql"));
  // Two hours of events as the version before counted them, one of them
  // pruned since (event_counts_hourly keeps counting it).
  db->sql().exec(
      "INSERT INTO events(type, message_id, email, detail_json, occurred_at_ms) VALUES "
      "('SENT', 'msg_1', 'a@example.com', '{}', 3600000), ('SENT', 'msg_2', 'b@example.com', '{}', 7200000), "
      "('OPEN', 'msg_1', 'a@example.com', '{}', 7200001), "
      "('BOUNCE', 'msg_2', 'b@example.com', '{\"bounce_type\":\"Permanent\"}', 7200002)");
  db->sql().exec("DELETE FROM events WHERE id = 1");
  REQUIRE(store::migrate(*db));
  auto rows = [&](const std::string& sql) { return db->sql().execAndGet(sql).getString(); };
  // Event types only: no unique:OPEN or feedback:bounce_permanent.
  CHECK(rows("SELECT group_concat(type || '=' || n, ',') FROM event_counts_total") == "BOUNCE=1,OPEN=1,SENT=2");
  db->sql().exec("INSERT INTO events(type, email, occurred_at_ms) VALUES ('SENT', 'c@example.com', 9000000)");
  db->sql().exec("INSERT INTO events(type, email, occurred_at_ms) VALUES ('CLICK', 'c@example.com', 9000001)");
  CHECK(rows("SELECT group_concat(type || '=' || n, ',') FROM event_counts_total") == "BOUNCE=1,CLICK=1,OPEN=1,SENT=3");
}
