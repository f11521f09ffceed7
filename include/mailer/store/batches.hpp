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

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"
#include "mailer/store/page.hpp"

namespace mailer::store {

/// A batch as stored. `state_counts` maps a message state ("queued", "sent", …)
/// and `event_counts` an event type ("SENT", "BOUNCE", …) to its count; both
/// are filled by get() and list() from batch_counts, zero counts omitted.
struct Batch {
  std::string id;                                // "bat_…"
  std::string status;                            // logical status, see batch_status()
  std::optional<std::string> template_id;        // set, or the inline subject/html/text
  std::optional<int> template_version;
  std::optional<std::string> subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  std::string from_address;                      // as given (display name kept)
  std::string reply_to_json = "[]";
  std::string variables_json = "{}";
  std::string metadata_json = "{}";
  std::string tags_json = "{}";
  std::optional<std::string> configuration_set;
  std::optional<std::int64_t> send_at_ms;
  std::optional<std::int64_t> send_before_ms;
  std::optional<std::string> pause_reason;
  std::int64_t accepted_count = 0;               // messages to send (not suppressed)
  std::int64_t invalid_count = 0;
  std::int64_t duplicate_count = 0;
  std::int64_t suppressed_count = 0;             // suppressed at accept time
  std::string invalid_json = "[]";               // [{index, address, reason}] skipped
  std::optional<std::string> api_key_id;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::int64_t> completed_at_ms;
  std::map<std::string, std::int64_t> state_counts;
  std::map<std::string, std::int64_t> event_counts;
};

/// One unique, valid recipient of a new batch, in request order.
struct NewRecipient {
  int index = 0;                 // position in the request's recipients array
  std::string email;             // normalized address (render::normalize_address)
  std::string key;               // render::suppression_key(email)
  std::string variables_json;    // the recipient's own variables ("{}" when none)
};

/// A recipient's message row, for GET /v1/batches/{id}/recipients.
struct Recipient {
  std::string message_id;
  int index = 0;
  std::string email;
  std::string state;
  bool paused = false;
  int attempts = 0;
  std::optional<std::string> last_error_code;
  std::optional<std::string> last_error;
  std::optional<std::string> ses_message_id;
  std::optional<std::int64_t> sent_at_ms;
  std::int64_t updated_at_ms = 0;
};

/// The logical status of a batch from its stored status and counts:
///   cancelled                         stays cancelled;
///   no message scheduled/queued/sending -> completed (also when paused);
///   paused                            stays paused;
///   any message sending, sent, failed or cancelled, or suppressed after
///   acceptance (state:suppressed > suppressed_count) -> sending;
///   otherwise queued when a message is queued, else scheduled.
std::string batch_status(const std::string& stored, const std::map<std::string, std::int64_t>& state_counts,
                         std::int64_t suppressed_at_accept);

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
  /// Errors: storage_unavailable; conflict when the id exists.
  Status insert_batch(Batch& batch, const std::vector<NewRecipient>& recipients);

  /// Errors: not_found.
  Result<Batch> get(const std::string& id);
  /// Newest first; `after` is the last id seen; `status` filters the stored status.
  Result<Page<Batch>> list(const PageQuery& page, const std::optional<std::string>& status);
  /// Messages of batch `id` in id (= request) order; `state` filters.
  /// Errors: not_found for an unknown batch.
  Result<Page<Recipient>> recipients(const std::string& id, const PageQuery& page,
                                     const std::optional<std::string>& state);

  /// Stops claiming: status paused with `reason`, paused=1 on its queued and
  /// scheduled messages (in-flight sends finish). Errors: not_found; conflict
  /// when completed, cancelled or already paused.
  Result<Batch> pause(const std::string& id, const std::string& reason);
  /// Clears paused on every message; status from batch_status(). Errors:
  /// not_found; conflict when not paused.
  Result<Batch> resume(const std::string& id);
  /// Every queued or scheduled message becomes cancelled; status cancelled.
  /// Messages being sent finish. Errors: not_found; conflict when completed or
  /// already cancelled.
  Result<Batch> cancel(const std::string& id);
  /// Stores batch_status() (and completed_at_ms when it becomes completed); for
  /// the job engine after a message of the batch turns terminal. Returns the status.
  Result<std::string> refresh_status(const std::string& id);


 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
