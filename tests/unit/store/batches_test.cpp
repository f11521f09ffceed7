#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/core/ids.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/suppressions.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;
using namespace std::chrono_literals;

namespace {

Batch new_batch() {
  Batch b;
  b.id = mailer::ids::make(mailer::ids::k_batch);
  b.subject = "Hi {{name}}";
  b.text = "Hello";
  b.from_address = "news@example.com";
  return b;
}

std::vector<NewRecipient> recipients(int n) {
  std::vector<NewRecipient> list;
  for (int i = 0; i < n; ++i) {
    std::string email = "r" + std::to_string(i) + "@example.com";
    list.push_back({i, email, email, "{}"});
  }
  return list;
}

std::int64_t state_count(const Batch& b, const std::string& state) {
  auto it = b.state_counts.find(state);
  return it == b.state_counts.end() ? 0 : it->second;
}

}  // namespace

TEST_CASE("BatchRepo::insert_batch stores messages queued, or scheduled for send_at", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  SECTION("now") {
    Batch b = new_batch();
    REQUIRE(repo.insert_batch(b, recipients(3)));
    CHECK(b.status == BatchStatus::queued);
    CHECK(b.accepted_count == 3);
    auto got = repo.get(b.id);
    REQUIRE(got);
    CHECK(got->status == BatchStatus::queued);
    CHECK(state_count(*got, "queued") == 3);
    SQLite::Statement row(t.db().sql(), "SELECT kind, priority, run_at_ms, paused FROM messages LIMIT 1");
    REQUIRE(row.executeStep());
    CHECK(row.getColumn(0).getString() == "bulk");
    CHECK(row.getColumn(1).getInt() == 1);
    CHECK(row.getColumn(2).getInt64() == t.clock().now_ms());
    CHECK(row.getColumn(3).getInt() == 0);
  }
  SECTION("later") {
    Batch b = new_batch();
    b.send_at_ms = t.clock().now_ms() + 3600000;
    REQUIRE(repo.insert_batch(b, recipients(2)));
    CHECK(b.status == BatchStatus::scheduled);
    CHECK(state_count(*repo.get(b.id), "scheduled") == 2);
    CHECK(t.db().sql().execAndGet("SELECT min(run_at_ms) FROM messages").getInt64() == *b.send_at_ms);
  }
}

TEST_CASE("BatchRepo::insert_batch records suppressed recipients with an event", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo suppressions(t.db(), t.clock());
  REQUIRE(suppressions.add({"r1@example.com", SuppressionReason::unsubscribe, SuppressionScope::bulk, "{}", 0, 0}));
  REQUIRE(suppressions.add({"r2@example.com", SuppressionReason::bounce, SuppressionScope::all, "{}", 0, 0}));
  BatchRepo repo(t.db(), t.clock());
  Batch b = new_batch();
  REQUIRE(repo.insert_batch(b, recipients(4)));
  CHECK(b.accepted_count == 2);
  CHECK(b.suppressed_count == 2);
  auto got = repo.get(b.id);
  CHECK(state_count(*got, "suppressed") == 2);
  CHECK(state_count(*got, "queued") == 2);
  CHECK(got->event_counts.at("SUPPRESSED") == 2);
  CHECK(got->status == BatchStatus::queued);
  SECTION("all suppressed: the batch is completed at once") {
    Batch only = new_batch();
    REQUIRE(repo.insert_batch(only, {{0, "r1@example.com", "r1@example.com", "{}"}}));
    CHECK(only.status == BatchStatus::completed);
    CHECK(repo.get(only.id)->completed_at_ms);
  }
}

