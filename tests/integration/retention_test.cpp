// Retention on a real mailerd sending through mailer-fake-ses (issue #14
// items 1, 2, 3 and 6): pruning keeps every count the batch view and the
// admin metrics report, `mailerctl db prune|stats|compact` on the real
// binaries, and the retention figures on /metrics, checked by promtool.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "engine_e2e.hpp"
#include "mailer/core/clock.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

constexpr std::int64_t k_400_days_ms = 400LL * 24 * 3600 * 1000;

// Moves every finished message and every event 400 days into the past, as if
// the batch had been sent then. Rows only: the aggregates stay in the hours
// they were counted in, which is what the views read.
void age_rows(const Stack& stack) {
  SQLite::Database db(stack.mailerd->db_path().string(), SQLite::OPEN_READWRITE);
  db.setBusyTimeout(5000);
  db.exec(fmt::format("UPDATE messages SET updated_at_ms = updated_at_ms - {0} WHERE state = 'sent'", k_400_days_ms));
  db.exec(fmt::format("UPDATE events SET occurred_at_ms = occurred_at_ms - {0}", k_400_days_ms));
}

std::int64_t count_rows(const Stack& stack, const std::string& table) {
  SQLite::Database db(stack.mailerd->db_path().string(), SQLite::OPEN_READONLY);
  db.setBusyTimeout(5000);
  return db.execAndGet("SELECT count(*) FROM " + table).getInt64();
}

json ctl_json(const Stack& stack, std::vector<std::string> args) {
  args.push_back("--json");
  auto r = stack.mailerd->mailerctl(args);
  INFO(r.output << r.errors);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.output);
}

// A batch of `n` sent to the end, its id returned.
std::string sent_batch(const Stack& stack, int n) {
  auto batch = stack.post_batch(batch_body(addresses(n)));
  const std::string id = batch["id"];
  auto view = stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  REQUIRE(state_count(view, "sent") == n);
  return id;
}

}  // namespace

TEST_CASE("mailerctl db prune keeps the batch view and admin metrics", "[integration][retention]") {
  Stack stack;
  const auto id = sent_batch(stack, 5);
  age_rows(stack);
  auto batch_before = stack.batch(id);
  // Fixed bounds (a period would move with the clock between the two reads).
  const auto now_ms = mailer::to_ms(std::chrono::system_clock::now());
  const auto metrics_path = "/v1/admin/metrics?from=" + mailer::format_rfc3339(now_ms - 300LL * 24 * 3600 * 1000) +
                            "&to=" + mailer::format_rfc3339(now_ms + 3600LL * 1000);
  const auto metrics_before = stack.get_json(metrics_path);

  auto dry = ctl_json(stack, {"db", "prune", "--dry-run"});
  CHECK(dry["dry_run"] == true);
  CHECK(dry["rows"]["messages"] == 5);
  CHECK(dry["rows"]["events"] == 4);  // 5 SENT events; the newest one stays
  CHECK(count_rows(stack, "messages") == 5);

  auto pruned = ctl_json(stack, {"db", "prune"});
  CHECK(pruned["rows"] == dry["rows"]);
  CHECK(count_rows(stack, "messages") == 0);
  // The highest event id is never deleted: SQLite would hand it out again.
  CHECK(count_rows(stack, "events") == 1);

  auto batch_after = stack.batch(id);
  batch_before.erase("updated_at");
  batch_after.erase("updated_at");
  CHECK(batch_after == batch_before);
  CHECK(stack.get_json(metrics_path) == metrics_before);
}

