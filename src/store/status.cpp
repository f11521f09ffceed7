#include "mailer/store/status.hpp"

#include <array>
#include <utility>

namespace mailer::store {
namespace {

constexpr std::array<std::pair<MessageState, const char*>, 7> k_message_states{{
    {MessageState::scheduled, "scheduled"},
    {MessageState::queued, "queued"},
    {MessageState::sending, "sending"},
    {MessageState::sent, "sent"},
    {MessageState::failed, "failed"},
    {MessageState::suppressed, "suppressed"},
    {MessageState::cancelled, "cancelled"},
}};

constexpr std::array<std::pair<BatchStatus, const char*>, 6> k_batch_statuses{{
    {BatchStatus::scheduled, "scheduled"},
    {BatchStatus::queued, "queued"},
    {BatchStatus::sending, "sending"},
    {BatchStatus::paused, "paused"},
    {BatchStatus::completed, "completed"},
    {BatchStatus::cancelled, "cancelled"},
}};

template <typename Enum, std::size_t N>
const char* name_in(const std::array<std::pair<Enum, const char*>, N>& table, Enum value) {
  for (const auto& [item, name] : table)
    if (item == value) return name;
  return "unknown";  // unreachable: each table lists every enumerator
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_in(const std::array<std::pair<Enum, const char*>, N>& table, std::string_view text) {
  for (const auto& [item, name] : table)
    if (text == name) return item;
  return std::nullopt;
}

}  // namespace

const char* to_string(MessageState state) { return name_in(k_message_states, state); }
const char* to_string(BatchStatus status) { return name_in(k_batch_statuses, status); }

std::optional<MessageState> parse_message_state(std::string_view text) { return value_in(k_message_states, text); }
std::optional<BatchStatus> parse_batch_status(std::string_view text) { return value_in(k_batch_statuses, text); }

template <typename Enum, std::size_t N>
std::vector<std::string> names_in(const std::array<std::pair<Enum, const char*>, N>& table) {
  std::vector<std::string> names;
  for (const auto& item : table) names.emplace_back(item.second);
  return names;
}

const std::vector<std::string>& message_state_names() {
  static const std::vector<std::string> names = names_in(k_message_states);
  return names;
}

const std::vector<std::string>& batch_status_names() {
  static const std::vector<std::string> names = names_in(k_batch_statuses);
  return names;
}

std::int64_t count_of(const StateCounts& counts, MessageState state) {
  auto it = counts.find(to_string(state));
  return it == counts.end() ? 0 : it->second;
}

BatchStatus batch_status(BatchStatus stored, const StateCounts& counts, std::int64_t suppressed_at_accept) {
  if (stored == BatchStatus::cancelled) return stored;
  std::int64_t queued = count_of(counts, MessageState::queued);
  std::int64_t scheduled = count_of(counts, MessageState::scheduled);
  std::int64_t sending = count_of(counts, MessageState::sending);
  // "A batch is completed when every message is terminal" (docs/ARCHITECTURE.md),
  // paused or not: a pause holds back waiting messages, and none are left.
  if (queued + scheduled + sending == 0) return BatchStatus::completed;
  if (stored == BatchStatus::paused) return stored;
  // Started means some message has left the queue by any path: claimed (sending,
  // sent, failed), cancelled (send_before passed) or suppressed at send time.
  // Counting only claimed messages would leave a batch whose first messages were
  // cancelled or suppressed reading `queued` while its work is under way.
  bool started = sending + count_of(counts, MessageState::sent) + count_of(counts, MessageState::failed) +
                         count_of(counts, MessageState::cancelled) >
                     0 ||
                 count_of(counts, MessageState::suppressed) > suppressed_at_accept;
  if (started) return BatchStatus::sending;
  // A batch's messages share its send_at, so they fall due together; one still
  // waiting for its time keeps the batch scheduled.
  return scheduled > 0 ? BatchStatus::scheduled : BatchStatus::queued;
}

bool is_finished(BatchStatus status) { return status == BatchStatus::completed || status == BatchStatus::cancelled; }

}  // namespace mailer::store
