#include "mailer/jobs/retention.hpp"

#include "jobs/engine_support.hpp"
#include "mailer/store/idempotency.hpp"

namespace mailer::jobs {
namespace {

constexpr std::int64_t k_day_ms = 24LL * 3600 * 1000;

// One kind to its end, chunk by chunk. False when a chunk failed (`error` set).
bool prune_kind(store::RetentionRepo& repo, store::PruneKind kind, std::int64_t before_ms, store::PruneMode mode,
                const PrunePacing& pacing, store::PruneCursor& cursor, std::stop_token stop, PruneReport& report) {
  cursor.done = false;
  auto& rows = report.rows[kind];
  while (!cursor.done) {
    if (stop.stop_requested()) {
      report.stopped = true;
      return false;
    }
    auto chunk = repo.prune_chunk(kind, before_ms, mode, pacing.chunk_rows, cursor);
    if (!chunk) {
      report.error = std::move(chunk).error();
      return false;
    }
    rows += *chunk;
    if (!cursor.done && pacing.pause.count() > 0) wait_or_stop(stop, pacing.pause);
  }
  return true;
}

}  // namespace

std::map<store::PruneKind, std::int64_t> prune_cutoffs(const RetentionConfig& config, std::int64_t now_ms) {
  using store::PruneKind;
  std::map<PruneKind, std::int64_t> cutoffs;
  auto by_days = [&](PruneKind kind, int days) {
    if (days > 0) cutoffs[kind] = now_ms - days * k_day_ms;
  };
  by_days(PruneKind::message_content, config.message_content_days);
  by_days(PruneKind::messages, config.messages_days);
  by_days(PruneKind::dlq, config.dlq_days);
  by_days(PruneKind::events, config.events_days);
  by_days(PruneKind::api_key_audit, config.audit_days);
  cutoffs[PruneKind::sns_messages] = now_ms - store::k_sns_message_retention_ms;
  cutoffs[PruneKind::idempotency_keys] = now_ms - store::k_idempotency_ttl_ms;
  return cutoffs;
}

PruneReport run_prune_pass(store::Database& db, const RetentionConfig& config, std::int64_t now_ms,
                           store::PruneMode mode, const PrunePacing& pacing, PruneState& state, std::stop_token stop) {
  store::RetentionRepo repo(db);
  PruneReport report;
  const auto cutoffs = prune_cutoffs(config, now_ms);
  for (auto kind : store::prune_kinds()) {
    auto cutoff = cutoffs.find(kind);
    if (cutoff == cutoffs.end()) continue;
    store::PruneCursor fresh;
    const bool carried = kind == store::PruneKind::message_content && mode == store::PruneMode::remove;
    auto& cursor = carried ? state.content : fresh;
    if (!prune_kind(repo, kind, cutoff->second, mode, pacing, cursor, stop, report)) break;
  }
  return report;
}

}  // namespace mailer::jobs
