#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/messages.hpp"
#include "mailer/store/suppressions.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::store::BatchStatus;
using mailer::store::ClaimScope;
using mailer::store::MessageKind;
using mailer::store::MessageRepo;
using mailer::store::Outcome;
using mailer::store::Recorded;
using mailer::test::BatchRow;
using mailer::test::MessageRow;
namespace test = mailer::test;

namespace {

constexpr std::int64_t k_lease_ms = 60000;

// The test database plus a repo and shorthands; checks the batch_counts
// invariant on destruction, so every test proves it for its operations.
struct Fixture {
  test::TestDb t;
  MessageRepo repo{t.db(), t.clock()};
  std::int64_t now() { return t.clock().now_ms(); }

  std::string batch(BatchRow row = {}) { return test::insert_batch(t.db(), std::move(row), now()); }
  std::string message(MessageRow row) {
    if (row.run_at_ms == 0) row.run_at_ms = now();
    return test::insert_message(t.db(), std::move(row), now());
  }
  std::string state(const std::string& id) { return test::message_state(t.db(), id); }
  std::int64_t column(const std::string& id, const char* name) { return test::message_int(t.db(), id, name); }
  std::string batch_status(const std::string& id) {
    SQLite::Statement q(t.db().sql(), "SELECT status FROM batches WHERE id = ?");
    q.bind(1, id);
    return q.executeStep() ? q.getColumn(0).getString() : "(missing)";
  }
  std::vector<mailer::store::ClaimedMessage> claim(int max) {
    auto claimed = repo.claim(max, now(), k_lease_ms);
    REQUIRE(claimed);
    return *claimed;
  }
  std::int64_t events(const char* type) {
    SQLite::Statement q(t.db().sql(), "SELECT count(*) FROM events WHERE type = ?");
    q.bind(1, type);
    q.executeStep();
    return q.getColumn(0).getInt64();
  }
  void check_counts() { CHECK(test::batch_counts_table(t.db()) == test::batch_counts_actual(t.db())); }
  ~Fixture() { check_counts(); }
};

Outcome outcome(Outcome::Kind kind, const mailer::store::ClaimedMessage& m) {
  Outcome o;
  o.kind = kind;
  o.message_id = m.id;
  o.lease_token = m.lease_token;
  return o;
}

}  // namespace

TEST_CASE("MessageRepo::claim takes transactional first, then oldest run_at", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  auto bulk_old = f.message({.batch_id = b, .run_at_ms = f.now() - 5000});
  auto bulk_new = f.message({.batch_id = b, .run_at_ms = f.now() - 1000});
  auto tx = f.message({.run_at_ms = f.now()});
  f.message({.batch_id = b, .run_at_ms = f.now() + 1000});  // not due
  f.message({.batch_id = b, .paused = 1});                  // paused
  f.message({.batch_id = b, .state = "scheduled"});         // not queued

  auto claimed = f.claim(10);
  REQUIRE(claimed.size() == 3);
  CHECK(claimed[0].id == tx);
  CHECK(claimed[0].kind == MessageKind::transactional);
  CHECK(claimed[0].subject == "Reset for {{email}}");
  CHECK(claimed[1].id == bulk_old);
  CHECK(claimed[1].batch_id == b);
  CHECK(claimed[2].id == bulk_new);
  for (const auto& m : claimed) {
    CHECK(f.state(m.id) == "sending");
    CHECK(m.attempts == 1);
    CHECK(f.column(m.id, "attempts") == 1);
    CHECK(m.lease_token > 0);
    CHECK(f.column(m.id, "lease_token") == m.lease_token);
    CHECK(f.column(m.id, "lease_expires_ms") == f.now() + k_lease_ms);
  }
  CHECK(claimed[0].lease_token != claimed[1].lease_token);
  CHECK(f.claim(10).empty());
}

TEST_CASE("MessageRepo::claim honours max and scope", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  for (int i = 0; i < 3; ++i) f.message({.batch_id = b});
  auto tx = f.message({});
  SECTION("max") {
    CHECK(f.claim(2).size() == 2);
    CHECK(f.claim(0).empty());
    CHECK(f.claim(5).size() == 2);
  }
  SECTION("transactional only") {
    auto claimed = f.repo.claim(10, f.now(), k_lease_ms, ClaimScope::transactional_only);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 1);
    CHECK((*claimed)[0].id == tx);
  }
}