TEST_CASE("BatchRepo::insert_batch stores large batches in request order", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo suppressions(t.db(), t.clock());
  // 150 recipients and 76 suppressed span several 64-row chunks of both inserts.
  std::vector<Suppression> blocked;
  for (int i = 0; i < 150; ++i)
    if (i % 2 == 0 || i == 63)
      blocked.push_back(
          {"r" + std::to_string(i) + "@example.com", SuppressionReason::manual, SuppressionScope::all, "{}", 0, 0});
  REQUIRE(*suppressions.import(blocked) == 76);
  BatchRepo repo(t.db(), t.clock());
  Batch b = new_batch();
  auto list = recipients(150);
  list[5].variables_json = R"({"first_name":"Ana"})";
  REQUIRE(repo.insert_batch(b, list));
  CHECK(b.accepted_count == 74);
  CHECK(b.suppressed_count == 76);
  auto& sql = t.db().sql();
  CHECK(sql.execAndGet("SELECT count(*) FROM messages").getInt() == 150);
  CHECK(sql.execAndGet("SELECT count(*) FROM events e JOIN messages m ON m.id = e.message_id "
                       "WHERE e.type = 'SUPPRESSED' AND e.batch_id = m.batch_id AND e.email = m.email "
                       "AND m.state = 'suppressed' AND (m.recipient_index % 2 = 0 OR m.recipient_index = 63) "
                       "AND e.occurred_at_ms = " +
                       std::to_string(t.clock().now_ms()))
            .getInt() == 76);
  CHECK(sql.execAndGet("SELECT count(*) FROM events").getInt() == 76);
  CHECK(sql.execAndGet("SELECT variables_json FROM messages WHERE recipient_index = 5").getString() ==
        R"({"first_name":"Ana"})");
  CHECK(sql.execAndGet("SELECT email FROM messages WHERE recipient_index = 77").getString() == "r77@example.com");
  // Ids follow request order, so paging recipients by id pages them in request order.
  CHECK(sql.execAndGet("SELECT count(*) FROM messages a JOIN messages b ON a.recipient_index < b.recipient_index "
                       "AND a.id > b.id")
            .getInt() == 0);
  auto got = repo.get(b.id);
  CHECK(state_count(*got, "queued") == 74);
  CHECK(got->event_counts.at("SUPPRESSED") == 76);
}

TEST_CASE("BatchRepo counts stay exact as message states change", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  Batch b = new_batch();
  REQUIRE(repo.insert_batch(b, recipients(5)));
  auto& sql = t.db().sql();
  sql.exec("UPDATE messages SET state = 'sending' WHERE recipient_index IN (0, 1)");
  CHECK(repo.get(b.id)->status == BatchStatus::sending);
  sql.exec("UPDATE messages SET state = 'sent' WHERE recipient_index = 0");
  sql.exec("UPDATE messages SET state = 'failed' WHERE recipient_index = 1");
  sql.exec("INSERT INTO events(type, batch_id, email, occurred_at_ms) VALUES ('SENT', '" + b.id + "', 'x', 1)");
  auto got = repo.get(b.id);
  CHECK(state_count(*got, "queued") == 3);
  CHECK(state_count(*got, "sending") == 0);
  CHECK(state_count(*got, "sent") == 1);
  CHECK(state_count(*got, "failed") == 1);
  CHECK(got->event_counts.at("SENT") == 1);
  sql.exec("UPDATE messages SET state = 'sent' WHERE state = 'queued'");
  CHECK(repo.get(b.id)->status == BatchStatus::completed);
  auto changes = MessageRepo(t.db(), t.clock()).update_batch_statuses();  // the reaper's step
  REQUIRE((changes->empty() || changes->at(0).to == BatchStatus::completed));
  CHECK(sql.execAndGet("SELECT status FROM batches").getString() == "completed");
  CHECK(repo.list(PageQuery{}, BatchStatus::completed)->items.size() == 1);
}

TEST_CASE("BatchRepo pause, resume and cancel", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  Batch b = new_batch();
  REQUIRE(repo.insert_batch(b, recipients(4)));
  auto& sql = t.db().sql();
  sql.exec("UPDATE messages SET state = 'sending' WHERE recipient_index = 0");
  auto paused = repo.pause(b.id, "complaints");
  REQUIRE(paused);
  CHECK(paused->status == BatchStatus::paused);
  CHECK(paused->pause_reason == "complaints");
  CHECK(sql.execAndGet("SELECT count(*) FROM messages WHERE paused = 1").getInt() == 3);
  CHECK(repo.pause(b.id, "again").error().code == ErrorCode::conflict);
  auto resumed = repo.resume(b.id);
  REQUIRE(resumed);
  CHECK(resumed->status == BatchStatus::sending);
  CHECK_FALSE(resumed->pause_reason);
  CHECK(sql.execAndGet("SELECT count(*) FROM messages WHERE paused = 1").getInt() == 0);
  CHECK(repo.resume(b.id).error().code == ErrorCode::conflict);
  auto cancelled = repo.cancel(b.id);
  REQUIRE(cancelled);
  CHECK(cancelled->status == BatchStatus::cancelled);
  CHECK(state_count(*cancelled, "cancelled") == 3);
  CHECK(state_count(*cancelled, "sending") == 1);  // in flight: finishes
  CHECK(repo.cancel(b.id).error().code == ErrorCode::conflict);
  CHECK(repo.pause(b.id, "x").error().code == ErrorCode::conflict);
  CHECK(repo.cancel("bat_nope").error().code == ErrorCode::not_found);
}

