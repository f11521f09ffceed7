#include "mailer/store/retention.hpp"

#include <catch2/catch.hpp>

#include <optional>
#include <utility>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using mailer::store::PruneCursor;
using mailer::store::PruneKind;
using mailer::store::PruneMode;
using mailer::store::RetentionRepo;
using mailer::test::TestDb;

namespace {

constexpr std::int64_t k_old_ms = 1'000'000;  // long before every cutoff below
constexpr std::int64_t k_cutoff_ms = 2'000'000;
constexpr std::int64_t k_new_ms = 3'000'000;

// Runs `kind` to its end in chunks of `limit`; the rows removed (or counted).
std::int64_t prune_all(TestDb& t, PruneKind kind, PruneMode mode = PruneMode::remove, int limit = 2) {
  RetentionRepo repo(t.db());
  PruneCursor cursor;
  std::int64_t total = 0;
  while (!cursor.done) {
    auto n = repo.prune_chunk(kind, k_cutoff_ms, mode, limit, cursor);
    REQUIRE(n);
    total += *n;
  }
  return total;
}

std::string message(TestDb& t, const std::string& state, std::int64_t updated_at_ms,
                    std::optional<std::string> batch_id = std::nullopt) {
  mailer::test::MessageRow row;
  row.state = state;
  row.batch_id = std::move(batch_id);
  row.variables_json = R"({"name":"Ana"})";
  auto id = mailer::test::insert_message(t.db(), row, updated_at_ms);
  if (state == "failed")
    t.db().sql().exec(fmt::format("UPDATE messages SET failed_at_ms = {} WHERE id = '{}'", updated_at_ms, id));
  return id;
}

void event(TestDb& t, std::int64_t occurred_at_ms, const std::string& batch_id = "bat_1") {
  t.db().sql().exec(fmt::format(
      "INSERT INTO events(type, batch_id, message_id, email, occurred_at_ms) VALUES ('SENT', '{}', 'msg_x', "
      "'a@example.com', {})",
      batch_id, occurred_at_ms));
}

}  // namespace

TEST_CASE("RetentionRepo::prune_chunk deletes finished messages only", "[store][retention]") {
  TestDb t;
  message(t, "sent", k_old_ms);
  message(t, "suppressed", k_old_ms);
  message(t, "cancelled", k_old_ms);
  const auto queued = message(t, "queued", k_old_ms);
  const auto sending = message(t, "sending", k_old_ms);
  const auto failed = message(t, "failed", k_old_ms);
  const auto recent = message(t, "sent", k_new_ms);

  CHECK(prune_all(t, PruneKind::messages, PruneMode::count) == 3);
  CHECK(prune_all(t, PruneKind::messages) == 3);
  CHECK(t.count_rows("messages") == 4);
  CHECK(t.query_int("SELECT count(*) FROM messages WHERE id IN ('" + queued + "', '" + sending + "', '" + failed +
                    "', '" + recent + "')") == 4);

  SECTION("failed messages follow the DLQ's own cutoff") {
    CHECK(prune_all(t, PruneKind::dlq) == 1);
    CHECK(t.count_rows("messages") == 3);
  }
}

