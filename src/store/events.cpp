#include "mailer/store/events.hpp"

#include <charconv>

#include <fmt/format.h>

#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

Event read_event(SQLite::Statement& row) {
  Event e;
  e.id = row.getColumn(0).getInt64();
  e.type = row.getColumn(1).getString();
  e.batch_id = sql::optional_text(row.getColumn(2));
  e.message_id = sql::optional_text(row.getColumn(3));
  e.email = row.getColumn(4).getString();
  e.detail_json = row.getColumn(5).getString();
  e.occurred_at_ms = row.getColumn(6).getInt64();
  return e;
}

// The WHERE clause for `filter`; parameters are bound by bind_filter in the same order.
std::string where_clause(const EventFilter& filter) {
  std::string where = "WHERE id > ?";
  if (filter.type) where += " AND type = ?";
  if (filter.batch_id) where += " AND batch_id = ?";
  if (filter.message_id) where += " AND message_id = ?";
  if (!filter.emails.empty()) {
    where += " AND email IN (?";
    for (std::size_t i = 1; i < filter.emails.size(); ++i) where += ", ?";
    where += ")";
  }
  if (filter.since_ms) where += " AND occurred_at_ms >= ?";
  if (filter.until_ms) where += " AND occurred_at_ms < ?";
  return where;
}

int bind_filter(SQLite::Statement& query, const EventFilter& filter, std::int64_t after_id) {
  int i = 0;
  query.bind(++i, static_cast<std::int64_t>(after_id));
  if (filter.type) query.bind(++i, *filter.type);
  if (filter.batch_id) query.bind(++i, *filter.batch_id);
  if (filter.message_id) query.bind(++i, *filter.message_id);
  for (const auto& email : filter.emails) query.bind(++i, email);
  if (filter.since_ms) query.bind(++i, static_cast<std::int64_t>(*filter.since_ms));
  if (filter.until_ms) query.bind(++i, static_cast<std::int64_t>(*filter.until_ms));
  return i;
}

}  // namespace

const std::vector<std::string_view>& event_types() {
  static const std::vector<std::string_view> types{"SENT",     "DEFERRED", "FAILED",    "SUPPRESSED",
                                                   "DELIVERY", "BOUNCE",   "COMPLAINT", "UNSUBSCRIBE"};
  return types;
}

bool is_event_type(std::string_view type) {
  for (auto t : event_types())
    if (t == type) return true;
  return false;
}

Result<Page<Event>> EventRepo::list(const EventFilter& filter, const PageQuery& page) {
  std::int64_t after_id = 0;
  if (!page.after.empty()) {
    auto [end, ec] = std::from_chars(page.after.data(), page.after.data() + page.after.size(), after_id);
    if (ec != std::errc() || end != page.after.data() + page.after.size() || after_id < 0)
      return Error{ErrorCode::invalid_input, "cursor is malformed", {{"cursor", "is not a valid cursor"}}};
  }
  return sql::guard("list events", [&]() -> Result<Page<Event>> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT id, type, batch_id, message_id, email, detail_json, occurred_at_ms "
                            "FROM events " + where_clause(filter) + " ORDER BY id LIMIT ? OFFSET ?");
    int i = bind_filter(query, filter, after_id);
    query.bind(++i, page.limit + 1);
    query.bind(++i, static_cast<std::int64_t>(page.after.empty() ? page.offset : 0));
    Page<Event> result;
    while (query.executeStep()) result.items.push_back(read_event(query));
    if (result.items.size() > static_cast<std::size_t>(page.limit)) {
      result.items.pop_back();
      result.next_after = std::to_string(result.items.back().id);
    }
    return result;
  });
}

Result<std::int64_t> EventRepo::insert(const Event& event) {
  return sql::guard("record event", [&]() -> Result<std::int64_t> {
    SQLite::Statement insert(m_db.sql(),
                             "INSERT INTO events(type, batch_id, message_id, email, detail_json, "
                             "occurred_at_ms) VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, event.type);
    sql::bind_optional(insert, 2, event.batch_id);
    sql::bind_optional(insert, 3, event.message_id);
    insert.bind(4, event.email);
    insert.bind(5, event.detail_json.empty() ? std::string("{}") : event.detail_json);
    insert.bind(6, static_cast<std::int64_t>(event.occurred_at_ms));
    insert.exec();
    return static_cast<std::int64_t>(m_db.sql().getLastInsertRowid());
  });
}

}  // namespace mailer::store
