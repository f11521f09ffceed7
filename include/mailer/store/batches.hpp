#pragma once
// Accepted batches with one message row per recipient (SPEC §3, §4): this
// file creates them and answers the API's reads (batch status and counts,
// recipients). Single messages, transactional ones included, and the job
// engine's claiming and recording live in store/messages.hpp.
//
// Counts never count rows: the schema's triggers keep batch_counts exact in the
// transaction that changes a message state or adds an event.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/attachment.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/engagement.hpp"
#include "mailer/store/events.hpp"
#include "mailer/store/page.hpp"
#include "mailer/store/status.hpp"

namespace mailer::store {

/// A batch as stored. `state_counts` maps a message state ("queued", "sent", …)
/// and `event_counts` an event type ("SENT", "BOUNCE", …) to its count; both
/// are filled by get() and list() from batch_counts, zero counts omitted.
/// `engagement` (from batch_counts too) and `top_links` (its k_top_links most
/// clicked links, from batch_links) are filled by every read that returns a
/// Batch: get(), list(), pause(), resume(), cancel().
struct Batch {
  std::string id;                            // "bat_…"
  BatchStatus status = BatchStatus::queued;  // see batch_status() in status.hpp
  std::optional<std::string> template_id;    // set, or the inline subject/html/text
  std::optional<int> template_version;
  std::optional<std::string> subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  std::string from_address;  // as given (display name kept)
  std::string reply_to_json = "[]";
  std::string variables_json = "{}";
  std::string metadata_json = "{}";
  std::string tags_json = "{}";
  std::optional<std::string> configuration_set;
  std::optional<std::string> contact_list_name;  // SES list management; topic_name only with it
  std::optional<std::string> topic_name;
  std::optional<std::int64_t> send_at_ms;
  std::optional<std::int64_t> send_before_ms;
  std::optional<std::string> pause_reason;
  std::int64_t accepted_count = 0;  // messages to send (not suppressed)
  std::int64_t invalid_count = 0;
  std::int64_t duplicate_count = 0;
  std::int64_t suppressed_count = 0;  // suppressed at accept time
  std::string invalid_json = "[]";    // [{index, address, reason}] skipped
  std::optional<std::string> api_key_id;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::int64_t> completed_at_ms;
  StateCounts state_counts;
  std::map<std::string, std::int64_t> event_counts;
  EngagementCounts engagement;  // sent = messages in state sent
  std::vector<LinkClicks> top_links;
};

/// One unique, valid recipient of a new batch, in request order.
struct NewRecipient {
  int index = 0;               // position in the request's recipients array
  std::string email;           // normalized address (render::normalize_address)
  std::string key;             // render::suppression_key(email)
  std::string variables_json;  // the recipient's own variables ("{}" when none)
};

/// A recipient's message row, for GET /v1/batches/{id}/recipients.
struct Recipient {
  std::string message_id;
  int index = 0;
  std::string email;
  MessageState state = MessageState::queued;
  bool paused = false;
  int attempts = 0;
  std::optional<std::string> last_error_code;
  std::optional<std::string> last_error;
  std::optional<std::string> ses_message_id;
  std::optional<std::int64_t> sent_at_ms;
  std::int64_t updated_at_ms = 0;
};

class BatchRepo {
 public:
  BatchRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Stores `batch` (id, content, counts of invalid and duplicate set by the
  /// caller) and one message per recipient in ONE transaction (BEGIN
  /// IMMEDIATE, committed with fsync). Each recipient whose key is on the
  /// suppression list (either scope: bulk mail honours both) gets a message in
  /// state `suppressed` and a SUPPRESSED event; the others are `scheduled` with
  /// run_at = send_at when send_at is after now, else `queued` with run_at = now;
  /// kind bulk, priority 1. Fills accepted/suppressed counts, status
  /// (completed when nothing is left to send) and times into `batch`.
  /// `attachments` (checked by render::message_attachments) are stored once,
  /// owned by the batch, in the same transaction; every message of the batch
  /// is sent with them (store/attachments.hpp).
  /// Errors: storage_unavailable; conflict when the id exists.
  Status insert_batch(Batch& batch, const std::vector<NewRecipient>& recipients,
                      const std::vector<Attachment>& attachments = {});

  /// The batch with its counts and batch_status(). A stored status that lags
  /// behind the counts (the reaper runs once a second) is stored on the way,
  /// completed_at included, so a batch read as completed has its completed_at.
  /// Errors: not_found.
  Result<Batch> get(const std::string& id);
  /// Newest first; `after` is the last id seen. `status` filters on the status
  /// shown (batch_status()), so every batch listed under a status reads as it;
  /// with a filter, batches are scanned until the page is full. Lagging stored
  /// statuses of the batches returned are stored as in get().
  Result<Page<Batch>> list(const PageQuery& page, std::optional<BatchStatus> status);
  /// Messages of batch `id` in id (= request) order; `state` filters.
  /// Errors: not_found for an unknown batch.
  Result<Page<Recipient>> recipients(const std::string& id, const PageQuery& page, std::optional<MessageState> state);

  /// Stops claiming: status paused with `reason`, paused=1 on its queued and
  /// scheduled messages (in-flight sends finish). Errors: not_found; conflict
  /// when completed, cancelled or already paused.
  Result<Batch> pause(const std::string& id, const std::string& reason);
  /// Clears paused on every message; status from batch_status() as if never
  /// paused. Errors:
  /// not_found; conflict when not paused.
  Result<Batch> resume(const std::string& id);
  /// Every queued or scheduled message becomes cancelled; status cancelled.
  /// Messages being sent finish. Errors: not_found; conflict when completed or
  /// already cancelled.
  Result<Batch> cancel(const std::string& id);

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
