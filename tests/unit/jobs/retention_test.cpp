#include "mailer/jobs/retention.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using mailer::RetentionConfig;
using mailer::jobs::PrunePacing;
using mailer::jobs::PruneState;
using mailer::jobs::run_prune_pass;
using mailer::store::PruneKind;
using mailer::store::PruneMode;
using mailer::test::TestDb;

namespace {

constexpr std::int64_t k_day_ms = 24LL * 3600 * 1000;
constexpr std::int64_t k_now_ms = 1000 * k_day_ms;
constexpr PrunePacing k_no_pause{2, std::chrono::milliseconds(0)};

void fill(TestDb& t) {
  mailer::test::MessageRow sent;
  sent.state = "sent";
  sent.variables_json = R"({"a":1})";
  mailer::test::insert_message(t.db(), sent, k_now_ms - 40 * k_day_ms);   // content goes, row stays
  mailer::test::insert_message(t.db(), sent, k_now_ms - 200 * k_day_ms);  // row goes
  for (int i = 0; i < 3; ++i) {
    t.db().sql().exec(
        fmt::format("INSERT INTO events(type, email, occurred_at_ms) VALUES ('SENT', 'a@example.com', {})",
                    k_now_ms - 200 * k_day_ms));
  }
}

}  // namespace

TEST_CASE("jobs::prune_cutoffs keeps kinds set to 0 forever", "[jobs][retention]") {
  RetentionConfig config;
  config.events_days = 0;
  auto cutoffs = mailer::jobs::prune_cutoffs(config, k_now_ms);
  CHECK(cutoffs.count(PruneKind::events) == 0);
  CHECK(cutoffs.at(PruneKind::messages) == k_now_ms - 180 * k_day_ms);
  CHECK(cutoffs.at(PruneKind::message_content) == k_now_ms - 30 * k_day_ms);
  CHECK(cutoffs.at(PruneKind::sns_messages) == k_now_ms - 14 * k_day_ms);
  CHECK(cutoffs.at(PruneKind::idempotency_keys) == k_now_ms - k_day_ms);
}

TEST_CASE("jobs::run_prune_pass removes what a dry run counts", "[jobs][retention]") {
  TestDb t;
  fill(t);
  PruneState state;
  auto counted = run_prune_pass(t.db(), {}, k_now_ms, PruneMode::count, k_no_pause, state);
  REQUIRE(!counted.error);
  CHECK(t.count_rows("messages") == 2);
  auto removed = run_prune_pass(t.db(), {}, k_now_ms, PruneMode::remove, k_no_pause, state);
  REQUIRE(!removed.error);
  CHECK(removed.rows == counted.rows);
  CHECK(removed.rows.at(PruneKind::message_content) == 2);
  CHECK(removed.rows.at(PruneKind::messages) == 1);
  CHECK(removed.rows.at(PruneKind::events) == 2);
  CHECK(t.count_rows("messages") == 1);

  SECTION("the next pass starts where the content walk stopped") {
    auto again = run_prune_pass(t.db(), {}, k_now_ms, PruneMode::remove, k_no_pause, state);
    CHECK(again.rows.at(PruneKind::message_content) == 0);
  }
}

TEST_CASE("jobs::run_prune_pass stops at a busy database without throwing", "[jobs][retention]") {
  TestDb t;
  fill(t);
  auto other = t.open_connection();
  SQLite::Transaction holding(other->sql(), SQLite::TransactionBehavior::IMMEDIATE);
  t.db().sql().setBusyTimeout(0);
  PruneState state;
  auto report = run_prune_pass(t.db(), {}, k_now_ms, PruneMode::remove, k_no_pause, state);
  REQUIRE(report.error);
  CHECK(report.error->code == mailer::ErrorCode::storage_unavailable);
  CHECK(t.count_rows("messages") == 2);
}
