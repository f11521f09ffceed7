#pragma once
// GET /v1/events (SPEC §3): events filtered by type, batch, email and time,
// oldest first, keyset-paged on the event id (a client polling with the last
// next_cursor gets exactly the new events).

#include <cstdint>
#include <functional>
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

/// `mailerctl events export`: every event in [since, until) of one type or all.
struct EventExportQuery {
  std::optional<std::string> since;  // RFC 3339, inclusive; absent: from the first event
  std::optional<std::string> until;  // RFC 3339, exclusive; absent: now
  std::optional<std::string> type;   // absent: every type
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

  /// Calls `write` with one JSON line per event of `query` ("{...}\n": the
  /// API's event object, to_json in api_json.hpp), oldest first, from one
  /// snapshot of the database and in bounded memory (store::each_event_in_range).
  /// `now_ms` is the default `until`. Returns the number of lines written.
  /// Errors: invalid_input with fields "since"/"until" (not RFC 3339, or until
  /// <= since) and "type" (not an event type), before anything is written;
  /// storage_unavailable; `write`'s own Error, which stops the export.
  Result<std::int64_t> export_lines(const EventExportQuery& query, std::int64_t now_ms,
                                    const std::function<Status(const std::string& line)>& write);

 private:
  store::Database& m_db;
};

}  // namespace mailer::service