TEST_CASE("RetentionRepo::prune_chunk clears the content of finished messages", "[store][retention]") {
  TestDb t;
  const auto sent = message(t, "sent", k_old_ms);
  const auto queued = message(t, "queued", k_old_ms);
  const auto failed = message(t, "failed", k_old_ms);
  const auto recent = message(t, "sent", k_new_ms);
  for (int i = 0; i < 4; ++i) message(t, "cancelled", k_old_ms);  // more than a chunk at one time

  CHECK(prune_all(t, PruneKind::message_content, PruneMode::count) == 5);
  CHECK(prune_all(t, PruneKind::message_content) == 5);
  CHECK(prune_all(t, PruneKind::message_content) == 0);
  auto content = [&](const std::string& id) {
    return t.query_text("SELECT variables_json || coalesce(subject, '-') FROM messages WHERE id = '" + id + "'");
  };
  CHECK(content(sent) == "{}-");
  // A failed message keeps its content: a DLQ retry sends it again.
  CHECK(content(failed) != "{}-");
  CHECK(content(queued) != "{}-");
  CHECK(content(recent) != "{}-");
  CHECK(t.count_rows("messages") == 8);

  SECTION("a message's own attachments are content too; a batch's stay with the batch") {
    const auto with_file = message(t, "sent", k_old_ms);
    const auto batch = mailer::test::insert_batch(t.db(), {}, k_old_ms);
    t.db().sql().exec(fmt::format("UPDATE messages SET variables_json = '{{}}', subject = NULL, text = NULL"
                                  " WHERE id = '{}'",
                                  with_file));
    const std::vector<std::pair<std::string, std::string>> owners{
        {"message_id", with_file}, {"message_id", recent}, {"batch_id", batch}};
    for (const auto& [column, owner] : owners) {
      t.db().sql().exec(fmt::format("INSERT INTO attachments({}, position, filename, content_type, disposition,"
                                    " content) VALUES ('{}', 0, 'a.pdf', 'application/pdf', 'attachment', x'00')",
                                    column, owner));
    }
    CHECK(prune_all(t, PruneKind::message_content, PruneMode::count) == 1);
    CHECK(prune_all(t, PruneKind::message_content) == 1);
    CHECK(t.query_int("SELECT count(*) FROM attachments WHERE message_id = '" + with_file + "'") == 0);
    CHECK(t.query_int("SELECT count(*) FROM attachments WHERE message_id = '" + recent + "'") == 1);
    CHECK(t.query_int("SELECT count(*) FROM attachments WHERE batch_id = '" + batch + "'") == 1);
  }
  SECTION("pruning messages deletes their attachments") {
    t.db().sql().exec(fmt::format("INSERT INTO attachments(message_id, position, filename, content_type, disposition,"
                                  " content) VALUES ('{}', 0, 'a.pdf', 'application/pdf', 'attachment', x'00')",
                                  sent));
    CHECK(prune_all(t, PruneKind::messages) == 5);
    CHECK(t.count_rows("attachments") == 0);
  }
  SECTION("custom headers are content too") {
    const auto with_headers = message(t, "sent", k_old_ms);
    t.db().sql().exec(fmt::format(
        "UPDATE messages SET variables_json = '{{}}', headers_json = '{{\"X-Ref\":\"ana\"}}' WHERE id = '{}'",
        with_headers));
    CHECK(prune_all(t, PruneKind::message_content) == 1);
    CHECK(t.query_int("SELECT count(*) FROM messages WHERE headers_json IS NOT NULL") == 0);
  }
}

TEST_CASE("RetentionRepo::prune_chunk keeps the aggregates", "[store][retention]") {
  TestDb t;
  const auto batch = mailer::test::insert_batch(t.db(), {}, k_old_ms);
  for (int i = 0; i < 3; ++i) message(t, "sent", k_old_ms, batch);
  for (int i = 0; i < 3; ++i) event(t, k_old_ms, batch);
  event(t, k_new_ms, batch);
  const auto counts = "SELECT group_concat(key || '=' || n) FROM (SELECT key, n FROM batch_counts ORDER BY key)";
  const auto hourly = "SELECT group_concat(hour_ms || type || n) FROM event_counts_hourly";
  const auto counts_before = t.query_text(counts);
  const auto hourly_before = t.query_text(hourly);

  CHECK(prune_all(t, PruneKind::messages) == 3);
  CHECK(prune_all(t, PruneKind::events) == 3);
  CHECK(t.query_text(counts) == counts_before);
  CHECK(t.query_text(hourly) == hourly_before);
}

TEST_CASE("RetentionRepo::prune_chunk never deletes the newest event", "[store][retention]") {
  TestDb t;
  for (int i = 0; i < 5; ++i) event(t, k_old_ms);
  const auto newest = t.query_int("SELECT max(id) FROM events");
  CHECK(prune_all(t, PruneKind::events) == 4);
  CHECK(t.query_int("SELECT id FROM events") == newest);
  // SQLite gives the next event a higher id than any an endpoint saw.
  event(t, k_new_ms);
  CHECK(t.query_int("SELECT max(id) FROM events") == newest + 1);
}

