#pragma once
// Reading events by time, for archives (`mailerctl events export`) and the
// send rate `mailerctl queue` shows. Separate from events.hpp, whose list is
// keyed on the event id for API polling; these walk the events_by_time and
// events_by_type indexes (schema 0011) in (occurred_at_ms, id) order.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"

namespace mailer::store {

struct EventRange {
  std::int64_t since_ms = 0;        // occurred_at_ms >= since
  std::int64_t until_ms = 0;        // occurred_at_ms < until
  std::optional<std::string> type;  // one of event_types(), or every type
};

/// Rows read per query while walking a range: the memory an export holds.
inline constexpr int k_event_range_page = 1000;

/// Calls `sink` for every event in `range`, oldest first (ties by id), with
/// its message's metadata as EventRepo::list gives it. Reads inside one
/// read transaction (one snapshot: events recorded meanwhile are not seen,
/// pruned ones not lost midway), k_event_range_page rows at a time by a
/// (occurred_at_ms, id) keyset, so memory stays bounded on any range. Stops
/// at the first Error `sink` returns and returns it. Returns the number of
/// events passed to `sink`. Errors: storage_unavailable, or `sink`'s.
Result<std::int64_t> each_event_in_range(Database& db, const EventRange& range,
                                         const std::function<Status(const Event&)>& sink);

/// Events of `type` with occurred_at_ms >= `since_ms`, on the events_by_type
/// index: cheap for a recent window. Errors: storage_unavailable.
Result<std::int64_t> count_events_since(Database& db, const std::string& type, std::int64_t since_ms);

}  // namespace mailer::store
