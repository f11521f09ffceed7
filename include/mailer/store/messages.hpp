#pragma once
// The durable job table (schema `messages`): storing and reading single
// messages (transactional sends; bulk rows are created with their batch by
// store/batches.hpp), claiming due messages under a lease, recording outcomes with a fencing token, the reaper's
// periodic sweeps, and the dead-letter queue (SPEC §4, docs/ARCHITECTURE.md).
//
// Every state change goes through SQL UPDATEs, so the batch_counts triggers
// keep per-batch counts exact in the same transaction. One MessageRepo per
// connection, one connection per thread.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/attachment.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/destinations.hpp"
#include "mailer/store/events.hpp"
#include "mailer/store/status.hpp"

namespace mailer::store {

enum class MessageKind { bulk, transactional };

// Declared in full, with its to_string, in store/suppressions.hpp, which
// includes this header for MessageKind.
enum class SuppressionReason;
/// "bulk" | "transactional".
const char* to_string(MessageKind kind);

/// A transactional message to store. Content is always copied into the row
/// (also when it came from a template, whose id and version are kept for
/// reference), so deleting the template later cannot break the send.
struct NewMessage {
  std::string email;                 // normalized; the one To address when `destinations` is empty
  std::string key;                   // suppression key of `email`
  Destinations destinations;         // normalized, 1 to 50 in all; empty: just `email`
  std::string headers_json = "{}";   // custom headers, checked (render::store_headers)
  std::string metadata_json = "{}";  // checked (render::message_metadata)
  std::string variables_json = "{}";
  std::optional<std::string> template_id;
  std::optional<int> template_version;
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  std::string from_address;
  std::string reply_to_json = "[]";
  std::string tags_json = "{}";
  std::optional<std::string> configuration_set;
  std::vector<Attachment> attachments;  // checked (render::message_attachments); own rows (schema 0013)
};

/// What insert_message() stored.
struct CreatedMessage {
  std::string id;                             // "msg_…"
  MessageState state = MessageState::queued;  // or `suppressed`, with a SUPPRESSED event
  std::vector<DroppedRecipient> dropped;      // addresses left out, each with a SUPPRESSED event
};

/// One message with its events, for GET /v1/messages/{id}.
struct Message {
  std::string id;
  std::optional<std::string> batch_id;
  MessageKind kind = MessageKind::bulk;
  MessageState state = MessageState::queued;
  bool paused = false;
  std::string email;
  std::optional<std::string> template_id;
  std::optional<int> template_version;
  int attempts = 0;
  std::int64_t run_at_ms = 0;
  std::optional<std::string> last_error_code;
  std::optional<std::string> last_error;
  std::optional<std::string> ses_message_id;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::int64_t> sent_at_ms;
  std::optional<std::int64_t> failed_at_ms;
  // Stored JSON (schema 0007); nullopt on bulk rows and rows stored before it.
  std::optional<std::string> destinations_json;
  std::optional<std::string> suppressed_json;
  std::optional<std::string> headers_json;
  std::optional<std::string> metadata_json;
  std::vector<Event> events;  // oldest first
};

/// Which messages claim() may take. `transactional_only` while bulk sending is
/// held back (SES daily quota nearly spent).
enum class ClaimScope { all, transactional_only };

/// A message claimed for sending: state `sending` under `lease_token` until
/// `lease_expires_ms`. Carries all a worker needs to render and send.
struct ClaimedMessage {
  std::string id;                       // "msg_…"
  std::optional<std::string> batch_id;  // bulk only
  MessageKind kind = MessageKind::bulk;
  std::string email;                  // normalized address
  std::string variables_json = "{}";  // recipient (bulk) or message (transactional) variables
  int attempts = 0;                   // tries so far, this one included (1 = first try)
  std::int64_t lease_token = 0;
  std::int64_t lease_expires_ms = 0;
  // The message's own content and options (transactional; NULL for bulk, which
  // takes its batch's, read through BatchRepo).
  std::optional<std::string> template_id;
  std::optional<std::int64_t> template_version;
  std::optional<std::string> subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  std::optional<std::string> from_address;
  std::optional<std::string> reply_to_json;
  std::optional<std::string> tags_json;
  std::optional<std::string> configuration_set;
  std::optional<std::string> destinations_json;  // read_destinations; nullopt: `email` alone
  std::optional<std::string> headers_json;       // render::read_headers; nullopt: none
  /// The reason of the suppression that blocks this message now, if any.
  /// Transactional mail is blocked only by scope `all`, bulk mail by scopes
  /// `all` and `bulk` (SPEC §6: unsubscribe is bulk only). A message with
  /// destinations is blocked when every one of them is.
  std::optional<SuppressionReason> suppression_reason;
  /// Destinations suppressed since acceptance, left out of this send.
  std::vector<DroppedRecipient> dropped;
};

/// What a worker learned about one claimed message; record() applies it.
struct Outcome {
  enum class Kind {
    sent,         // state sent, ses_message_id, sent_at_ms; event SENT
    retry,        // state queued at run_at_ms; event DEFERRED
    dead_letter,  // state failed, failed_at_ms, last error; event FAILED
    suppressed,   // state suppressed; event SUPPRESSED {"reason"}
    cancelled,    // state cancelled (send_before passed); no event
  };
  Kind kind = Kind::sent;
  std::string message_id;
  std::int64_t lease_token = 0;  // the claim's token: the fence
  std::string ses_message_id;    // sent
  std::int64_t run_at_ms = 0;    // retry
  /// retry only: false when this try must not count (throttling, daily quota),
  /// so attempts goes back down by one.
  bool attempt_consumed = true;
  std::string error_code;  // retry/dead_letter: SES code or ErrorCode name
  std::string error;       // retry/dead_letter: human detail; suppressed: the reason
  /// sent only: destinations left out (ClaimedMessage::dropped), each
  /// recorded as a SUPPRESSED event {"reason","field"} naming the address.
  std::vector<DroppedRecipient> dropped;
};

/// Whether an outcome changed its message: `stale` when the message no longer
/// carries that lease token (the lease expired and someone else claimed it, or
/// it was released) — the newer claim wins and nothing is written.
enum class Recorded { applied, stale };

struct BatchStatusChange {
  std::string batch_id;
  BatchStatus from;  // the stored status before
  BatchStatus to;    // the status batch_status() gives now
};

/// A failed message as the DLQ shows it.
struct DlqEntry {
  std::string id;
  std::optional<std::string> batch_id;
  MessageKind kind = MessageKind::bulk;
  std::string email;
  int attempts = 0;
  std::string last_error_code;
  std::string last_error;
  std::int64_t failed_at_ms = 0;
};

struct DlqPage {
  std::vector<DlqEntry> entries;  // oldest failure first
  std::string next_cursor;        // empty on the last page
};

class MessageRepo {
 public:
  MessageRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Stores a transactional message (kind transactional, priority 0, no batch)
  /// with run_at now. Each destination blocked by a suppression of scope all
  /// is left out, listed in suppressed_json and gets a SUPPRESSED event; when
  /// none is left the message is `suppressed`, else `queued`, its `email` the
  /// first destination kept. Errors: storage_unavailable.
  Result<CreatedMessage> insert_message(const NewMessage& message);
  /// insert_message() for each of `messages` in ONE transaction: all are
  /// stored or none. Answers in order.
  Result<std::vector<CreatedMessage>> insert_messages(const std::vector<NewMessage>& messages);
  /// A message with its events. Errors: not_found.
  Result<Message> message(const std::string& id);

