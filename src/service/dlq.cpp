#include "mailer/service/dlq.hpp"

#include <limits>
#include <set>

#include <fmt/format.h>

#include "mailer/core/json.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/status.hpp"

namespace mailer::service {

Result<store::DlqPage> DlqService::list(int limit, const std::string& cursor) {
  return store::MessageRepo(m_db, m_clock).list_dlq(limit, cursor);
}

Result<DlqRetried> DlqService::retry(const std::vector<std::string>& ids) {
  DlqRetried out;
  store::MessageRepo messages(m_db, m_clock);
  std::set<std::string> seen;
  for (const auto& id : ids) {
    // A repeated id moves one message: counting it twice would report more than was retried.
    if (!seen.insert(id).second) continue;
    auto message = messages.message(id);
    if (!message && message.error().code != ErrorCode::not_found) return std::move(message).error();
    if (!message) out.not_retried.push_back({id, "not found"});
    else if (message->state != store::MessageState::failed)
      out.not_retried.push_back({id, fmt::format("not in the DLQ (state {})", store::to_string(message->state))});
    else out.retried.push_back(id);
  }
  if (out.retried.empty()) return out;
  auto moved = store::MessageRepo(m_db, m_clock).retry_dlq(out.retried);
  if (!moved) return std::move(moved).error();
  return out;
}

Result<int> DlqService::retry_all() { return store::MessageRepo(m_db, m_clock).retry_dlq_all(); }

Result<int> DlqService::purge(const DlqPurgeScope& scope) {
  if (!scope.all && !scope.failed_before_ms)
    return Error{ErrorCode::invalid_input,
                 "purge needs older_than, or all to purge every failed message",
                 {{"older_than", "required unless all is given"}}};
  if (scope.all && scope.failed_before_ms)
    return Error{
        ErrorCode::invalid_input, "purge takes older_than or all, not both", {{"older_than", "not allowed with all"}}};
  // purge_dlq deletes failed_at_ms < cut-off, so the largest value takes every one.
  return store::MessageRepo(m_db, m_clock)
      .purge_dlq(scope.failed_before_ms.value_or(std::numeric_limits<std::int64_t>::max()));
}

nlohmann::json to_json(const store::DlqEntry& e) {
  return {{"id", e.id},
          {"batch_id", e.batch_id ? nlohmann::json(*e.batch_id) : nlohmann::json(nullptr)},
          {"kind", store::to_string(e.kind)},
          {"email", e.email},
          {"attempts", e.attempts},
          {"last_error_code", e.last_error_code},
          {"last_error", e.last_error},
          {"failed_at", format_rfc3339(e.failed_at_ms)}};
}

}  // namespace mailer::service
