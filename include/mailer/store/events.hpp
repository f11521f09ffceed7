#pragma once
// Events (SPEC §4): what happened to a message, in order. Rows are never
// changed; their INTEGER id is the keyset cursor and appears as "evt_<id>".

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/page.hpp"

namespace mailer::store {

/// The event types of the schema's CHECK, in a fixed order: mailerd's own
/// SENT, DEFERRED, FAILED, SUPPRESSED, then from SES feedback DELIVERY,
/// BOUNCE, COMPLAINT, UNSUBSCRIBE (also one-click), SEND, REJECT, OPEN, CLICK,
/// DELIVERY_DELAY, RENDERING_FAILURE, SUBSCRIPTION, and OTHER (a SES event type
/// mailerd does not know). The one list: the API, metrics and docs follow it.
const std::vector<std::string_view>& event_types();
bool is_event_type(std::string_view type);

struct Event {
  std::int64_t id = 0;  // shown as "evt_<id>"
  std::string type;     // one of event_types()
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::string email;  // normalized address, stored ASCII lower case
  std::string detail_json = "{}";
  std::int64_t occurred_at_ms = 0;
  /// Read only: the metadata of its message (a transactional message's own,
  /// schema 0007); nullopt for bulk messages, older rows and no message.
  std::optional<std::string> metadata_json;
};

/// The SUPPRESSED event of a message stored as `suppressed` when it was
/// accepted (a batch recipient or a transactional message on the list).
Event suppressed_at_acceptance(std::optional<std::string> batch_id, std::string message_id, std::string email,
                               std::int64_t now_ms);

struct EventFilter {
  std::optional<std::string> type;
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::optional<std::string> ses_message_id;  // events of the message SES accepted under this id
  std::optional<std::string> email;           // an address in any case (compared lower-cased)
  std::optional<std::int64_t> since_ms;       // occurred_at_ms >= since
  std::optional<std::int64_t> until_ms;       // occurred_at_ms < until
};

class EventRepo {
 public:
  explicit EventRepo(Database& db) : m_db(db) {}

  /// Events matching `filter`, oldest id first; `page.after` is the decimal id
  /// of the last event seen (keyset), so polling with the last cursor yields
  /// exactly the events added since. Errors: invalid_input when `after` is not
  /// a number; storage_unavailable.
  Result<Page<Event>> list(const EventFilter& filter, const PageQuery& page);
  /// Appends `event` (its id is ignored) and returns the new id. The only
  /// writer of event rows. It writes on this repo's connection, so called
  /// inside a transaction the caller opened on the same Database
  /// (sql::transaction in another repo), the event commits or rolls back with
  /// the caller's change. `email` is stored in the one spelling suppressions
  /// use too (ASCII lower case), so one address finds all its events.
  /// Errors: storage_unavailable (the caller's transaction must roll back).
  Result<std::int64_t> insert(const Event& event);
  /// insert() for each of `events`, 64 rows per statement: a large batch's
  /// SUPPRESSED events cost a fraction of single-row inserts. Errors as insert().
  Status insert(const std::vector<Event>& events);
  /// Every event of message `message_id`, oldest first. Errors: storage_unavailable.
  Result<std::vector<Event>> of_message(const std::string& message_id);

 private:
  Database& m_db;
};

}  // namespace mailer::store
