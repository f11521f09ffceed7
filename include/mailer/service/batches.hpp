#pragma once
// Batches (SPEC §3 "Batch request"): validate, normalize, de-duplicate and
// store a bulk send in one durable transaction; then read, page, pause,
// resume and cancel it. Used by POST/GET /v1/batches… and `mailerctl batches|send`.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/database.hpp"

namespace mailer::service {

/// Inline message content (each part a mustache template; html or text required).
struct ContentInput {
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

/// SES list management of a batch (SendEmail's ListManagementOptions).
struct ListManagementInput {
  std::string contact_list_name;
  std::optional<std::string> topic_name;
};

/// SES's rule for a contact list or topic name (AWS::SES::ContactList:
/// ^[a-zA-Z0-9_-]{1,64}$): "" when `name` follows it, else the rule worded
/// for an error message. What accept_batch checks list_management with.
std::string ses_list_name_problem(std::string_view name);

struct RecipientInput {
  std::string email;
  nlohmann::json variables;  // object, or null for none
};

/// POST /v1/batches, field for field. JSON values stay JSON where their shape
/// is checked here (variables, metadata, tags) so that every problem is
/// reported at once; the caller only maps JSON types onto this struct.
struct BatchRequest {
  std::optional<std::string> template_id;
  std::optional<int> template_version;  // default: the template's current version
  std::optional<ContentInput> content;  // instead of template_id
  std::string from;                     // "Name <addr>" or "addr"
  std::vector<std::string> reply_to;
  nlohmann::json variables;  // object or null; per-recipient ones override
  std::vector<RecipientInput> recipients;
  nlohmann::json metadata;  // object or null; stored, never sent
  nlohmann::json tags;      // object of SES tag name -> value, or null
  nlohmann::json attachments;  // array of files sent to every recipient, or null
  std::optional<std::string> configuration_set;
  std::optional<ListManagementInput> list_management;  // SES handles unsubscribes
  std::optional<std::string> send_at;      // RFC 3339
  std::optional<std::string> send_before;  // RFC 3339, after send_at (and after now)
  bool skip_invalid = false;
};

struct AcceptOptions {
  int max_recipients = 100000;            // limits.max_recipients
  bool unsubscribe_secret_set = false;    // unsubscribe.secret configured
  std::optional<std::string> api_key_id;  // recorded on the batch
};

struct InvalidRecipient {
  int index = 0;
  std::string address;  // as given
  std::string reason;   // render::normalize_address's detail
};

/// The 202 body. Every recipient index is counted exactly once:
/// recipients = accepted + suppressed + duplicate + invalid.size().
struct BatchAccepted {
  std::string id;                                          // "bat_…"
  store::BatchStatus status = store::BatchStatus::queued;  // queued | scheduled | completed (nothing to send)
  std::int64_t accepted = 0;                               // messages that will be sent
  std::int64_t duplicate = 0;                              // later repeats of an address (same suppression key)
  std::int64_t suppressed = 0;                             // on the suppression list (stored, SUPPRESSED event)
  std::vector<InvalidRecipient> invalid;                   // skipped (skip_invalid: true)
};

/// The one rule on a batch's size: at most `max_recipients` (limits.max_recipients)
/// entries. Errors: too_large, detail "batch has N recipients; limits.max_recipients
/// is M", field "recipients". Checked on the count alone, before any entry is read.
Status check_recipient_count(std::size_t count, int max_recipients);

class BatchService {
 public:
  BatchService(store::Database& db, const Clock& clock, OnEnqueued on_enqueued = {})
      : m_db(db), m_clock(clock), m_on_enqueued(std::move(on_enqueued)) {}

  /// Validates `request` and stores the batch durably (one BEGIN IMMEDIATE
  /// transaction on a synchronous=FULL connection: on success it is on disk).
  /// Errors:
  ///  - conflict "bulk mail needs unsubscribe.secret …" when !options.unsubscribe_secret_set
  ///    and the batch has no list_management (SES then sends the unsubscribe links);
  ///  - too_large (field "recipients") over options.max_recipients, naming the limit;
  ///  - invalid_input "batch request is invalid" with every problem at once, fields:
  ///    from, reply_to[i], template_id (neither given / not found), content (both
  ///    given), template_version, content.subject|html|text (syntax, with position),
  ///    variables, recipients (empty, or no valid one left), recipients[i].email
  ///    (each invalid address, unless skip_invalid), recipients[i].variables
  ///    (also when they make that recipient's rendered subject unsendable, as
  ///    render::render_subject reports it; skip_invalid does not skip these),
  ///    metadata, tags / tags.<name>, configuration_set, list_management.contact_list_name,
  ///    list_management.topic_name, send_at, send_before,
  ///    attachments / attachments[i].<member> (render::message_attachments);
  ///  - too_large when the attachments are too large (413; fields as above);
  ///    the files are stored once for the batch, not per recipient;
  ///  - storage_unavailable.
  /// Calls on_enqueued after the commit.
  ///
  /// Takes the request by value: each recipient's variables are released as
  /// soon as they are checked and kept as JSON text, so that a large batch is
  /// not held twice (as JSON values and as the rows to store) while it is
  /// stored. Callers that are done with the request move it in.
  Result<BatchAccepted> accept_batch(BatchRequest request, const AcceptOptions& options);

  /// Status (store::batch_status rules), counts per state and event type, and
  /// the accept-time counts. Errors: not_found.
  Result<store::Batch> get(const std::string& id);
  /// Newest first; `status` filters (one of the six batch statuses, else
  /// invalid_input field "status"). Paging errors as to_page_query().
  Result<ListPage<store::Batch>> list(const PageParams& page, const std::optional<std::string>& status);
  /// Its messages in request order; `state` filters (field "state").
  Result<ListPage<store::Recipient>> recipients(const std::string& id, const PageParams& page,
                                                const std::optional<std::string>& state);
  /// See store::BatchRepo::pause/resume/cancel (not_found, conflict). `reason`
  /// defaults to "paused by operator". resume() calls on_enqueued.
  Result<store::Batch> pause(const std::string& id, const std::string& reason = {});
  Result<store::Batch> resume(const std::string& id);
  Result<store::Batch> cancel(const std::string& id);

 private:
  store::Database& m_db;
  const Clock& m_clock;
  OnEnqueued m_on_enqueued;
};

}  // namespace mailer::service
