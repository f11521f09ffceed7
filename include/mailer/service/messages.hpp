#pragma once
// Transactional messages (SPEC §3 POST /v1/messages): one recipient, sent
// ahead of bulk work (priority 0), no List-Unsubscribe, blocked only by
// suppressions of scope `all` (an unsubscribe does not stop a password reset).

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
  std::string to;  // exactly one address
  std::optional<std::string> template_id;
  std::optional<int> template_version;  // default: current
  std::optional<ContentInput> content;  // instead of template_id
  nlohmann::json variables;             // object or null
  std::vector<std::string> reply_to;
  nlohmann::json tags;  // object of SES tag name -> value, or null
  std::optional<std::string> configuration_set;
};

struct MessageAccepted {
  std::string id;                                            // "msg_…"
  store::MessageState status = store::MessageState::queued;  // or `suppressed`
};

class MessageService {
 public:
  MessageService(store::Database& db, const Clock& clock, OnEnqueued on_enqueued = {})
      : m_db(db), m_clock(clock), m_on_enqueued(std::move(on_enqueued)) {}

  /// Validates and stores one message (kind transactional, priority 0, no
  /// batch; content copied into the row, template id/version kept). A
  /// suppression of scope all makes it `suppressed` with a SUPPRESSED event.
  /// Errors: invalid_input "message request is invalid" with fields from, to,
  /// reply_to[i], template_id, template_version, content, content.<part>,
  /// variables, tags / tags.<name>, configuration_set; storage_unavailable.
  /// Calls on_enqueued after the commit when queued.
  Result<MessageAccepted> enqueue_message(const MessageRequest& request);

  /// The message with its events (any kind). Errors: not_found.
  Result<store::Message> get_message(const std::string& id);

 private:
  store::Database& m_db;
  const Clock& m_clock;
  OnEnqueued m_on_enqueued;
};

}  // namespace mailer::service
