#include "mailer/service/guard.hpp"

#include <fmt/format.h>

#include "mailer/core/log.hpp"
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

std::optional<std::string> guard_pause_reason(const store::BatchReputation& batch, const GuardConfig& config) {
  if (batch.sent <= 0 || batch.sent < config.min_sample) return std::nullopt;
  double sent = static_cast<double>(batch.sent);
  double bounce_rate = static_cast<double>(batch.permanent_bounces) / sent;
  if (bounce_rate > config.max_bounce_rate) {
    int d = decimals_for(config.max_bounce_rate);
    return fmt::format("reputation guard: bounce rate {} > {} after {} sends", percent(bounce_rate, d),
                       percent(config.max_bounce_rate, d), batch.sent);
  }
  double complaint_rate = static_cast<double>(batch.complaints) / sent;
  if (complaint_rate > config.max_complaint_rate) {
    int d = decimals_for(config.max_complaint_rate);
    return fmt::format("reputation guard: complaint rate {} > {} after {} sends", percent(complaint_rate, d),
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
  log::warn("batch paused", {{"batch_id", batch_id},
                             {"reason", *reason},
                             {"sent", figures->sent},
                             {"permanent_bounces", figures->permanent_bounces},
                             {"complaints", figures->complaints}});
  return reason;
}

}  // namespace mailer::service
