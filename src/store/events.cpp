#include "mailer/store/events.hpp"

#include "mailer/store/event_archive.hpp"

#include <charconv>

#include <fmt/format.h>

#include "store/sql_util.hpp"
#include "store/suppression_rules.hpp"

namespace mailer::store {
namespace {

constexpr const char* k_select =
    "SELECT id, type, batch_id, message_id, email, detail_json, occurred_at_ms FROM events";
// Around a k_select query `e`: the metadata of each event's message, looked up
// by primary key for the rows of the page only.
constexpr const char* k_with_metadata_before =
    "SELECT e.id, e.type, e.batch_id, e.message_id, e.email, e.detail_json, e.occurred_at_ms, m.metadata_json"
    " FROM (";
constexpr const char* k_with_metadata_after = ") e LEFT JOIN messages m ON m.id = e.message_id ORDER BY e.id";

std::string with_metadata(const std::string& query) { return k_with_metadata_before + query + k_with_metadata_after; }

Event read_event(SQLite::Statement& row) {
  Event e;
  e.id = row.getColumn(0).getInt64();
  e.type = row.getColumn(1).getString();
  e.batch_id = sql::optional_text(row.getColumn(2));
  e.message_id = sql::optional_text(row.getColumn(3));
  e.email = row.getColumn(4).getString();
  e.detail_json = row.getColumn(5).getString();
  e.occurred_at_ms = row.getColumn(6).getInt64();
  if (row.getColumnCount() > 7) e.metadata_json = sql::optional_text(row.getColumn(7));
  return e;
}

// The index a page of `filter` is read through, when SQLite's own choice is
// the wrong one: with a batch and a type it would walk the batch in id order
// (events_by_batch_id) and step over every event of another type, a whole
// batch for a rare type; events_by_batch (batch_id, type, ...) reads that
// type's events only. Without a type, events_by_batch_id is a seek (schema 0012).
std::string index_hint(const EventFilter& filter) {
  return filter.batch_id && filter.type ? " INDEXED BY events_by_batch" : "";
}

// The WHERE clause for `filter`; parameters are bound by bind_filter in the same order.
std::string where_clause(const EventFilter& filter) {
  std::string where = "WHERE id > ?";
  if (filter.type) where += " AND type = ?";
  if (filter.batch_id) where += " AND batch_id = ?";
  if (filter.message_id) where += " AND message_id = ?";
  // messages_by_ses_id finds the message; its events follow by message_id.
  if (filter.ses_message_id) where += " AND message_id IN (SELECT id FROM messages WHERE ses_message_id = ?)";
  if (filter.email) where += " AND email = ?";
  if (filter.since_ms) where += " AND occurred_at_ms >= ?";
  if (filter.until_ms) where += " AND occurred_at_ms < ?";
  return where;
}

constexpr int k_rows_per_insert = 64;  // 64 x 6 parameters, far below SQLite's limit

// "INSERT INTO events ... VALUES (...), (...)" for `rows` rows.
std::string insert_sql(std::size_t rows) {
  std::string sql = "INSERT INTO events(type, batch_id, message_id, email, detail_json, occurred_at_ms) VALUES ";
  for (std::size_t i = 0; i < rows; ++i) sql += i == 0 ? "(?,?,?,?,?,?)" : ",(?,?,?,?,?,?)";
  return sql;
}

void bind_event(SQLite::Statement& insert, int first, const Event& event) {
  insert.bind(first, event.type);
  sql::bind_optional(insert, first + 1, event.batch_id);
  sql::bind_optional(insert, first + 2, event.message_id);
  insert.bind(first + 3, suppression::key_of(event.email));
  insert.bind(first + 4, event.detail_json.empty() ? std::string("{}") : event.detail_json);
  insert.bind(first + 5, static_cast<std::int64_t>(event.occurred_at_ms));
}

int bind_filter(SQLite::Statement& query, const EventFilter& filter, std::int64_t after_id) {
  int i = 0;
  query.bind(++i, static_cast<std::int64_t>(after_id));
  if (filter.type) query.bind(++i, *filter.type);
  if (filter.batch_id) query.bind(++i, *filter.batch_id);
  if (filter.message_id) query.bind(++i, *filter.message_id);
  if (filter.ses_message_id) query.bind(++i, *filter.ses_message_id);
  if (filter.email) query.bind(++i, suppression::key_of(*filter.email));
  if (filter.since_ms) query.bind(++i, static_cast<std::int64_t>(*filter.since_ms));
  if (filter.until_ms) query.bind(++i, static_cast<std::int64_t>(*filter.until_ms));
  return i;
}

}  // namespace

const std::vector<std::string_view>& event_types() {
  // The CHECK of events.type (schema/0004_event_types.sql) lists the same.
  static const std::vector<std::string_view> types{
      "SENT",           "DEFERRED",          "FAILED",       "SUPPRESSED", "DELIVERY", "BOUNCE",
      "COMPLAINT",      "UNSUBSCRIBE",       "SEND",         "REJECT",     "OPEN",     "CLICK",
      "DELIVERY_DELAY", "RENDERING_FAILURE", "SUBSCRIPTION", "OTHER"};
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
    SQLite::Statement query(m_db.sql(), with_metadata(std::string(k_select) + index_hint(filter) + " " +
                                                      where_clause(filter) + " ORDER BY id LIMIT ? OFFSET ?"));
    int i = bind_filter(query, filter, after_id);
    sql::bind_page(query, i + 1, page);
    return sql::read_page(query, page, read_event, [](const Event& e) { return std::to_string(e.id); });
  });
}