TEST_CASE("MessageRepo::claim reports suppression by scope rules", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  mailer::test::insert_suppression(f.t.db(), "unsub@example.com", "unsubscribe", "bulk", f.now());
  mailer::test::insert_suppression(f.t.db(), "bounced@example.com", "bounce", "all", f.now());
  auto bulk_unsub = f.message({.batch_id = b, .email = "Unsub@example.com"});
  auto bulk_bounced = f.message({.batch_id = b, .email = "bounced@example.com"});
  auto tx_unsub = f.message({.email = "unsub@example.com"});
  auto tx_bounced = f.message({.email = "BOUNCED@example.com"});
  auto clean = f.message({.batch_id = b, .email = "ok@example.com"});
  std::map<std::string, std::optional<std::string>> reason;
  for (const auto& m : f.claim(10))
    reason[m.id] = m.suppression_reason ? std::optional<std::string>(to_string(*m.suppression_reason)) : std::nullopt;
  CHECK(reason.at(bulk_unsub) == "unsubscribe");
  CHECK(reason.at(bulk_bounced) == "bounce");
  CHECK_FALSE(reason.at(tx_unsub).has_value());
  CHECK(reason.at(tx_bounced) == "bounce");
  CHECK_FALSE(reason.at(clean).has_value());
}

TEST_CASE("MessageRepo::record applies each outcome kind with its event", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  auto id = f.message({.batch_id = b});
  auto m = f.claim(1).at(0);

  SECTION("sent") {
    auto o = outcome(Outcome::Kind::sent, m);
    o.ses_message_id = "ses-1";
    auto r = f.repo.record({o});
    REQUIRE(r);
    CHECK(r->at(0) == Recorded::applied);
    CHECK(f.state(id) == "sent");
    CHECK(f.column(id, "sent_at_ms") == f.now());
    CHECK(f.column(id, "lease_token") == -1);
    SQLite::Statement q(f.t.db().sql(),
                        "SELECT ses_message_id, (SELECT detail_json FROM events WHERE type = 'SENT'"
                        " AND message_id = m.id AND batch_id = m.batch_id AND email = m.email)"
                        " FROM messages m WHERE id = ?");
    q.bind(1, id);
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getString() == "ses-1");
    CHECK(q.getColumn(1).getString() == R"({"ses_message_id":"ses-1"})");
  }
  SECTION("retry consuming the attempt") {
    auto o = outcome(Outcome::Kind::retry, m);
    o.run_at_ms = f.now() + 4000;
    o.error_code = "upstream_transient";
    o.error = "timeout";
    REQUIRE(f.repo.record({o}));
    CHECK(f.state(id) == "queued");
    CHECK(f.column(id, "run_at_ms") == f.now() + 4000);
    CHECK(f.column(id, "attempts") == 1);
    CHECK(f.events("DEFERRED") == 1);
    CHECK(f.claim(1).empty());  // not due yet
    f.t.clock().advance(std::chrono::milliseconds(4000));
    CHECK(f.claim(1).at(0).attempts == 2);
  }
  SECTION("retry without consuming the attempt (throttled)") {
    auto o = outcome(Outcome::Kind::retry, m);
    o.run_at_ms = f.now();
    o.attempt_consumed = false;
    o.error_code = "upstream_throttled";
    REQUIRE(f.repo.record({o}));
    CHECK(f.column(id, "attempts") == 0);
    CHECK(f.claim(1).at(0).attempts == 1);
  }
  SECTION("dead letter") {
    auto o = outcome(Outcome::Kind::dead_letter, m);
    o.error_code = "MessageRejected";
    o.error = "Email address is not verified.";
    REQUIRE(f.repo.record({o}));
    CHECK(f.state(id) == "failed");
    CHECK(f.column(id, "failed_at_ms") == f.now());
    CHECK(f.events("FAILED") == 1);
    auto dlq = f.repo.list_dlq(10);
    REQUIRE(dlq);
    REQUIRE(dlq->entries.size() == 1);
    CHECK(dlq->entries[0].last_error_code == "MessageRejected");
    CHECK(dlq->entries[0].last_error == "Email address is not verified.");
    CHECK(dlq->entries[0].attempts == 1);
  }
  SECTION("suppressed") {
    auto o = outcome(Outcome::Kind::suppressed, m);
    o.error = "bounce";
    REQUIRE(f.repo.record({o}));
    CHECK(f.state(id) == "suppressed");
    CHECK(f.events("SUPPRESSED") == 1);
  }
  SECTION("cancelled") {
    REQUIRE(f.repo.record({outcome(Outcome::Kind::cancelled, m)}));
    CHECK(f.state(id) == "cancelled");
  }
}