TEST_CASE("BatchRepo::recipients and list page without gaps or repeats", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  Batch b = new_batch();
  REQUIRE(repo.insert_batch(b, recipients(7)));
  std::vector<int> seen;
  PageQuery page{3, "", 0};
  while (true) {
    auto p = repo.recipients(b.id, page, std::nullopt);
    REQUIRE(p);
    for (const auto& r : p->items) seen.push_back(r.index);
    if (p->next_after.empty()) break;
    page.after = p->next_after;
  }
  CHECK(seen == std::vector<int>{0, 1, 2, 3, 4, 5, 6});
  CHECK(repo.recipients("bat_nope", PageQuery{}, std::nullopt).error().code == ErrorCode::not_found);

  Batch second = new_batch();
  REQUIRE(repo.insert_batch(second, recipients(1)));
  auto p1 = repo.list(PageQuery{1, "", 0}, std::nullopt);
  REQUIRE(p1->items.size() == 1);
  CHECK(p1->items[0].id == second.id);  // newest first
  Batch third = new_batch();            // arrives between pages: not on later pages
  REQUIRE(repo.insert_batch(third, recipients(1)));
  auto p2 = repo.list(PageQuery{1, p1->next_after, 0}, std::nullopt);
  REQUIRE(p2->items.size() == 1);
  CHECK(p2->items[0].id == b.id);
  CHECK(p2->next_after.empty());
}

TEST_CASE("MessageRepo::insert_message and message()", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo suppressions(t.db(), t.clock());
  REQUIRE(suppressions.add({"unsub@example.com", SuppressionReason::unsubscribe, SuppressionScope::bulk, "{}", 0, 0}));
  REQUIRE(suppressions.add({"bounce@example.com", SuppressionReason::bounce, SuppressionScope::all, "{}", 0, 0}));
  MessageRepo repo(t.db(), t.clock());
  NewMessage m;
  m.subject = "Reset";
  m.text = "code";
  m.from_address = "a@example.com";
  m.email = m.key = "unsub@example.com";
  auto queued = repo.insert_message(m);
  REQUIRE(queued);
  CHECK(queued->state == MessageState::queued);
  auto got = repo.message(queued->id);
  REQUIRE(got);
  CHECK(got->kind == MessageKind::transactional);
  CHECK_FALSE(got->batch_id);
  CHECK(got->events.empty());
  CHECK(t.db().sql().execAndGet("SELECT priority FROM messages").getInt() == 0);
  m.email = m.key = "bounce@example.com";
  auto blocked = repo.insert_message(m);
  CHECK(blocked->state == MessageState::suppressed);
  auto blocked_view = repo.message(blocked->id);
  REQUIRE(blocked_view->events.size() == 1);
  CHECK(blocked_view->events[0].type == "SUPPRESSED");
  CHECK(repo.message("msg_nope").error().code == ErrorCode::not_found);
}

namespace {

// Sets the state of the messages of `b` at `indexes` (request order), as a worker
// or the reaper would, without touching the batch row.
void set_states(mailer::test::TestDb& t, const Batch& b, const std::string& state, const std::string& indexes) {
  t.db().sql().exec("UPDATE messages SET state = '" + state + "' WHERE batch_id = '" + b.id +
                    "' AND recipient_index IN (" + indexes + ")");
}

}  // namespace

