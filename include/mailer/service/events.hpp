#pragma once
// GET /v1/events (SPEC §3): events filtered by type, batch, email and time,
// oldest first, keyset-paged on the event id (a client polling with the last
// next_cursor gets exactly the new events).

#include <cstdint>
#include <optional>
#include <string>

#include "mailer/core/error.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"

namespace mailer::service {

struct EventQuery {
  std::optional<std::string> type;  // SENT, DEFERRED, … (exact, upper case)
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::optional<std::string> ses_message_id;  // the MessageId SES returned for a send
  std::optional<std::string> email;           // any spelling; matched after normalization
  std::optional<std::string> since;           // RFC 3339, inclusive
  std::optional<std::string> until;           // RFC 3339, exclusive
  PageParams page;
};

/// "evt_<id>", the public id of an event.
std::string event_public_id(std::int64_t id);

class EventService {
 public:
  explicit EventService(store::Database& db) : m_db(db) {}

  /// Errors: invalid_input with fields "type" (not an event type), "email"
  /// (not an address), "ses_message_id" (over 256 bytes), "since"/"until" (not RFC 3339, or until <= since),
  /// and the paging fields of to_page_query().
  Result<ListPage<store::Event>> list(const EventQuery& query);

 private:
  store::Database& m_db;
};

}  // namespace mailer::service
