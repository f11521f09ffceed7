#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/events.hpp"
#include "mailer/store/webhooks.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {

Event event(std::string type, std::optional<std::string> batch = {}) {
  Event e;
  e.type = std::move(type);
  e.email = "a@example.com";
  e.occurred_at_ms = 1000;
  e.batch_id = std::move(batch);
  return e;
}

NewWebhookEndpoint endpoint(std::vector<std::string> types = {}) {
  NewWebhookEndpoint e;
  e.url = "https://hooks.example.com/x";
  e.secret = "whsec_AAAA";
  e.event_types = std::move(types);
  return e;
}

WebhookRepo::NewDelivery delivery_of(const EventScan& scan, std::int64_t now_ms) {
  WebhookRepo::NewDelivery d;
  d.first_event_id = scan.events.front().id;
  d.last_event_id = scan.events.back().id;
  d.event_count = static_cast<std::int64_t>(scan.events.size());
  d.body = "{}";
  d.now_ms = now_ms;
  d.retry_until_ms = now_ms + 1000;
  return d;
}

}  // namespace

TEST_CASE("WebhookRepo reads events after the cursor through the endpoint's filters", "[store][webhooks]") {
  mailer::test::TestDb t;
  EventRepo events(t.db());
  WebhookRepo repo(t.db());
  REQUIRE(events.insert(event("SENT")));  // before the endpoint: never delivered
  auto created = repo.create(endpoint({"SENT", "BOUNCE"}), 10);
  REQUIRE(created);
  CHECK(created->last_event_id == 1);
  for (const char* type : {"SENT", "DELIVERY", "BOUNCE", "SENT"}) REQUIRE(events.insert(event(type)));

  auto scan = repo.events_after(*created, 2, 5000);
  REQUIRE(scan);
  REQUIRE(scan->events.size() == 2);  // a full page stops at its last event
  CHECK(scan->events[0].id == 2);
  CHECK(scan->events[1].id == 4);
  CHECK(scan->scanned_to == 4);
  CHECK_FALSE(scan->reached_end);

  SECTION("a delivery moves the cursor in the same transaction, once") {
    auto made = repo.create_delivery(created->id, 1, scan->scanned_to, delivery_of(*scan, 20));
    REQUIRE(made);
    REQUIRE(*made);
    auto again = repo.create_delivery(created->id, 1, scan->scanned_to, delivery_of(*scan, 20));
    REQUIRE(again);
    CHECK_FALSE(*again);  // the cursor moved: nothing written
    CHECK(t.count_rows("webhook_deliveries") == 1);
    auto moved = repo.get(created->id);
    REQUIRE(moved);
    auto rest = repo.events_after(*moved, 100, 5000);
    REQUIRE(rest);
    REQUIRE(rest->events.size() == 1);
    CHECK(rest->events[0].id == 5);
    CHECK(rest->reached_end);
    auto pending = repo.next_pending(created->id);
    REQUIRE(pending);
    REQUIRE(*pending);
    CHECK((*pending)->event_count == 2);
    CHECK((*pending)->body == "{}");
  }
  SECTION("past the last event the scan reaches the end and skips filtered ones") {
    auto only = repo.events_after(*created, 100, 5000);
    REQUIRE(only);
    CHECK(only->events.size() == 3);
    CHECK(only->scanned_to == 5);
    CHECK(only->reached_end);
  }
  SECTION("the scan window bounds the rows read") {
    auto windowed = repo.events_after(*created, 100, 2);
    REQUIRE(windowed);
    CHECK(windowed->events.size() == 1);  // ids 2 and 3 read, 3 filtered out
    CHECK(windowed->scanned_to == 3);
    CHECK_FALSE(windowed->reached_end);
  }
}