Event suppressed_at_acceptance(std::optional<std::string> batch_id, std::string message_id, std::string email,
                               std::int64_t now_ms) {
  return Event{0,
               "SUPPRESSED",
               std::move(batch_id),
               std::move(message_id),
               std::move(email),
               R"({"reason":"suppressed at acceptance"})",
               now_ms};
}

Result<std::vector<Event>> EventRepo::of_message(const std::string& message_id) {
  return sql::guard("read message events", [&]() -> Result<std::vector<Event>> {
    SQLite::Statement query(m_db.sql(), with_metadata(std::string(k_select) + " WHERE message_id = ?"));
    query.bind(1, message_id);
    std::vector<Event> events;
    while (query.executeStep()) events.push_back(read_event(query));
    return events;
  });
}

Result<std::int64_t> EventRepo::insert(const Event& event) {
  return sql::guard("record event", [&]() -> Result<std::int64_t> {
    auto& insert = m_db.statements().get(insert_sql(1));
    bind_event(insert, 1, event);
    insert.exec();
    return static_cast<std::int64_t>(m_db.sql().getLastInsertRowid());
  });
}

Status EventRepo::insert(const std::vector<Event>& events) {
  return sql::guard("record events", [&]() -> Status {
    for (std::size_t first = 0; first < events.size(); first += k_rows_per_insert) {
      std::size_t rows = std::min<std::size_t>(k_rows_per_insert, events.size() - first);
      auto& insert = m_db.statements().get(insert_sql(rows));
      for (std::size_t i = 0; i < rows; ++i) bind_event(insert, static_cast<int>(6 * i + 1), events[first + i]);
      insert.exec();
    }
    return {};
  });
}

// ---- event_archive.hpp: by time -----------------------------------------

namespace {

// One page of a range after the keyset (after_ms, after_id). The row value
// comparison walks events_by_time (or events_by_type with a type), whose
// entries end in the rowid, so each page is a seek, not a scan.
std::string range_page_sql(const EventRange& range) {
  return std::string(k_with_metadata_before) + k_select +
         " WHERE (occurred_at_ms, id) > (?, ?) AND occurred_at_ms < ?" + (range.type ? " AND type = ?" : "") +
         " ORDER BY occurred_at_ms, id LIMIT ?) e LEFT JOIN messages m ON m.id = e.message_id"
         " ORDER BY e.occurred_at_ms, e.id";
}

}  // namespace

Result<std::int64_t> each_event_in_range(Database& db, const EventRange& range,
                                         const std::function<Status(const Event&)>& sink) {
  return sql::transaction(
      db, "export events",
      [&]() -> Result<std::int64_t> {
        SQLite::Statement page(db.sql(), range_page_sql(range));
        std::int64_t after_ms = range.since_ms;
        std::int64_t after_id = -1;  // before any id at since_ms
        std::int64_t count = 0;
        for (int rows = k_event_range_page; rows == k_event_range_page;) {
          page.reset();
          int i = 0;
          page.bind(++i, static_cast<std::int64_t>(after_ms));
          page.bind(++i, static_cast<std::int64_t>(after_id));
          page.bind(++i, static_cast<std::int64_t>(range.until_ms));
          if (range.type) page.bind(++i, *range.type);
          page.bind(++i, k_event_range_page);
          rows = 0;
          while (page.executeStep()) {
            Event event = read_event(page);
            after_ms = event.occurred_at_ms;
            after_id = event.id;
            ++rows;
            ++count;
            if (auto written = sink(event); !written) return std::move(written).error();
          }
        }
        return count;
      },
      sql::TxMode::deferred);
}

Result<std::int64_t> count_events_since(Database& db, const std::string& type, std::int64_t since_ms) {
  return sql::guard("count events", [&]() -> Result<std::int64_t> {
    SQLite::Statement query(db.sql(), "SELECT count(*) FROM events WHERE type = ? AND occurred_at_ms >= ?");
    query.bind(1, type);
    query.bind(2, static_cast<std::int64_t>(since_ms));
    query.executeStep();
    return query.getColumn(0).getInt64();
  });
}

}  // namespace mailer::store
