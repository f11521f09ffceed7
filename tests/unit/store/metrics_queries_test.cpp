#include "mailer/store/metrics_queries.hpp"

#include <catch2/catch.hpp>

#include <algorithm>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/events.hpp"
#include "mailer/store/retention.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using namespace mailer;
using namespace mailer::store;
using namespace mailer::test;

namespace {

void insert_event(Database& db, const std::string& type, std::int64_t at_ms) {
  SQLite::Statement insert(db.sql(), "INSERT INTO events(type, email, occurred_at_ms) VALUES (?, 'a@example.com', ?)");
  insert.bind(1, type);
  insert.bind(2, at_ms);
  insert.exec();
}

}  // namespace

TEST_CASE("queue_figures counts waiting work from batch_counts and the transactional index", "[store][metrics]") {
  TestDb t;
  auto now = to_ms(t.clock().now());
  auto active = insert_batch(t.db(), {.status = "sending"}, now);
  insert_message(t.db(), {.batch_id = active, .state = "queued"}, now);
  insert_message(t.db(), {.batch_id = active, .state = "sending"}, now);
  insert_message(t.db(), {.batch_id = active, .state = "sent"}, now);
  auto paused = insert_batch(t.db(), {.status = "paused"}, now);
  insert_message(t.db(), {.batch_id = paused, .state = "queued", .paused = 1}, now);
  auto done = insert_batch(t.db(), {.status = "completed"}, now);
  insert_message(t.db(), {.batch_id = done, .state = "failed"}, now);
  insert_message(t.db(), {.state = "scheduled", .run_at_ms = now + 1000}, now);
  insert_message(t.db(), {.state = "queued"}, now);
  insert_message(t.db(), {.state = "sent"}, now);
  insert_message(t.db(), {.state = "failed"}, now);

  auto figures = queue_figures(t.db());
  REQUIRE(figures);
  CHECK(figures->depth == std::map<std::string, std::int64_t>{{"scheduled", 1}, {"queued", 3}, {"sending", 1}});
  CHECK(figures->depth_by_kind.at("bulk") ==
        std::map<std::string, std::int64_t>{{"scheduled", 0}, {"queued", 2}, {"sending", 1}});
  CHECK(figures->depth_by_kind.at("transactional") ==
        std::map<std::string, std::int64_t>{{"scheduled", 1}, {"queued", 1}, {"sending", 0}});
  CHECK(figures->dead_lettered == 2);
}

TEST_CASE("queue_figures shows every state at zero on an empty database", "[store][metrics]") {
  TestDb t;
  auto figures = queue_figures(t.db());
  REQUIRE(figures);
  CHECK(figures->depth == std::map<std::string, std::int64_t>{{"scheduled", 0}, {"queued", 0}, {"sending", 0}});
  CHECK(figures->dead_lettered == 0);
}

TEST_CASE("oldest_due_run_at finds the longest-waiting due message per kind", "[store][metrics]") {
  TestDb t;
  const std::int64_t now = 1'767'225'600'000;
  SECTION("nothing due: nullopt for both kinds") {
    insert_message(t.db(), {.state = "queued", .run_at_ms = now + 5000}, now);  // a retry not due yet
    insert_message(t.db(), {.state = "scheduled", .run_at_ms = now - 9000}, now);
    auto oldest = oldest_due_run_at(t.db(), now);
    REQUIRE(oldest);
    CHECK(*oldest ==
          std::map<std::string, std::optional<std::int64_t>>{{"bulk", std::nullopt}, {"transactional", std::nullopt}});
  }
  SECTION("due queued messages, paused ones left out") {
    auto batch = insert_batch(t.db(), {.status = "sending"}, now);
    insert_message(t.db(), {.batch_id = batch, .state = "queued", .run_at_ms = now - 3000}, now);
    insert_message(t.db(), {.batch_id = batch, .state = "queued", .run_at_ms = now - 1000}, now);
    insert_message(t.db(), {.batch_id = batch, .state = "queued", .paused = 1, .run_at_ms = now - 60000}, now);
    insert_message(t.db(), {.state = "queued", .run_at_ms = now - 2000}, now);
    insert_message(t.db(), {.state = "sent", .run_at_ms = now - 90000}, now);
    auto oldest = oldest_due_run_at(t.db(), now);
    REQUIRE(oldest);
    CHECK(oldest->at("bulk") == now - 3000);
    CHECK(oldest->at("transactional") == now - 2000);
  }
}

TEST_CASE("oldest_due_run_at seeks the claim index", "[store][metrics]") {
  TestDb t;
  SQLite::Statement plan(t.db().sql(),
                         "EXPLAIN QUERY PLAN SELECT min(run_at_ms) FROM messages INDEXED BY messages_claim"
                         " WHERE state = 'queued' AND paused = 0 AND priority = 1 AND run_at_ms <= 5");
  std::string detail;
  while (plan.executeStep()) detail += plan.getColumn(3).getString() + "\n";
  CHECK(detail.find("INDEX messages_claim (priority=? AND run_at_ms<?)") != std::string::npos);
}