TEST_CASE("BatchRepo::list filters on the status it shows", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  std::vector<Batch> batches(6, Batch{});
  for (auto& b : batches) {
    b = new_batch();
    REQUIRE(repo.insert_batch(b, recipients(3)));
  }
  set_states(t, batches[0], "cancelled", "0");   // send_before passed for one
  set_states(t, batches[1], "suppressed", "0");  // suppressed at send time
  set_states(t, batches[2], "sent", "0");
  set_states(t, batches[3], "sent", "0, 1, 2");  // done, not yet seen by the reaper
  REQUIRE(repo.pause(batches[4].id, "checking"));
  REQUIRE(repo.cancel(batches[5].id));
  // The reaper's step in between must not make them disagree either.
  for (bool reaped : {false, true}) {
    INFO("after the reaper: " << reaped);
    if (reaped) REQUIRE(MessageRepo(t.db(), t.clock()).update_batch_statuses());
    std::size_t listed = 0;
    for (const auto& name : batch_status_names()) {
      INFO("filter " << name);
      auto page = repo.list(PageQuery{}, parse_batch_status(name));
      REQUIRE(page);
      for (const auto& b : page->items) CHECK(to_string(b.status) == name);
      listed += page->items.size();
    }
    CHECK(listed == batches.size());
    CHECK(repo.list(PageQuery{}, BatchStatus::sending)->items.size() == 3);
  }
}

TEST_CASE("BatchRepo list pages with a status filter", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  std::vector<std::string> sending;
  for (int i = 0; i < 7; ++i) {
    Batch b = new_batch();
    REQUIRE(repo.insert_batch(b, recipients(2)));
    if (i % 2 == 0) continue;
    set_states(t, b, "cancelled", "0");
    sending.insert(sending.begin(), b.id);  // newest first
  }
  std::vector<std::string> seen;
  PageQuery page{2, "", 0};
  while (true) {
    auto p = repo.list(page, BatchStatus::sending);
    REQUIRE(p);
    for (const auto& b : p->items) seen.push_back(b.id);
    if (p->next_after.empty()) break;
    page.after = p->next_after;
  }
  CHECK(seen == sending);
  auto skipped = repo.list(PageQuery{1, "", 1}, BatchStatus::sending);
  REQUIRE(skipped->items.size() == 1);
  CHECK(skipped->items[0].id == sending[1]);
}

TEST_CASE("A batch that reads completed has its completed_at", "[store]") {
  mailer::test::TestDb t;
  BatchRepo repo(t.db(), t.clock());
  MessageRepo messages(t.db(), t.clock());
  SECTION("its last messages finished before the reaper ran") {
    Batch b = new_batch();
    REQUIRE(repo.insert_batch(b, recipients(2)));
    set_states(t, b, "sent", "0, 1");
    auto got = repo.get(b.id);
    CHECK(got->status == BatchStatus::completed);
    CHECK(got->completed_at_ms == t.clock().now_ms());
    auto listed = repo.list(PageQuery{}, BatchStatus::completed);
    REQUIRE(listed->items.size() == 1);
    CHECK(listed->items[0].completed_at_ms == t.clock().now_ms());
  }
  SECTION("paused, its waiting messages passed send_before") {
    Batch b = new_batch();
    b.send_before_ms = t.clock().now_ms() + 1000;
    REQUIRE(repo.insert_batch(b, recipients(2)));
    REQUIRE(repo.pause(b.id, "checking"));
    t.clock().advance(std::chrono::seconds(2));
    REQUIRE(*messages.expire_send_before(t.clock().now_ms()) == 2);
    auto changes = messages.update_batch_statuses();
    REQUIRE(changes->size() == 1);
    CHECK(changes->at(0).from == BatchStatus::paused);
    CHECK(changes->at(0).to == BatchStatus::completed);
    auto got = repo.get(b.id);
    CHECK(got->status == BatchStatus::completed);
    CHECK(got->completed_at_ms == t.clock().now_ms());
  }
  SECTION("a DLQ retry takes completed and completed_at away") {
    Batch b = new_batch();
    REQUIRE(repo.insert_batch(b, recipients(2)));
    set_states(t, b, "sent", "0");
    t.db().sql().exec("UPDATE messages SET state = 'failed', failed_at_ms = 1 WHERE recipient_index = 1");
    REQUIRE(messages.update_batch_statuses());
    REQUIRE(repo.get(b.id)->completed_at_ms);
    REQUIRE(*messages.retry_dlq_all() == 1);
    auto got = repo.get(b.id);
    CHECK(got->status == BatchStatus::sending);
    CHECK_FALSE(got->completed_at_ms);
  }
}
