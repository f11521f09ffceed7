#pragma once
// Transactional messages (SPEC §3 POST /v1/messages): up to 50 recipients in
// to, cc and bcc, sent ahead of bulk work (priority 0), no List-Unsubscribe,
// blocked only by suppressions of scope `all` (an unsubscribe does not stop a
// password reset). POST /v1/messages/batch accepts up to 500 at once.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/status.hpp"

namespace mailer::service {

struct MessageRequest {
  std::string from;
  std::vector<std::string> to;  // at least one; with cc and bcc at most 50 (store::k_max_destinations)
  std::vector<std::string> cc;
  std::vector<std::string> bcc;
  std::optional<std::string> template_id;
  std::optional<int> template_version;  // default: current
  std::optional<ContentInput> content;  // instead of template_id
  nlohmann::json variables;             // object or null
  std::vector<std::string> reply_to;
  nlohmann::json tags;  // object of SES tag name -> value, or null
  std::optional<std::string> configuration_set;
  nlohmann::json headers;   // object of header name -> value, or null (render::custom_headers)
  nlohmann::json metadata;  // object of key -> string, or null (render::message_metadata)
  nlohmann::json attachments;  // array of files, or null (render::message_attachments)
};

/// The most messages POST /v1/messages/batch takes.
inline constexpr std::size_t k_max_batch_messages = 500;

/// Whether one invalid message of a batch call refuses them all.
enum class Atomic { no, yes };

struct MessageAccepted {
  std::string id;                                            // "msg_…"
  store::MessageState status = store::MessageState::queued;  // or `suppressed`
};

class MessageService {
 public:
  MessageService(store::Database& db, const Clock& clock, OnEnqueued on_enqueued = {})
      : m_db(db), m_clock(clock), m_on_enqueued(std::move(on_enqueued)) {}

  /// Validates and stores one message (kind transactional, priority 0, no
  /// batch; content copied into the row, template id/version kept).
  /// Destinations blocked by a suppression of scope all are left out, each
  /// with a SUPPRESSED event; with none left the message is `suppressed`.
  /// Errors: invalid_input "message request is invalid" with fields from,
  /// to / to[i] (likewise cc, bcc: an address alone is named without index;
  /// more than 50 in all names the list that passes 50; an address given
  /// twice), reply_to[i], template_id, template_version, content,
  /// content.<part>, variables, tags / tags.<name>, configuration_set,
  /// headers / headers.<name>, metadata / metadata.<key>, attachments /
  /// attachments[i].<member>; too_large (413) when the attachments decode to
  /// more than render::k_max_attachment_bytes per file or
  /// render::k_max_attachments_total_bytes in all (field
  /// attachments[i].content or attachments); storage_unavailable. The files
  /// are stored with the message, in the same transaction.
  /// Calls on_enqueued after the commit when queued.
  Result<MessageAccepted> enqueue_message(const MessageRequest& request);

  /// POST /v1/messages/batch: each of `requests` (an entry that could not
  /// even be read comes as its Error) is checked as enqueue_message checks
  /// it; those valid are stored in ONE transaction, then the answer has one
  /// result per entry, in order: the accepted message or its Error. With
  /// Atomic::yes one invalid entry refuses all: invalid_input "N of M
  /// messages are invalid" whose fields are prefixed "messages[i]." and
  /// nothing is stored. Errors: too_large over k_max_batch_messages (field
  /// "messages") or when one entry's attachments are too large (fields
  /// "messages[i].attachments..."), storage_unavailable (nothing stored).
  Result<std::vector<Result<MessageAccepted>>> enqueue_messages(const std::vector<Result<MessageRequest>>& requests,
                                                                Atomic atomic);

  /// The message with its events (any kind). Errors: not_found.
  Result<store::Message> get_message(const std::string& id);

 private:
  /// The row `request` makes, or invalid_input naming every bad field.
  Result<store::NewMessage> prepare(const MessageRequest& request);

  store::Database& m_db;
  const Clock& m_clock;
  OnEnqueued m_on_enqueued;
};

}  // namespace mailer::service