  /// Claims up to `max` due messages (state queued, not paused, run_at_ms <=
  /// `now_ms`), transactional before bulk (priority), then oldest run_at first,
  /// in one BEGIN IMMEDIATE transaction: each becomes `sending` with a fresh
  /// random 63-bit lease_token, lease_expires_ms = now_ms + `lease_ms`, and
  /// attempts + 1. Errors: storage_unavailable.
  Result<std::vector<ClaimedMessage>> claim(int max, std::int64_t now_ms, std::int64_t lease_ms,
                                            ClaimScope scope = ClaimScope::all);

  /// Applies `outcomes` in ONE transaction (group commit), each only where the
  /// message is still `sending` under the outcome's lease_token; the answer
  /// says, in order, which applied. Events get the batch, message, address and a
  /// JSON detail ({"ses_message_id"}, {"error_code","error","attempt","retry_at_ms"},
  /// {"error_code","error","attempts"}, {"reason"}). Errors: storage_unavailable
  /// (nothing applied: retry the whole group); internal.
  Result<std::vector<Recorded>> record(const std::vector<Outcome>& outcomes);

  /// What record_and_claim() did.
  struct Cycle {
    std::vector<Recorded> recorded;       // one per outcome, in order
    std::vector<ClaimedMessage> claimed;  // as claim() returns them
  };
  /// record(`outcomes`), then claim(`max`, ...), in ONE transaction: the job
  /// engine's round, one commit where two would take turns at the write lock.
  /// Outcomes are stamped `now_ms`. `max` <= 0 claims nothing. Errors:
  /// storage_unavailable (nothing applied, nothing claimed); internal.
  Result<Cycle> record_and_claim(const std::vector<Outcome>& outcomes, int max, std::int64_t now_ms,
                                 std::int64_t lease_ms, ClaimScope scope = ClaimScope::all);