TEST_CASE("queue_figures counts the DLQ on its partial index, not every message", "[store][metrics]") {
  TestDb t;
  SQLite::Statement plan(t.db().sql(),
                         "EXPLAIN QUERY PLAN SELECT count(*) FROM messages INDEXED BY messages_dlq"
                         " WHERE state = 'failed'");
  REQUIRE(plan.executeStep());
  CHECK(plan.getColumn(3).getString() == "SCAN messages USING INDEX messages_dlq");
}

TEST_CASE("event_totals sums every hour by event type", "[store][metrics]") {
  TestDb t;
  const std::int64_t hour = 1'767'225'600'000;
  insert_event(t.db(), "SENT", hour + 5);
  insert_event(t.db(), "SENT", hour + 100 * k_hour_ms);
  insert_event(t.db(), "OPEN", hour + 7);
  auto totals = event_totals(t.db());
  REQUIRE(totals);
  CHECK(totals->size() == event_types().size());  // derived keys such as unique:OPEN left out
  CHECK(totals->at("SENT") == 2);
  CHECK(totals->at("OPEN") == 1);
  CHECK(totals->at("BOUNCE") == 0);
}

TEST_CASE("event_totals keeps counting the events retention deleted", "[store][metrics]") {
  TestDb t;
  const std::int64_t hour = 1'767'225'600'000;
  insert_event(t.db(), "SENT", hour);
  insert_event(t.db(), "OPEN", hour + 1);
  insert_event(t.db(), "SENT", hour + 2);
  insert_event(t.db(), "SENT", hour + 100 * k_hour_ms);  // the newest, which retention keeps
  PruneCursor cursor;
  auto pruned =
      RetentionRepo(t.db()).prune_chunk(PruneKind::events, hour + 50 * k_hour_ms, PruneMode::remove, 100, cursor);
  REQUIRE(pruned);
  REQUIRE(*pruned == 3);
  auto totals = event_totals(t.db());
  REQUIRE(totals);
  CHECK(totals->at("SENT") == 3);
  CHECK(totals->at("OPEN") == 1);
  insert_event(t.db(), "OPEN", hour + 101 * k_hour_ms);
  CHECK(event_totals(t.db())->at("OPEN") == 2);
}

TEST_CASE("paused_batch_reasons lists the reason of each paused batch", "[store][metrics]") {
  TestDb t;
  auto paused = insert_batch(t.db(), {.status = "paused"}, 0);
  insert_batch(t.db(), {.status = "paused"}, 0);
  insert_batch(t.db(), {.status = "sending"}, 0);
  SQLite::Statement reason(t.db().sql(), "UPDATE batches SET pause_reason = 'reputation guard: x' WHERE id = ?");
  reason.bind(1, paused);
  reason.exec();
  auto reasons = paused_batch_reasons(t.db());
  REQUIRE(reasons);
  std::sort(reasons->begin(), reasons->end());
  CHECK(*reasons == std::vector<std::string>{"", "reputation guard: x"});
}

TEST_CASE("event_summary sums event_counts_hourly over whole hours", "[store][metrics]") {
  TestDb t;
  const std::int64_t hour = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  insert_event(t.db(), "SENT", hour + 5);
  insert_event(t.db(), "SENT", hour + k_hour_ms + 5);
  insert_event(t.db(), "SENT", hour + k_hour_ms + 6);
  insert_event(t.db(), "BOUNCE", hour + k_hour_ms + 7);
  insert_event(t.db(), "SENT", hour + 2 * k_hour_ms);  // outside [hour, hour + 2h)
  insert_event(t.db(), "SENT", hour - 1);              // outside

  SECTION("counts and buckets") {
    auto summary = event_summary(t.db(), hour, hour + 2 * k_hour_ms);
    REQUIRE(summary);
    CHECK(summary->counts.at("SENT") == 3);
    CHECK(summary->counts.at("BOUNCE") == 1);
    CHECK(summary->counts.at("COMPLAINT") == 0);
    CHECK(summary->counts.size() == event_types().size());
    REQUIRE(summary->sent_per_hour.size() == 2);
    CHECK(summary->sent_per_hour[0].hour_ms == hour);
    CHECK(summary->sent_per_hour[0].count == 1);
    CHECK(summary->sent_per_hour[1].count == 2);
  }
  SECTION("bounds that are not hour starts, or reversed, are invalid input") {
    for (auto [from, to] : {std::pair{hour + 1, hour + k_hour_ms}, std::pair{hour, hour + 5}, std::pair{hour, hour},
                            std::pair{hour + k_hour_ms, hour}}) {
      auto summary = event_summary(t.db(), from, to);
      REQUIRE_FALSE(summary);
      CHECK(summary.error().code == ErrorCode::invalid_input);
    }
  }
}

TEST_CASE("sent_last_24h counts SENT in hours overlapping the last 24 h", "[store][metrics]") {
  TestDb t;
  const std::int64_t hour = 1'767'225'600'000;
  const std::int64_t now = hour + 30 * 60'000;  // half past
  insert_event(t.db(), "SENT", now - 1);
  insert_event(t.db(), "SENT", now - 24 * k_hour_ms + 1);   // in the hour holding now - 24 h
  insert_event(t.db(), "SENT", hour - 24 * k_hour_ms - 1);  // the hour before that: out
  insert_event(t.db(), "DELIVERY", now - 1);                // not a send
  auto sent = sent_last_24h(t.db(), now);
  REQUIRE(sent);
  CHECK(*sent == 2);
}
