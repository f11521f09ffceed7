#include "mailer/store/metrics_queries.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/events.hpp"
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
  CHECK(figures->dead_lettered == 2);
}

TEST_CASE("queue_figures shows every state at zero on an empty database", "[store][metrics]") {
  TestDb t;
  auto figures = queue_figures(t.db());
  REQUIRE(figures);
  CHECK(figures->depth == std::map<std::string, std::int64_t>{{"scheduled", 0}, {"queued", 0}, {"sending", 0}});
  CHECK(figures->dead_lettered == 0);
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