TEST_CASE("RetentionRepo::prune_chunk keeps events webhook endpoints still need", "[store][retention]") {
  TestDb t;
  for (int i = 0; i < 10; ++i) event(t, k_old_ms);
  auto endpoint = [&](const std::string& id, int enabled, std::int64_t cursor) {
    t.db().sql().exec(fmt::format(
        "INSERT INTO webhook_endpoints(id, url, secret, enabled, last_event_id, created_at_ms, updated_at_ms)"
        " VALUES ('{}', 'https://example.com/h', 'whsec_x', {}, {}, 0, 0)",
        id, enabled, cursor));
  };
  SECTION("after an enabled endpoint's cursor") {
    endpoint("whk_a", 1, 3);
    CHECK(prune_all(t, PruneKind::events) == 3);
    CHECK(t.query_int("SELECT min(id) FROM events") == 4);
  }
  SECTION("in a pending delivery of an enabled endpoint") {
    endpoint("whk_a", 1, 8);
    t.db().sql().exec(
        "INSERT INTO webhook_deliveries(endpoint_id, kind, first_event_id, last_event_id, event_count, body, status,"
        " next_attempt_at_ms, retry_until_ms, created_at_ms, updated_at_ms)"
        " VALUES ('whk_a', 'events', 6, 8, 3, '[]', 'pending', 0, 0, 0, 0)");
    CHECK(prune_all(t, PruneKind::events) == 5);
    CHECK(t.query_int("SELECT min(id) FROM events") == 6);
  }
  SECTION("not for a disabled endpoint: retention wins") {
    endpoint("whk_off", 0, 0);
    CHECK(prune_all(t, PruneKind::events) == 9);
  }
}

TEST_CASE("RetentionRepo::prune_chunk prunes the small tables", "[store][retention]") {
  TestDb t;
  auto& db = t.db().sql();
  db.exec(fmt::format("INSERT INTO sns_messages VALUES ('old', 'arn', 'Notification', {})", k_old_ms));
  db.exec(fmt::format("INSERT INTO sns_messages VALUES ('new', 'arn', 'Notification', {})", k_new_ms));
  db.exec(fmt::format("INSERT INTO idempotency_keys VALUES ('key_1', 'k', 'h', 202, '{{}}', {})", k_old_ms));
  for (const char* action : {"created", "used", "used", "revoked"})
    db.exec(fmt::format("INSERT INTO api_key_audit(key_id, action, actor, at_ms) VALUES ('key_1', '{}', 'x', {})",
                        action, k_old_ms));
  CHECK(prune_all(t, PruneKind::sns_messages) == 1);
  CHECK(prune_all(t, PruneKind::idempotency_keys) == 1);
  CHECK(prune_all(t, PruneKind::api_key_audit) == 2);
  CHECK(t.query_text("SELECT group_concat(action) FROM api_key_audit") == "created,revoked");
  CHECK(t.query_text("SELECT message_id FROM sns_messages") == "new");
}

TEST_CASE("RetentionRepo::prune_chunk reports a busy database and keeps its place", "[store][retention]") {
  TestDb t;
  for (int i = 0; i < 5; ++i) event(t, k_old_ms);
  RetentionRepo repo(t.db());
  PruneCursor cursor;
  {
    auto other = t.open_connection();
    SQLite::Transaction holding(other->sql(), SQLite::TransactionBehavior::IMMEDIATE);
    t.db().sql().setBusyTimeout(0);
    auto n = repo.prune_chunk(PruneKind::events, k_cutoff_ms, PruneMode::remove, 2, cursor);
    REQUIRE(!n);
    CHECK(n.error().code == mailer::ErrorCode::storage_unavailable);
    CHECK(n.error().detail == "prune events: database is locked");
    CHECK(cursor.after_id == PruneCursor{}.after_id);
  }  // the other connection rolls back and closes
  CHECK(prune_all(t, PruneKind::events) == 4);

  SECTION("a limit out of range is refused") {
    auto bad = repo.prune_chunk(PruneKind::events, k_cutoff_ms, PruneMode::remove, 0, cursor);
    REQUIRE(!bad);
    CHECK(bad.error().code == mailer::ErrorCode::invalid_input);
  }
}