TEST_CASE("pruning never deletes events an enabled webhook endpoint waits for", "[integration][retention]") {
  Stack stack;
  sent_batch(stack, 3);
  // An endpoint whose cursor sits before every event (as one created before
  // them, whose receiver has been down) holds them; a disabled one does not.
  {
    SQLite::Database db(stack.mailerd->db_path().string(), SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    db.exec(
        "INSERT INTO webhook_endpoints(id, url, secret, enabled, last_event_id, created_at_ms, updated_at_ms)"
        " VALUES ('whk_held', 'https://203.0.113.1/hook', 'whsec_x', 1, 0, 0, 0)");
  }
  age_rows(stack);
  CHECK(ctl_json(stack, {"db", "prune"})["rows"]["events"] == 0);
  CHECK(count_rows(stack, "events") == 3);

  {
    SQLite::Database db(stack.mailerd->db_path().string(), SQLite::OPEN_READWRITE);
    db.setBusyTimeout(5000);
    db.exec("UPDATE webhook_endpoints SET enabled = 0 WHERE id = 'whk_held'");
  }
  CHECK(ctl_json(stack, {"db", "prune"})["rows"]["events"] == 2);
  CHECK(count_rows(stack, "events") == 1);
}

TEST_CASE("mailerd prunes in the background and exports the figures", "[integration][retention][metrics]") {
  Stack stack(Env{{"MAILER_RETENTION_PRUNE_INTERVAL_SECONDS", "1"}});
  sent_batch(stack, 3);
  age_rows(stack);
  std::string text;
  REQUIRE(wait_until(
      [&] {
        auto res = stack.mailerd->client()->Get("/metrics");
        text = res ? res->body : "";
        // The row gauges read 0 from the start-up refresh too: wait for
        // the refresh after the pass, which sees the one event kept.
        return sample_value(text, "mailer_db_pruned_rows_total{kind=\"messages\"}").value_or(0) == 3 &&
               sample_value(text, "mailer_db_rows{table=\"events\"}").value_or(-1) == 1;
      },
      std::chrono::seconds(30)));
  INFO(text);
  CHECK(sample_value(text, "mailer_db_pruned_rows_total{kind=\"events\"}").value_or(0) == 2);
  CHECK(sample_value(text, "mailer_db_prune_last_timestamp_seconds").value_or(0) > 0);
  CHECK(sample_value(text, "mailer_db_stats_timestamp_seconds").value_or(0) > 0);
  CHECK(sample_value(text, "mailer_db_rows{table=\"messages\"}").value_or(-1) == 0);
  CHECK(sample_value(text, "mailer_db_free_bytes").has_value());
  CHECK(sample_value(text, "mailer_db_oldest_row_timestamp_seconds{kind=\"events\"}").has_value());
  CHECK(!json_log_lines(stack.mailerd->log(), "prune pass finished").empty());
  auto verdict = promtool_check(text);
  if (!verdict.found) FAIL("promtool not found: install the Debian package prometheus (make deps)");
  INFO(verdict.output);
  CHECK(verdict.exit_code == 0);
}

TEST_CASE("mailerctl db stats reports tables, pages and oldest rows", "[integration][retention]") {
  Stack stack;
  sent_batch(stack, 2);
  auto stats = ctl_json(stack, {"db", "stats"});
  CHECK(stats["auto_vacuum"] == "incremental");  // a new file
  CHECK(stats["page_size"].get<std::int64_t>() > 0);
  CHECK(stats["file_bytes"].get<std::int64_t>() > 0);
  std::map<std::string, json> tables;
  for (const auto& t : stats["tables"]) tables[t["name"].get<std::string>()] = t;
  CHECK(tables["messages"]["rows"] == 2);
  CHECK(tables["events"]["rows"] == 2);
  if (stats["table_bytes"] == true) CHECK(tables["messages"]["bytes"].get<std::int64_t>() > 0);
  CHECK(stats["oldest"]["messages"].is_string());
  CHECK(stats["oldest"]["dlq"].is_null());

  auto text = stack.mailerd->mailerctl({"db", "stats"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("free pages:") && Catch::Contains("messages"));
}

TEST_CASE("mailerctl db compact refuses while mailerd holds the database", "[integration][retention]") {
  MailerdFixture mailerd;
  auto r = mailerd.mailerctl({"db", "compact"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.errors, Catch::Contains("in use by another mailerd") && Catch::Contains("stop mailerd"));
}

TEST_CASE("mailerctl db compact turns an old file incremental", "[integration][retention]") {
  TempDir dir;
  const auto db = (dir / "mailer.db").string();
  {
    // Files made before auto_vacuum: WAL set first, which fixes the header.
    SQLite::Database old(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    old.exec("PRAGMA journal_mode = WAL");
  }
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {MAILERCTL_BIN, "--db", db});
    return run_command(args);
  };
  REQUIRE(run({"migrate"}).exit_code == 0);
  auto before = run({"db", "stats", "--json"});
  REQUIRE(before.exit_code == 0);
  CHECK(json::parse(before.output)["auto_vacuum"] == "none");
  auto compacted = run({"db", "compact", "--json"});
  INFO(compacted.output << compacted.errors);
  REQUIRE(compacted.exit_code == 0);
  CHECK(json::parse(compacted.output)["bytes_after"].get<std::int64_t>() > 0);
  CHECK(json::parse(run({"db", "stats", "--json"}).output)["auto_vacuum"] == "incremental");
  CHECK(run({"db", "check"}).exit_code == 0);
}
