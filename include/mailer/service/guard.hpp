#pragma once
// The reputation guard (SPEC §6): SES reviews an account whose bounce rate
// passes 5 % or complaint rate 0.1 %, so a batch that drives either rate over
// the configured limit (after `guard.min_sample` sends) is paused with a
// reason instead of finishing the damage. An operator's resume clears the
// reason and re-arms the guard, which looks again on the next hard bounce or
// complaint.

#include <optional>
#include <string>
#include <string_view>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/feedback.hpp"

namespace mailer::service {

/// What the guard judges a batch by: hard-bounce rate = permanent_bounces /
/// sent, complaint rate = complaints / sent (fractions, 0 when nothing was
/// sent); `judged` is false below `min_sample` sends, where the guard never
/// pauses. The one place these rates are computed for the guard.
struct GuardRates {
  double bounce_rate = 0;
  double complaint_rate = 0;
  bool judged = false;
};
GuardRates guard_rates(const store::BatchReputation& batch, const GuardConfig& config);

/// The prefix of every reason the guard pauses a batch with.
inline constexpr std::string_view k_guard_reason_prefix = "reputation guard:";

/// True when a batch's pause reason was written by the guard.
bool is_guard_pause_reason(std::string_view reason);

/// The pause reason when `batch` is over a limit of `config`, else nullopt.
/// Hard-bounce rate = permanent_bounces / sent, complaint rate = complaints /
/// sent; nothing is judged below `min_sample` sends. Example:
/// "reputation guard: bounce rate 7.5% > 5.0% after 400 sends".
std::optional<std::string> guard_pause_reason(const store::BatchReputation& batch, const GuardConfig& config);

/// Reads `batch_id`'s figures and pauses it when guard_pause_reason says so and
/// it is still active (scheduled, queued, sending). Returns the reason when it
/// paused the batch now, nullopt otherwise. Logs a pause at warn level.
/// Errors: storage_unavailable; not_found.
Result<std::optional<std::string>> check_batch_reputation(store::Database& db, const Clock& clock,
                                                          const GuardConfig& config, const std::string& batch_id);

}  // namespace mailer::service