TEST_CASE("MessageRepo::record ignores an outcome with a stale lease token", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  auto id = f.message({.batch_id = b});
  auto first = f.claim(1).at(0);
  f.t.clock().advance(std::chrono::milliseconds(k_lease_ms + 1));
  REQUIRE(*f.repo.requeue_expired(f.now()) == 1);
  auto second = f.claim(1).at(0);
  REQUIRE(second.id == id);
  REQUIRE(second.lease_token != first.lease_token);

  auto late = outcome(Outcome::Kind::dead_letter, first);
  late.error_code = "upstream_permanent";
  auto fresh = outcome(Outcome::Kind::sent, second);
  fresh.ses_message_id = "ses-2";
  auto r = f.repo.record({late, fresh});
  REQUIRE(r);
  CHECK(r->at(0) == Recorded::stale);
  CHECK(r->at(1) == Recorded::applied);
  CHECK(f.state(id) == "sent");
  CHECK(f.events("FAILED") == 0);
  CHECK(f.events("SENT") == 1);
  // A repeated outcome for the same claim is stale too: the lease is gone.
  CHECK(f.repo.record({fresh})->at(0) == Recorded::stale);
  CHECK(f.events("SENT") == 1);
}

TEST_CASE("MessageRepo::requeue_expired returns only expired leases", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  auto early = f.message({.batch_id = b});
  auto a = f.claim(1).at(0);
  REQUIRE(a.id == early);
  f.t.clock().advance(std::chrono::milliseconds(1000));
  auto late = f.message({.batch_id = b});
  f.claim(1);
  f.t.clock().advance(std::chrono::milliseconds(k_lease_ms));  // only the first is past
  CHECK(*f.repo.requeue_expired(f.now()) == 1);
  CHECK(f.state(early) == "queued");
  CHECK(f.column(early, "lease_token") == -1);
  CHECK(f.state(late) == "sending");
}

TEST_CASE("MessageRepo::release gives claims back uncounted", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  f.message({.batch_id = b});
  f.message({.batch_id = b});
  auto claimed = f.claim(2);
  auto released =
      f.repo.release({{claimed[0].id, claimed[0].lease_token}, {claimed[1].id, claimed[1].lease_token + 1}});
  REQUIRE(released);
  CHECK(*released == 1);
  CHECK(f.state(claimed[0].id) == "queued");
  CHECK(f.column(claimed[0].id, "attempts") == 0);
  CHECK(f.state(claimed[1].id) == "sending");
}

TEST_CASE("MessageRepo::promote_scheduled queues what is due", "[store][jobs]") {
  Fixture f;
  auto b = f.batch({.status = "scheduled"});
  auto due = f.message({.batch_id = b, .state = "scheduled", .run_at_ms = f.now()});
  auto later = f.message({.batch_id = b, .state = "scheduled", .run_at_ms = f.now() + 1});
  CHECK(*f.repo.promote_scheduled(f.now()) == 1);
  CHECK(f.state(due) == "queued");
  CHECK(f.state(later) == "scheduled");
  CHECK(f.repo.update_batch_statuses()->empty());  // one still scheduled
  f.t.clock().advance(std::chrono::milliseconds(1));
  CHECK(*f.repo.promote_scheduled(f.now()) == 1);
  auto changes = f.repo.update_batch_statuses();
  REQUIRE(changes);
  REQUIRE(changes->size() == 1);
  CHECK(changes->at(0).from == BatchStatus::scheduled);
  CHECK(changes->at(0).to == BatchStatus::queued);
}

TEST_CASE("MessageRepo::expire_send_before cancels what is late", "[store][jobs]") {
  Fixture f;
  auto late_batch = f.batch({.send_before_ms = f.now() - 1});
  auto open_batch = f.batch({.send_before_ms = f.now() + 60000});
  auto queued = f.message({.batch_id = late_batch});
  auto scheduled = f.message({.batch_id = late_batch, .state = "scheduled"});
  auto sent = f.message({.batch_id = late_batch, .state = "sent"});
  auto other = f.message({.batch_id = open_batch});
  CHECK(*f.repo.expire_send_before(f.now()) == 2);
  CHECK(f.state(queued) == "cancelled");
  CHECK(f.state(scheduled) == "cancelled");
  CHECK(f.state(sent) == "sent");
  CHECK(f.state(other) == "queued");
}

