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

/// The event types of the schema's CHECK: SENT, DEFERRED, FAILED, SUPPRESSED,
/// DELIVERY, BOUNCE, COMPLAINT, UNSUBSCRIBE.
const std::vector<std::string_view>& event_types();
bool is_event_type(std::string_view type);

struct Event {
  std::int64_t id = 0;                  // shown as "evt_<id>"
  std::string type;                     // one of event_types()
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::string email;
  std::string detail_json = "{}";
  std::int64_t occurred_at_ms = 0;
};

struct EventFilter {
  std::optional<std::string> type;
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::vector<std::string> emails;      // any of these exact spellings; empty = all
  std::optional<std::int64_t> since_ms; // occurred_at_ms >= since
  std::optional<std::int64_t> until_ms; // occurred_at_ms < until
};

class EventRepo {
 public:
  explicit EventRepo(Database& db) : m_db(db) {}

  /// Events matching `filter`, oldest id first; `page.after` is the decimal id
  /// of the last event seen (keyset), so polling with the last cursor yields
  /// exactly the events added since. Errors: invalid_input when `after` is not
  /// a number; storage_unavailable.
  Result<Page<Event>> list(const EventFilter& filter, const PageQuery& page);
  /// Appends `event` (its id is ignored); returns the new id.
  Result<std::int64_t> insert(const Event& event);

 private:
  Database& m_db;
};

}  // namespace mailer::store
