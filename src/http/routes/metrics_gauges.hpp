#pragma once
// The /metrics gauges an operator alerts on, read at scrape time into the
// scrape's own registry (src/http/routes/metrics.cpp): queue age, SES account
// quotas and credentials, the reputation guard, events by type, and the
// database files. Each reads an index, an aggregate table or a value kept in
// memory, never a table of messages or events.

#include "mailer/core/error.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/http/context.hpp"
#include "mailer/store/database.hpp"

namespace mailer::jobs {
struct EngineStats;
}

namespace mailer::http {

/// mailer_queue_oldest_age_seconds{kind}. Errors: storage_unavailable.
Status add_queue_age_gauges(metrics::Registry& scrape, store::Database& db, const Clock& clock);

/// mailer_ses_account_max_send_rate_per_second and mailer_ses_account_max_24h_send
/// (absent before GetAccount answered), mailer_ses_credentials_expiry_timestamp_seconds
/// (absent for credentials that do not expire).
void add_account_gauges(metrics::Registry& scrape, const jobs::EngineStats& stats, const Deps& deps);

/// mailer_guard_{bounce,complaint}_ratio (the worst active batch the guard
/// judges), mailer_guard_max_{bounce,complaint}_ratio, mailer_guard_paused_batches.
/// Errors: storage_unavailable.
Status add_guard_gauges(metrics::Registry& scrape, store::Database& db, const Deps& deps);

/// mailer_events_total{type}. Errors: storage_unavailable.
Status add_event_counters(metrics::Registry& scrape, store::Database& db);

/// mailer_db_free_bytes, from the file header (O(1)). Errors: storage_unavailable.
Status add_free_page_gauge(metrics::Registry& scrape, store::Database& db);

/// mailer_db_size_bytes and mailer_db_wal_size_bytes of `db_path` (0 when a
/// file does not exist).
void add_database_gauges(metrics::Registry& scrape, const std::string& db_path);

}  // namespace mailer::http
