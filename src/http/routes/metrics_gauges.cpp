#include "http/routes/metrics_gauges.hpp"

#include <algorithm>
#include <filesystem>

#include "mailer/jobs/engine.hpp"
#include "mailer/service/guard.hpp"
#include "mailer/store/db_stats.hpp"
#include "mailer/store/feedback.hpp"
#include "mailer/store/metrics_queries.hpp"

namespace mailer::http {

namespace {

double unix_seconds(Clock::time_point t) { return std::chrono::duration<double>(t.time_since_epoch()).count(); }

double file_bytes(const std::filesystem::path& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<double>(size);
}

}  // namespace

Status add_queue_age_gauges(metrics::Registry& scrape, store::Database& db, const Clock& clock) {
  auto now_ms = to_ms(clock.now());
  auto oldest = store::oldest_due_run_at(db, now_ms);
  if (!oldest) return oldest.error();
  auto& age = scrape.gauge("mailer_queue_oldest_age_seconds",
                           "Seconds the longest-waiting due message (queued, not paused) has waited past its run "
                           "time, by kind; 0 when none is due.",
                           {"kind"});
  for (const auto& [kind, run_at_ms] : *oldest) {
    age.set({kind}, run_at_ms ? static_cast<double>(std::max<std::int64_t>(0, now_ms - *run_at_ms)) / 1000.0 : 0);
  }
  return {};
}

void add_account_gauges(metrics::Registry& scrape, const jobs::EngineStats& stats, const Deps& deps) {
  // Registered only with a value (an unlabelled gauge renders 0 otherwise):
  // a 0 quota before GetAccount answered would read as "no sending allowed"
  // and divide alert expressions by zero; a 0 expiry as "expired".
  if (stats.account_max_send_rate) {
    scrape
        .gauge("mailer_ses_account_max_send_rate_per_second",
               "SES GetAccount SendQuota.MaxSendRate, messages per second (beside the rate in force, "
               "mailer_send_rate_limit_per_second).")
        .set(*stats.account_max_send_rate);
  }
  if (stats.account_max_24_hour_send) {
    scrape
        .gauge("mailer_ses_account_max_24h_send",
               "SES GetAccount SendQuota.Max24HourSend, messages per rolling 24 hours; -1: unlimited.")
        .set(*stats.account_max_24_hour_send);
  }
  auto expires = deps.credentials_expiry ? deps.credentials_expiry() : std::nullopt;
  if (expires) {
    scrape
        .gauge("mailer_ses_credentials_expiry_timestamp_seconds",
               "Unix time the SES credentials in use expire; absent for credentials that do not expire "
               "(static keys).")
        .set(unix_seconds(*expires));
  }
}

Status add_guard_gauges(metrics::Registry& scrape, store::Database& db, const Deps& deps) {
  const auto& config = deps.config.guard;
  auto active = store::FeedbackRepo(db, deps.clock).active_batch_reputations();
  if (!active) return active.error();
  auto paused = store::paused_batch_reasons(db);
  if (!paused) return paused.error();
  double worst_bounce = 0;
  double worst_complaint = 0;
  for (const auto& batch : *active) {
    auto rates = service::guard_rates(batch, config);
    if (!rates.judged) continue;
    worst_bounce = std::max(worst_bounce, rates.bounce_rate);
    worst_complaint = std::max(worst_complaint, rates.complaint_rate);
  }
  auto by_guard = std::count_if(paused->begin(), paused->end(), service::is_guard_pause_reason);
  scrape
      .gauge("mailer_guard_bounce_ratio",
             "Highest hard-bounce rate (hard bounces / sent) among active batches past guard.min_sample sends: "
             "the figure the reputation guard pauses a batch on; 0 when none.")
      .set(worst_bounce);
  scrape
      .gauge("mailer_guard_complaint_ratio",
             "Highest complaint rate (complaints / sent) among active batches past guard.min_sample sends; "
             "0 when none.")
      .set(worst_complaint);
  scrape.gauge("mailer_guard_max_bounce_ratio", "guard.max_bounce_rate: the guard pauses a batch above it.")
      .set(config.max_bounce_rate);
  scrape.gauge("mailer_guard_max_complaint_ratio", "guard.max_complaint_rate: the guard pauses a batch above it.")
      .set(config.max_complaint_rate);
  scrape.gauge("mailer_guard_paused_batches", "Batches paused by the reputation guard and not resumed yet.")
      .set(static_cast<double>(by_guard));
  return {};
}

Status add_event_counters(metrics::Registry& scrape, store::Database& db) {
  // NOTE: from the hourly aggregates rather than an in-process counter: they
  // count committed events only (every writer, mailerctl included) and
  // survive restarts, so increase() over a restart is exact.
  auto totals = store::event_totals(db);
  if (!totals) return totals.error();
  auto& events = scrape.counter("mailer_events_total", "Events recorded in the database, by type.", {"type"});
  for (const auto& [type, n] : *totals) events.inc({type}, static_cast<double>(n));
  return {};
}

Status add_free_page_gauge(metrics::Registry& scrape, store::Database& db) {
  auto pages = store::page_figures(db);
  if (!pages) return pages.error();
  scrape
      .gauge("mailer_db_free_bytes",
             "Bytes of free pages inside the database file: reused by new rows, and returned to the filesystem "
             "by incremental vacuum when the file allows it (mailerctl db stats).")
      .set(static_cast<double>(pages->freelist_pages * pages->page_size));
  return {};
}

void add_database_gauges(metrics::Registry& scrape, const std::string& db_path) {
  scrape.gauge("mailer_db_size_bytes", "Size of the SQLite database file in bytes.").set(file_bytes(db_path));
  scrape.gauge("mailer_db_wal_size_bytes", "Size of the SQLite write-ahead log (the -wal file) in bytes.")
      .set(file_bytes(db_path + "-wal"));
}

}  // namespace mailer::http
