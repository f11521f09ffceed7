#include "mailer/service/guard.hpp"

#include <fmt/format.h>

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/store/batches.hpp"

namespace mailer::service {

namespace {

std::string percent(double rate, int decimals) { return fmt::format("{:.{}f}%", rate * 100.0, decimals); }

// Complaint limits are a tenth of a percent, so they need more digits to read.
int decimals_for(double limit) { return limit < 0.01 ? 2 : 1; }

bool is_active(store::BatchStatus status) {
  using store::BatchStatus;
  return status == BatchStatus::scheduled || status == BatchStatus::queued || status == BatchStatus::sending;
}

}  // namespace

GuardRates guard_rates(const store::BatchReputation& batch, const GuardConfig& config) {
  if (batch.sent <= 0) return {};
  double sent = static_cast<double>(batch.sent);
  return {static_cast<double>(batch.permanent_bounces) / sent, static_cast<double>(batch.complaints) / sent,
          batch.sent >= config.min_sample};
}

bool is_guard_pause_reason(std::string_view reason) { return reason.starts_with(k_guard_reason_prefix); }

std::optional<std::string> guard_pause_reason(const store::BatchReputation& batch, const GuardConfig& config) {
  auto [bounce_rate, complaint_rate, judged] = guard_rates(batch, config);
  if (!judged) return std::nullopt;
  if (bounce_rate > config.max_bounce_rate) {
    int d = decimals_for(config.max_bounce_rate);
    return fmt::format("{} bounce rate {} > {} after {} sends", k_guard_reason_prefix, percent(bounce_rate, d),
                       percent(config.max_bounce_rate, d), batch.sent);
  }
  if (complaint_rate > config.max_complaint_rate) {
    int d = decimals_for(config.max_complaint_rate);
    return fmt::format("{} complaint rate {} > {} after {} sends", k_guard_reason_prefix, percent(complaint_rate, d),
                       percent(config.max_complaint_rate, d), batch.sent);
  }
  return std::nullopt;
}

Result<std::optional<std::string>> check_batch_reputation(store::Database& db, const Clock& clock,
                                                          const GuardConfig& config, const std::string& batch_id) {
  auto figures = store::FeedbackRepo(db, clock).batch_reputation(batch_id);
  if (!figures) return std::move(figures).error();
  if (!is_active(figures->status)) return std::optional<std::string>();
  auto reason = guard_pause_reason(*figures, config);
  if (!reason) return std::optional<std::string>();
  auto paused = store::BatchRepo(db, clock).pause(batch_id, *reason);
  if (!paused) {
    // NOTE: the batch finished or was paused between the read and the pause.
    if (paused.error().code == ErrorCode::conflict) return std::optional<std::string>();
    return std::move(paused).error();
  }
  metrics::count_guard_pause();
  log::warn("batch paused", {{"batch_id", batch_id},
                             {"reason", *reason},
                             {"sent", figures->sent},
                             {"permanent_bounces", figures->permanent_bounces},
                             {"complaints", figures->complaints}});
  return reason;
}

}  // namespace mailer::service