  /// Returns messages stuck in `sending` with lease_expires_ms < `now_ms` (a
  /// crash, a hung worker) to `queued`, lease cleared. Returns how many.
  Result<int> requeue_expired(std::int64_t now_ms);

  /// Gives unsent claims back (shutdown): each message still `sending` under
  /// its token returns to `queued` with the attempt uncounted. Returns how many.
  struct Claim {
    std::string message_id;
    std::int64_t lease_token = 0;
  };
  Result<int> release(const std::vector<Claim>& claims);

  /// `scheduled` messages with run_at_ms <= `now_ms` become `queued`. Returns how many.
  Result<int> promote_scheduled(std::int64_t now_ms);

  /// Messages still `queued` or `scheduled` in batches whose send_before_ms <
  /// `now_ms` become `cancelled` (SPEC §4: cancel rather than send late).
  /// Returns how many.
  Result<int> expire_send_before(std::int64_t now_ms);

  /// Stores batch_status() (store/status.hpp) for every batch stored as
  /// scheduled, queued, sending or paused whose counts now say otherwise, with
  /// completed_at_ms set when it becomes completed. Each change is returned
  /// once (the next call does not repeat it).
  Result<std::vector<BatchStatusChange>> update_batch_statuses();

  /// Failed messages ordered by (failed_at_ms, id), `limit` (1..1000) per page,
  /// after `cursor` (empty = from the start; else a next_cursor from a previous
  /// page). Errors: invalid_input with field "cursor" or "limit".
  Result<DlqPage> list_dlq(int limit, const std::string& cursor = {});

  /// Failed messages `ids` (others are skipped) go back to `queued` with
  /// attempts 0 and run_at now; their batches' statuses follow (a completed
  /// one is not completed any more, and loses its completed_at).
  /// Returns how many were moved.
  Result<int> retry_dlq(const std::vector<std::string>& ids);
  /// Like retry_dlq for every failed message.
  Result<int> retry_dlq_all();

  /// Deletes failed messages with failed_at_ms < `older_than_ms`, keeping
  /// batch_counts exact (their `state:failed` counts go down). Returns how many.
  Result<int> purge_dlq(std::int64_t older_than_ms);

  /// How many messages are in each state ("queued" -> 12, …; zero states
  /// omitted), for GET /v1/admin/queue. Cheap on a big table: batch messages
  /// are summed from batch_counts, transactional ones counted through the
  /// messages_by_batch index (batch_id IS NULL). Errors: storage_unavailable.
  Result<std::map<std::string, std::int64_t>> count_by_state();

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