TEST_CASE("WebhookRepo::record_attempt keeps the failure clock and disables an endpoint", "[store][webhooks]") {
  mailer::test::TestDb t;
  EventRepo events(t.db());
  WebhookRepo repo(t.db());
  auto created = repo.create(endpoint(), 0);
  REQUIRE(created);
  REQUIRE(events.insert(event("SENT")));
  auto scan = repo.events_after(*created, 100, 5000);
  REQUIRE(scan);
  auto id = repo.create_delivery(created->id, 0, scan->scanned_to, delivery_of(*scan, 100));
  REQUIRE(id);
  REQUIRE(*id);

  auto fail = [&](std::int64_t at, std::int64_t disable_if_since) {
    AttemptRecord r;
    r.delivery_id = **id;
    r.attempted_at_ms = at;
    r.status_code = 500;
    r.error = "HTTP 500";
    r.latency_ms = 3;
    r.response = "boom";
    r.next_attempt_at_ms = at + 10;
    r.disable_if_failing_since_ms = disable_if_since;
    return repo.record_attempt(created->id, r);
  };
  auto first = fail(1000, 0);  // failing since 1000; disabled when since <= 0
  REQUIRE(first);
  CHECK_FALSE(first->endpoint_disabled);
  CHECK(repo.get(created->id)->failing_since_ms == std::optional<std::int64_t>(1000));

  SECTION("a success clears the clock") {
    AttemptRecord ok;
    ok.delivery_id = **id;
    ok.attempted_at_ms = 2000;
    ok.status_code = 200;
    ok.delivered = true;
    REQUIRE(repo.record_attempt(created->id, ok));
    auto after = repo.get(created->id);
    CHECK_FALSE(after->failing_since_ms);
    CHECK(after->last_success_at_ms == std::optional<std::int64_t>(2000));
    CHECK_FALSE(repo.next_pending(created->id).value());
  }
  SECTION("a success can create the next delivery in the same commit") {
    REQUIRE(events.insert(event("SENT")));
    auto endpoint_now = repo.get(created->id);
    auto more = repo.events_after(*endpoint_now, 100, 5000);
    REQUIRE(more);
    REQUIRE(more->events.size() == 1);
    AttemptRecord ok;
    ok.delivery_id = **id;
    ok.attempted_at_ms = 2000;
    ok.status_code = 200;
    ok.delivered = true;
    WebhookRepo::NextDelivery next{endpoint_now->last_event_id, more->scanned_to, delivery_of(*more, 2000)};
    REQUIRE(repo.record_attempt(created->id, ok, &next));
    auto pending = repo.next_pending(created->id);
    REQUIRE(pending);
    REQUIRE(*pending);
    CHECK((*pending)->first_event_id == more->events[0].id);
    CHECK(repo.get(created->id)->last_event_id == more->scanned_to);
  }
  SECTION("failing since the disable cut-off disables it, with a reason") {
    auto later = fail(5000, 1000);
    REQUIRE(later);
    CHECK(later->endpoint_disabled);
    auto after = repo.get(created->id);
    CHECK_FALSE(after->enabled);
    CHECK(after->disabled_reason == std::optional<std::string>("every attempt failed since 1970-01-01T00:00:01Z"));
    auto shown = repo.delivery(created->id, **id);
    REQUIRE(shown);
    CHECK(shown->first.attempts == 2);
    CHECK(shown->second.size() == 2);
    CHECK(shown->second[0].response == "boom");

    SECTION("enabling it again clears reason and clock") {
      WebhookEndpointChange change;
      change.enabled = true;
      auto enabled = repo.update(created->id, change, 6000);
      REQUIRE(enabled);
      CHECK(enabled->enabled);
      CHECK_FALSE(enabled->disabled_reason);
      CHECK_FALSE(enabled->failing_since_ms);
    }
  }
  SECTION("replay refuses a pending delivery, then resends a finished one") {
    auto pending = repo.replay(created->id, **id, 3000, 4000);
    REQUIRE_FALSE(pending);
    CHECK(pending.error().code == ErrorCode::conflict);
    AttemptRecord gave_up;
    gave_up.delivery_id = **id;
    gave_up.attempted_at_ms = 3000;
    gave_up.error = "timeout";
    REQUIRE(repo.record_attempt(created->id, gave_up));  // no next attempt: failed
    auto replayed = repo.replay(created->id, **id, 3500, 9000);
    REQUIRE(replayed);
    CHECK(replayed->status == DeliveryStatus::pending);
    CHECK(replayed->next_attempt_at_ms == 3500);
    CHECK(replayed->retry_until_ms == 9000);
  }
}

TEST_CASE("WebhookRepo never gives a delivery id twice, even after the newest is deleted", "[store][webhooks]") {
  mailer::test::TestDb t;
  WebhookRepo repo(t.db());
  WebhookRepo::NewDelivery test;
  test.kind = "test";
  test.body = "{}";
  test.now_ms = 10;
  test.retry_until_ms = 1000;
  auto first = repo.create(endpoint(), 10);
  REQUIRE(first);
  auto sent = repo.add_test_delivery(first->id, test);
  REQUIRE(sent);
  REQUIRE(repo.remove(first->id));  // its deliveries go with it
  CHECK(t.count_rows("webhook_deliveries") == 0);
  auto second = repo.create(endpoint(), 20);
  REQUIRE(second);
  auto next = repo.add_test_delivery(second->id, test);
  REQUIRE(next);
  CHECK(next->id > sent->id);  // receivers drop repeats by webhook-id
}

TEST_CASE("WebhookRepo carries a message's own metadata, else its batch's", "[store][webhooks]") {
  mailer::test::TestDb t;
  WebhookRepo repo(t.db());
  auto created = repo.create(endpoint(), 10);
  REQUIRE(created);
  t.db().sql().exec(
      "INSERT INTO batches(id, status, from_address, metadata_json, created_at_ms, updated_at_ms) "
      "VALUES ('bat_1', 'sending', 'a@example.com', '{\"campaign\":\"dec\"}', 0, 0);"
      "INSERT INTO messages(id, batch_id, kind, priority, state, email, run_at_ms, created_at_ms, updated_at_ms) "
      "VALUES ('msg_bulk', 'bat_1', 'bulk', 1, 'sent', 'a@example.com', 0, 0, 0);"
      "INSERT INTO messages(id, kind, priority, state, email, run_at_ms, created_at_ms, updated_at_ms, "
      "metadata_json) VALUES ('msg_tx', 'transactional', 0, 'sent', 'b@example.com', 0, 0, 0, '{\"order\":\"A-1\"}');");
  EventRepo events(t.db());
  auto bulk = event("DELIVERY", "bat_1");
  bulk.message_id = "msg_bulk";
  auto tx = event("DELIVERY");
  tx.message_id = "msg_tx";
  REQUIRE(events.insert(std::vector<Event>{bulk, tx, event("DELIVERY")}));
  auto scan = repo.events_after(*created, 10, 5000);
  REQUIRE(scan);
  REQUIRE(scan->events.size() == 3);
  CHECK(scan->events[0].metadata_json == R"({"campaign":"dec"})");
  CHECK(scan->events[1].metadata_json == R"({"order":"A-1"})");
  CHECK_FALSE(scan->events[2].metadata_json);
  auto listed = events.list({}, {.limit = 10});
  REQUIRE(listed);
  REQUIRE(listed->items.size() == 3);
  CHECK_FALSE(listed->items[0].metadata_json);  // a bulk message: the batch's is on the batch
  CHECK(listed->items[1].metadata_json == R"({"order":"A-1"})");
}