TEST_CASE("MessageRepo::update_batch_statuses moves batches along once", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  f.message({.batch_id = b});
  f.message({.batch_id = b});
  CHECK(f.repo.update_batch_statuses()->empty());
  auto claimed = f.claim(1);
  auto changes = f.repo.update_batch_statuses();
  REQUIRE(changes->size() == 1);
  CHECK(changes->at(0).to == BatchStatus::sending);
  CHECK(f.repo.update_batch_statuses()->empty());
  auto sent = outcome(Outcome::Kind::sent, claimed[0]);
  REQUIRE(f.repo.record({sent}));
  CHECK(f.repo.update_batch_statuses()->empty());  // one still queued
  auto rest = f.claim(1);
  auto failed = outcome(Outcome::Kind::dead_letter, rest[0]);
  REQUIRE(f.repo.record({failed}));
  changes = f.repo.update_batch_statuses();
  REQUIRE(changes->size() == 1);
  CHECK(changes->at(0).from == BatchStatus::sending);
  CHECK(changes->at(0).to == BatchStatus::completed);
  CHECK(f.batch_status(b) == "completed");
  CHECK(f.repo.update_batch_statuses()->empty());

  SECTION("a paused batch is left alone") {
    auto paused = f.batch({.status = "paused"});
    f.message({.batch_id = paused, .state = "sent"});
    f.message({.batch_id = paused, .state = "queued", .paused = 1});  // still to send once resumed
    CHECK(f.repo.update_batch_statuses()->empty());
  }
  SECTION("a DLQ retry reopens the completed batch") {
    CHECK(*f.repo.retry_dlq({rest[0].id}) == 1);
    CHECK(f.batch_status(b) == "sending");
    CHECK(f.state(rest[0].id) == "queued");
    CHECK(f.column(rest[0].id, "attempts") == 0);
    CHECK(f.column(rest[0].id, "failed_at_ms") == -1);
  }
}

TEST_CASE("MessageRepo DLQ lists in pages, retries and purges", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(f.message({.batch_id = i < 4 ? std::optional(b) : std::nullopt}));
  for (const auto& m : f.claim(5)) {
    auto o = outcome(Outcome::Kind::dead_letter, m);
    o.error_code = "MessageRejected";
    REQUIRE(f.repo.record({o}));
    f.t.clock().advance(std::chrono::milliseconds(10));
  }
  auto first = f.repo.list_dlq(2);
  REQUIRE(first);
  REQUIRE(first->entries.size() == 2);
  CHECK_FALSE(first->next_cursor.empty());
  auto second = f.repo.list_dlq(2, first->next_cursor);
  REQUIRE(second->entries.size() == 2);
  auto third = f.repo.list_dlq(2, second->next_cursor);
  REQUIRE(third->entries.size() == 1);
  CHECK(third->next_cursor.empty());
  CHECK(first->entries[0].failed_at_ms < third->entries[0].failed_at_ms);

  SECTION("bad arguments") {
    CHECK(f.repo.list_dlq(0).error().code == ErrorCode::invalid_input);
    CHECK(f.repo.list_dlq(1001).error().code == ErrorCode::invalid_input);
    CHECK(f.repo.list_dlq(2, "garbage").error().code == ErrorCode::invalid_input);
    CHECK(f.repo.list_dlq(2, "12x:msg").error().code == ErrorCode::invalid_input);
    // Named like limit and offset elsewhere, so an API client sees which parameter was wrong.
    auto cursor = f.repo.list_dlq(2, "garbage");
    REQUIRE(cursor.error().fields.size() == 1);
    CHECK(cursor.error().fields[0].field == "cursor");
    auto limit = f.repo.list_dlq(1001);
    REQUIRE(limit.error().fields.size() == 1);
    CHECK(limit.error().fields[0].field == "limit");
  }
  SECTION("retry by id skips what is not failed") {
    CHECK(*f.repo.retry_dlq({first->entries[0].id, "msg_nope"}) == 1);
    CHECK(*f.repo.retry_dlq({first->entries[0].id}) == 0);
    CHECK(f.repo.list_dlq(10)->entries.size() == 4);
  }
  SECTION("retry all") {
    CHECK(*f.repo.retry_dlq_all() == 5);
    CHECK(f.repo.list_dlq(10)->entries.empty());
    CHECK(f.claim(10).size() == 5);
  }
  SECTION("purge older than a time") {
    auto cutoff = third->entries[0].failed_at_ms;  // the last, keep it
    CHECK(*f.repo.purge_dlq(cutoff) == 4);
    CHECK(f.repo.list_dlq(10)->entries.size() == 1);
    CHECK(f.t.count_rows("messages") == 1);
  }
}

