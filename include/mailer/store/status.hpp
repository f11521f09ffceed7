#pragma once
// The states of a message and the statuses of a batch (SPEC §3, §4;
// docs/ARCHITECTURE.md "The message state machine"), their one spelling as
// text (the database, the API, mailerctl), and the one rule that derives a
// batch's status from the states of its messages.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailer::store {

/// Where a message is in its life. Terminal: sent, failed, suppressed, cancelled.
enum class MessageState { scheduled, queued, sending, sent, failed, suppressed, cancelled };

/// What a batch is doing, as GET /v1/batches shows and filters it.
enum class BatchStatus { scheduled, queued, sending, paused, completed, cancelled };

/// "scheduled", "queued", "sending", "sent", "failed", "suppressed", "cancelled".
const char* to_string(MessageState state);
/// "scheduled", "queued", "sending", "paused", "completed", "cancelled".
const char* to_string(BatchStatus status);

/// The state named `text` (exact, lower case), or nullopt for any other text.
std::optional<MessageState> parse_message_state(std::string_view text);
/// The status named `text` (exact, lower case), or nullopt for any other text.
std::optional<BatchStatus> parse_batch_status(std::string_view text);

/// Every name to_string() gives, in declaration order (help and error texts).
const std::vector<std::string>& message_state_names();
const std::vector<std::string>& batch_status_names();

/// Messages of one batch per state, keyed by to_string(MessageState) as the
/// batch_counts table keeps them ("state:<name>"); absent means zero.
using StateCounts = std::map<std::string, std::int64_t>;
/// How many messages of `counts` are in `state` (0 when absent).
std::int64_t count_of(const StateCounts& counts, MessageState state);

/// The status of a batch from its stored status (only `paused` and
/// `cancelled` are decisions kept there; the others are derived), the state
/// of each of its messages, and how many were suppressed at accept:
///   cancelled                                      -> cancelled;
///   no message scheduled, queued or sending        -> completed (also when paused);
///   paused                                         -> paused;
///   any message sending, sent, failed, cancelled,
///   or suppressed at send time                     -> sending;
///   otherwise scheduled while a message is scheduled, else queued.
/// Reads, the list filter, the reaper, pause, resume and cancel all use it.
BatchStatus batch_status(BatchStatus stored, const StateCounts& counts, std::int64_t suppressed_at_accept);

/// Whether `status` is final for sending: completed or cancelled. Exactly
/// these statuses carry a completed_at time.
bool is_finished(BatchStatus status);

}  // namespace mailer::store
