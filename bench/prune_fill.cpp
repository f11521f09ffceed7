// Fills a database with old rows for the prune benchmark (bench/prune.sh,
// docs/PERFORMANCE.md "Pruning while sending"): N/2 sent messages of one
// batch and N/2 events, all 400 days old, so that the first prune pass of a
// mailerd started on the file deletes every one of them. Rows are written
// with the store's schema (migrated through store::migrate) in transactions
// of 50,000, as a long-running mailerd would have left them, through the
// same triggers that keep the batch counts and hourly aggregates.
//
// Usage: mailer_bench_prune_fill DB_PATH [N]   (N defaults to 1,000,000)

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "mailer/store/database.hpp"

namespace {

constexpr std::int64_t k_chunk = 50'000;
constexpr std::int64_t k_age_ms = 400LL * 24 * 3600 * 1000;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// `count` rows from a recursive counter, `sql` selecting from it (column i).
void insert_series(SQLite::Database& db, std::int64_t count, const std::string& sql) {
  for (std::int64_t done = 0; done < count; done += k_chunk) {
    const auto n = std::min(k_chunk, count - done);
    SQLite::Transaction tx(db);
    db.exec(fmt::format("WITH RECURSIVE c(i) AS (SELECT {0} UNION ALL SELECT i + 1 FROM c WHERE i < {1}) {2}", done,
                        done + n - 1, sql));
    tx.commit();
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: mailer_bench_prune_fill DB_PATH [N]\n");
    return 2;
  }
  const std::int64_t total = argc > 2 ? std::atoll(argv[2]) : 1'000'000;
  auto db = mailer::store::Database::open(argv[1]);
  if (!db) return std::fprintf(stderr, "open: %s\n", db.error().detail.c_str()), 1;
  if (auto migrated = mailer::store::migrate(**db); !migrated)
    return std::fprintf(stderr, "migrate: %s\n", migrated.error().detail.c_str()), 1;
  auto& sql = (*db)->sql();
  const auto old = now_ms() - k_age_ms;
  sql.exec(fmt::format(
      "INSERT INTO batches(id, status, subject, text, from_address, created_at_ms, updated_at_ms, completed_at_ms)"
      " VALUES ('bat_bench_old', 'completed', 'Hi', 'Hi {{{{name}}}}', 'news@example.com', {0}, {0}, {0})",
      old));
  const auto started = std::chrono::steady_clock::now();
  insert_series(sql, total / 2,
                fmt::format("INSERT INTO messages(id, batch_id, recipient_index, kind, priority, state, email,"
                            " variables_json, run_at_ms, attempts, ses_message_id, created_at_ms, updated_at_ms,"
                            " sent_at_ms) SELECT 'msg_old_' || i, 'bat_bench_old', i, 'bulk', 1, 'sent',"
                            " 'user' || i || '@example.com', '{{\"name\":\"N' || i || '\"}}', {0}, 1,"
                            " 'ses-' || i, {0}, {0} + i, {0} + i FROM c",
                            old));
  insert_series(sql, total - total / 2,
                fmt::format("INSERT INTO events(type, batch_id, message_id, email, detail_json, occurred_at_ms)"
                            " SELECT 'SENT', 'bat_bench_old', 'msg_old_' || i, 'user' || i || '@example.com',"
                            " '{{\"ses_message_id\":\"ses-' || i || '\"}}', {0} + i FROM c",
                            old));
  if (auto checkpointed = (*db)->checkpoint(mailer::store::Database::CheckpointMode::truncate); !checkpointed)
    return std::fprintf(stderr, "checkpoint: %s\n", checkpointed.error().detail.c_str()), 1;
  const auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("{\"rows\": %lld, \"fill_seconds\": %.1f}\n", static_cast<long long>(total), seconds);
  return 0;
}