TEST_CASE("MessageRepo::claim uses the messages_claim index", "[store][jobs]") {
  Fixture f;
  SQLite::Statement plan(f.t.db().sql(),
                         "EXPLAIN QUERY PLAN SELECT m.id FROM messages m"
                         " WHERE m.state = 'queued' AND m.paused = 0 AND m.run_at_ms <= 1"
                         " ORDER BY m.priority, m.run_at_ms LIMIT 5");
  std::string detail;
  while (plan.executeStep()) detail += plan.getColumn(3).getString() + "\n";
  CHECK_THAT(detail, Catch::Contains("messages_claim"));
  CHECK_THAT(detail, !Catch::Contains("TEMP B-TREE"));
}

TEST_CASE("MessageRepo::claim reports storage_unavailable when locked", "[store][jobs]") {
  Fixture f;
  f.message({});
  auto other = f.t.open_connection();
  other->sql().exec("PRAGMA busy_timeout = 0");
  f.t.db().sql().exec("BEGIN IMMEDIATE");
  MessageRepo blocked(*other, f.t.clock());
  auto r = blocked.claim(1, f.now(), k_lease_ms);
  f.t.db().sql().exec("ROLLBACK");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::storage_unavailable);
}

TEST_CASE("MessageRepo::record_and_claim records and claims in one transaction", "[store][jobs]") {
  Fixture f;
  auto b = f.batch();
  auto first = f.message({.batch_id = b, .email = "a@example.com"});
  f.message({.batch_id = b, .email = "b@example.com"});
  f.message({.batch_id = b, .email = "c@example.com"});
  auto m = f.claim(1).at(0);
  REQUIRE(m.id == first);
  auto sent = outcome(Outcome::Kind::sent, m);
  sent.ses_message_id = "ses-a";
  auto stale = outcome(Outcome::Kind::sent, m);
  stale.lease_token = m.lease_token + 1;

  SECTION("outcomes in order, then up to max claims") {
    auto cycle = f.repo.record_and_claim({stale, sent}, 5, f.now(), k_lease_ms);
    REQUIRE(cycle);
    REQUIRE(cycle->recorded.size() == 2);
    CHECK(cycle->recorded[0] == Recorded::stale);
    CHECK(cycle->recorded[1] == Recorded::applied);
    CHECK(f.state(first) == "sent");
    REQUIRE(cycle->claimed.size() == 2);
    for (const auto& c : cycle->claimed) {
      CHECK(c.id != first);
      CHECK(f.state(c.id) == "sending");
      CHECK(f.column(c.id, "lease_token") == c.lease_token);
    }
    CHECK(f.events("SENT") == 1);
  }
  SECTION("max 0 only records") {
    auto cycle = f.repo.record_and_claim({sent}, 0, f.now(), k_lease_ms);
    REQUIRE(cycle);
    CHECK(cycle->claimed.empty());
    CHECK(f.t.count_rows("messages WHERE state = 'queued'") == 2);
  }
  SECTION("a locked database applies nothing and claims nothing") {
    auto other = f.t.open_connection();
    other->sql().exec("PRAGMA busy_timeout = 0");
    MessageRepo blocked(*other, f.t.clock());
    f.t.db().sql().exec("BEGIN IMMEDIATE");
    auto cycle = blocked.record_and_claim({sent}, 5, f.now(), k_lease_ms);
    f.t.db().sql().exec("ROLLBACK");
    REQUIRE_FALSE(cycle);
    CHECK(cycle.error().code == ErrorCode::storage_unavailable);
    CHECK(f.state(first) == "sending");
    CHECK(f.t.count_rows("messages WHERE state = 'queued'") == 2);
    // The same repo works once the lock is gone: its cached statements recover.
    auto retried = blocked.record_and_claim({sent}, 5, f.now(), k_lease_ms);
    REQUIRE(retried);
    CHECK(retried->recorded.at(0) == Recorded::applied);
    CHECK(retried->claimed.size() == 2);
  }
}
