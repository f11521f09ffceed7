#include "mailer/store/webhooks.hpp"

#include <charconv>

#include <fmt/format.h>

#include "mailer/core/ids.hpp"
#include "mailer/core/json.hpp"
#include "store/sql_util.hpp"

// NOTE: the webhook thread's reads and writes are separate transactions: the
// scan of events runs as a read (WAL readers never block the job engine's
// writer), and the write that follows re-checks the cursor it read
// (compare-and-set), so an endpoint changed in between only costs a re-read.

namespace mailer::store {
namespace {

constexpr const char* k_select_endpoint =
    "SELECT id, url, description, secret, event_types_json, batch_id, tags_json, enabled, disabled_reason, "
    "disabled_at_ms, last_event_id, failing_since_ms, last_success_at_ms, created_at_ms, updated_at_ms "
    "FROM webhook_endpoints";

constexpr const char* k_delivery_columns =
    "id, endpoint_id, kind, first_event_id, last_event_id, event_count, status, attempts, next_attempt_at_ms, "
    "retry_until_ms, last_status_code, last_error, last_latency_ms, created_at_ms, updated_at_ms, delivered_at_ms";

std::vector<std::string> read_string_list(const std::string& text) {
  std::vector<std::string> out;
  auto json = stored_json_or_empty(text);
  if (!json.is_array()) return out;
  for (const auto& item : json)
    if (item.is_string()) out.push_back(item.get<std::string>());
  return out;
}

std::map<std::string, std::string> read_string_map(const std::string& text) {
  std::map<std::string, std::string> out;
  auto json = stored_json_or_empty(text);
  for (const auto& [name, value] : json.items())
    if (value.is_string()) out[name] = value.get<std::string>();
  return out;
}

std::string string_list_json(const std::vector<std::string>& list) { return dump_json(nlohmann::json(list)); }
std::string string_map_json(const std::map<std::string, std::string>& map) { return dump_json(nlohmann::json(map)); }

WebhookEndpoint read_endpoint(SQLite::Statement& row) {
  WebhookEndpoint e;
  e.id = row.getColumn(0).getString();
  e.url = row.getColumn(1).getString();
  e.description = row.getColumn(2).getString();
  e.secret = row.getColumn(3).getString();
  e.event_types = read_string_list(row.getColumn(4).getString());
  e.batch_id = sql::optional_text(row.getColumn(5));
  e.tags = read_string_map(row.getColumn(6).getString());
  e.enabled = row.getColumn(7).getInt() != 0;
  e.disabled_reason = sql::optional_text(row.getColumn(8));
  e.disabled_at_ms = sql::optional_int64(row.getColumn(9));
  e.last_event_id = row.getColumn(10).getInt64();
  e.failing_since_ms = sql::optional_int64(row.getColumn(11));
  e.last_success_at_ms = sql::optional_int64(row.getColumn(12));
  e.created_at_ms = row.getColumn(13).getInt64();
  e.updated_at_ms = row.getColumn(14).getInt64();
  return e;
}

// Columns of k_delivery_columns, then optionally the body at index 16.
WebhookDelivery read_delivery(SQLite::Statement& row, bool with_body) {
  WebhookDelivery d;
  d.id = row.getColumn(0).getInt64();
  d.endpoint_id = row.getColumn(1).getString();
  d.kind = row.getColumn(2).getString();
  d.first_event_id = sql::optional_int64(row.getColumn(3));
  d.last_event_id = sql::optional_int64(row.getColumn(4));
  d.event_count = row.getColumn(5).getInt64();
  d.status = parse_delivery_status(row.getColumn(6).getString()).value_or(DeliveryStatus::failed);
  d.attempts = row.getColumn(7).getInt64();
  d.next_attempt_at_ms = row.getColumn(8).getInt64();
  d.retry_until_ms = row.getColumn(9).getInt64();
  d.last_status_code = sql::optional_int64(row.getColumn(10));
  d.last_error = sql::optional_text(row.getColumn(11));
  d.last_latency_ms = sql::optional_int64(row.getColumn(12));
  d.created_at_ms = row.getColumn(13).getInt64();
  d.updated_at_ms = row.getColumn(14).getInt64();
  d.delivered_at_ms = sql::optional_int64(row.getColumn(15));
  if (with_body) d.body = row.getColumn(16).getString();
  return d;
}

Error endpoint_not_found(const std::string& id) {
  return make_error(ErrorCode::not_found, fmt::format("webhook endpoint {} not found", id));
}

std::optional<WebhookEndpoint> find_endpoint(Database& db, const std::string& id) {
  SQLite::Statement query(db.sql(), std::string(k_select_endpoint) + " WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return read_endpoint(query);
}

std::optional<WebhookDelivery> find_delivery(Database& db, const std::string& endpoint_id, std::int64_t id) {
  SQLite::Statement query(db.sql(), fmt::format("SELECT {}, body FROM webhook_deliveries "
                                                "WHERE id = ? AND endpoint_id = ?",
                                                k_delivery_columns));
  query.bind(1, static_cast<std::int64_t>(id));
  query.bind(2, endpoint_id);
  if (!query.executeStep()) return std::nullopt;
  return read_delivery(query, true);
}

std::int64_t insert_delivery(Database& db, const std::string& endpoint_id, const WebhookRepo::NewDelivery& d) {
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO webhook_deliveries(endpoint_id, kind, first_event_id, last_event_id, "
                           "event_count, body, status, next_attempt_at_ms, retry_until_ms, created_at_ms, "
                           "updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)");
  insert.bind(1, endpoint_id);
  insert.bind(2, d.kind);
  sql::bind_optional(insert, 3, d.first_event_id);
  sql::bind_optional(insert, 4, d.last_event_id);
  insert.bind(5, static_cast<std::int64_t>(d.event_count));
  insert.bind(6, d.body);
  insert.bind(7, static_cast<std::int64_t>(d.now_ms));
  insert.bind(8, static_cast<std::int64_t>(d.retry_until_ms));
  insert.bind(9, static_cast<std::int64_t>(d.now_ms));
  insert.bind(10, static_cast<std::int64_t>(d.now_ms));
  insert.exec();
  return db.sql().getLastInsertRowid();
}

// The cursor's compare-and-set and the delivery it covers (inside the caller's
// transaction); nullopt when the cursor moved or the endpoint is disabled.
std::optional<std::int64_t> move_cursor_and_insert(Database& db, const std::string& endpoint_id,
                                                   std::int64_t cursor_was, std::int64_t cursor_to,
                                                   const WebhookRepo::NewDelivery& delivery) {
  auto& move = db.statements().get(
      "UPDATE webhook_endpoints SET last_event_id = ? WHERE id = ? AND last_event_id = ? AND enabled = 1");
  move.bind(1, static_cast<std::int64_t>(cursor_to));
  move.bind(2, endpoint_id);
  move.bind(3, static_cast<std::int64_t>(cursor_was));
  if (move.exec() == 0) return std::nullopt;
  return insert_delivery(db, endpoint_id, delivery);
}

Result<std::int64_t> parse_after(const std::string& after) {
  std::int64_t id = 0;
  if (after.empty()) return id;
  auto [end, ec] = std::from_chars(after.data(), after.data() + after.size(), id);
  if (ec != std::errc() || end != after.data() + after.size() || id < 0)
    return Error{ErrorCode::invalid_input, "cursor is malformed", {{"cursor", "is not a valid cursor"}}};
  return id;
}

}  // namespace

const char* to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::pending: return "pending";
    case DeliveryStatus::delivered: return "delivered";
    case DeliveryStatus::failed: return "failed";
  }
  return "failed";
}

std::optional<DeliveryStatus> parse_delivery_status(std::string_view text) {
  if (text == "pending") return DeliveryStatus::pending;
  if (text == "delivered") return DeliveryStatus::delivered;
  if (text == "failed") return DeliveryStatus::failed;
  return std::nullopt;
}

namespace {

// Binds what an operator sets on an endpoint to parameters 1-7, in the
// column order url, description, secret, event_types_json, batch_id,
// tags_json, enabled; `Endpoint` is NewWebhookEndpoint or WebhookEndpoint.
template <class Endpoint>
void bind_settings(SQLite::Statement& statement, const Endpoint& endpoint) {
  statement.bind(1, endpoint.url);
  statement.bind(2, endpoint.description);
  statement.bind(3, endpoint.secret);
  statement.bind(4, string_list_json(endpoint.event_types));
  sql::bind_optional(statement, 5, endpoint.batch_id);
  statement.bind(6, string_map_json(endpoint.tags));
  statement.bind(7, endpoint.enabled ? 1 : 0);
}

}  // namespace

Result<WebhookEndpoint> WebhookRepo::create(const NewWebhookEndpoint& endpoint, std::int64_t now_ms) {
  const std::string id = ids::make(ids::k_webhook);
  return sql::transaction(m_db, "create webhook endpoint", [&]() -> Result<WebhookEndpoint> {
    SQLite::Statement insert(m_db.sql(),
                             "INSERT INTO webhook_endpoints(url, description, secret, event_types_json, batch_id, "
                             "tags_json, enabled, id, last_event_id, created_at_ms, updated_at_ms) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, (SELECT coalesce(max(id), 0) FROM events), ?, ?)");
    bind_settings(insert, endpoint);
    insert.bind(8, id);
    insert.bind(9, static_cast<std::int64_t>(now_ms));
    insert.bind(10, static_cast<std::int64_t>(now_ms));
    insert.exec();
    return *find_endpoint(m_db, id);
  });
}

Result<std::vector<WebhookEndpoint>> WebhookRepo::list() {
  return sql::guard("list webhook endpoints", [&]() -> Result<std::vector<WebhookEndpoint>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select_endpoint) + " ORDER BY id");
    std::vector<WebhookEndpoint> out;
    while (query.executeStep()) out.push_back(read_endpoint(query));
    return out;
  });
}

Result<Page<WebhookEndpoint>> WebhookRepo::list(const PageQuery& page) {
  return sql::guard("list webhook endpoints", [&]() -> Result<Page<WebhookEndpoint>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select_endpoint) + (page.after.empty() ? "" : " WHERE id > ?") +
                                            " ORDER BY id LIMIT ? OFFSET ?");
    int i = 0;
    if (!page.after.empty()) query.bind(++i, page.after);
    sql::bind_page(query, i + 1, page);
    return sql::read_page(query, page, read_endpoint, [](const WebhookEndpoint& e) { return e.id; });
  });
}

Result<WebhookEndpoint> WebhookRepo::get(const std::string& id) {
  return sql::guard("read webhook endpoint", [&]() -> Result<WebhookEndpoint> {
    auto found = find_endpoint(m_db, id);
    if (!found) return endpoint_not_found(id);
    return *found;
  });
}

Result<std::int64_t> WebhookRepo::count() {
  return sql::guard("count webhook endpoints", [&]() -> Result<std::int64_t> {
    return sql::query_int64(m_db.sql(), "SELECT count(*) FROM webhook_endpoints");
  });
}

Result<WebhookEndpoint> WebhookRepo::update(const std::string& id, const WebhookEndpointChange& change,
                                            std::int64_t now_ms) {
  return sql::transaction(m_db, "update webhook endpoint", [&]() -> Result<WebhookEndpoint> {
    auto found = find_endpoint(m_db, id);
    if (!found) return endpoint_not_found(id);
    WebhookEndpoint e = *found;
    if (change.url) e.url = *change.url;
    if (change.description) e.description = *change.description;
    if (change.event_types) e.event_types = *change.event_types;
    if (change.batch_id) e.batch_id = *change.batch_id;
    if (change.tags) e.tags = *change.tags;
    if (change.secret) e.secret = *change.secret;
    if (change.enabled && *change.enabled && !e.enabled) {
      e.disabled_reason.reset();
      e.disabled_at_ms.reset();
      e.failing_since_ms.reset();
    }
    if (change.enabled && !*change.enabled && e.enabled) {
      e.disabled_reason = "disabled by an operator";
      e.disabled_at_ms = now_ms;
    }
    if (change.enabled) e.enabled = *change.enabled;
    e.updated_at_ms = now_ms;
    SQLite::Statement write(m_db.sql(),
                            "UPDATE webhook_endpoints SET url = ?, description = ?, secret = ?, event_types_json = ?, "
                            "batch_id = ?, tags_json = ?, enabled = ?, disabled_reason = ?, disabled_at_ms = ?, "
                            "failing_since_ms = ?, updated_at_ms = ? WHERE id = ?");
    bind_settings(write, e);
    sql::bind_optional(write, 8, e.disabled_reason);
    sql::bind_optional(write, 9, e.disabled_at_ms);
    sql::bind_optional(write, 10, e.failing_since_ms);
    write.bind(11, static_cast<std::int64_t>(now_ms));
    write.bind(12, id);
    write.exec();
    return e;
  });
}

Status WebhookRepo::remove(const std::string& id) {
  return sql::transaction(m_db, "delete webhook endpoint", [&]() -> Status {
    SQLite::Statement remove(m_db.sql(), "DELETE FROM webhook_endpoints WHERE id = ?");
    remove.bind(1, id);
    if (remove.exec() == 0) return endpoint_not_found(id);
    return {};
  });
}

Result<std::optional<WebhookDelivery>> WebhookRepo::next_pending(const std::string& endpoint_id) {
  return sql::guard("read pending webhook delivery", [&]() -> Result<std::optional<WebhookDelivery>> {
    auto& query =
        m_db.statements().get(fmt::format("SELECT {}, body FROM webhook_deliveries "
                                          "WHERE endpoint_id = ? AND status = 'pending' ORDER BY id LIMIT 1",
                                          k_delivery_columns));
    query.bind(1, endpoint_id);
    std::optional<WebhookDelivery> delivery;
    if (query.executeStep()) delivery = read_delivery(query, true);
    // A cached statement left mid-read would hold its read snapshot (and
    // keep checkpoints from finishing) until its next use.
    query.tryReset();
    return delivery;
  });
}

Result<EventScan> WebhookRepo::events_after(const WebhookEndpoint& endpoint, int limit, int scan_limit) {
  return sql::transaction(
      m_db, "read events for webhooks",
      [&]() -> Result<EventScan> {
        // The scan reads ids only (the primary key), so filtered-out events
        // cost little; the rows kept are then read with their message's tags.
        std::string where = "id > ?";
        if (!endpoint.event_types.empty()) {
          where += " AND +type IN (";  // "+": keep to the id range, not the type index
          for (std::size_t i = 0; i < endpoint.event_types.size(); ++i) where += i == 0 ? "?" : ",?";
          where += ")";
        }
        if (endpoint.batch_id) where += " AND +batch_id = ?";
        EventScan scan;
        scan.scanned_to = endpoint.last_event_id;
        // Bounded window of ids: at most scan_limit rows past the cursor.
        SQLite::Statement window(m_db.sql(),
                                 "SELECT max(id), count(*) FROM (SELECT id FROM events WHERE id > ? "
                                 "ORDER BY id LIMIT ?)");
        window.bind(1, static_cast<std::int64_t>(endpoint.last_event_id));
        window.bind(2, scan_limit);
        window.executeStep();
        if (window.getColumn(0).isNull()) {
          scan.reached_end = true;
          return scan;
        }
        const std::int64_t window_end = window.getColumn(0).getInt64();
        scan.reached_end = window.getColumn(1).getInt64() < scan_limit;
        auto& query = m_db.statements().get(
            "SELECT e.id, e.type, e.batch_id, e.message_id, e.email, e.detail_json, e.occurred_at_ms, "
            "coalesce(m.tags_json, b.tags_json, '{}'), coalesce(m.metadata_json, b.metadata_json) FROM events e "
            "LEFT JOIN messages m ON m.id = e.message_id LEFT JOIN batches b ON b.id = e.batch_id WHERE e.id IN "
            "(SELECT id FROM events WHERE " +
            where + " AND id <= ? ORDER BY id LIMIT ?) ORDER BY e.id");
        int i = 0;
        query.bind(++i, static_cast<std::int64_t>(endpoint.last_event_id));
        for (const auto& type : endpoint.event_types) query.bind(++i, type);
        if (endpoint.batch_id) query.bind(++i, *endpoint.batch_id);
        query.bind(++i, static_cast<std::int64_t>(window_end));
        query.bind(++i, limit);
        while (query.executeStep()) {
          WebhookEventRow row;
          row.id = query.getColumn(0).getInt64();
          row.type = query.getColumn(1).getString();
          row.batch_id = sql::optional_text(query.getColumn(2));
          row.message_id = sql::optional_text(query.getColumn(3));
          row.email = query.getColumn(4).getString();
          row.detail_json = query.getColumn(5).getString();
          row.occurred_at_ms = query.getColumn(6).getInt64();
          row.tags_json = query.getColumn(7).getString();
          row.metadata_json = sql::optional_text(query.getColumn(8));
          scan.events.push_back(std::move(row));
        }
        query.tryReset();
        // A full page stops at its last event; else every id up to the window's end was seen.
        const bool full = static_cast<int>(scan.events.size()) >= limit;
        scan.scanned_to = full ? scan.events.back().id : window_end;
        if (full) scan.reached_end = false;
        return scan;
      },
      sql::TxMode::deferred);
}

Result<std::optional<std::int64_t>> WebhookRepo::create_delivery(const std::string& endpoint_id,
                                                                 std::int64_t cursor_was, std::int64_t cursor_to,
                                                                 const NewDelivery& delivery) {
  return sql::transaction(m_db, "create webhook delivery", [&]() -> Result<std::optional<std::int64_t>> {
    return move_cursor_and_insert(m_db, endpoint_id, cursor_was, cursor_to, delivery);
  });
}

Result<bool> WebhookRepo::advance_cursor(const std::string& endpoint_id, std::int64_t cursor_was,
                                         std::int64_t cursor_to) {
  return sql::guard("move webhook cursor", [&]() -> Result<bool> {
    auto& move =
        m_db.statements().get("UPDATE webhook_endpoints SET last_event_id = ? WHERE id = ? AND last_event_id = ?");
    move.bind(1, static_cast<std::int64_t>(cursor_to));
    move.bind(2, endpoint_id);
    move.bind(3, static_cast<std::int64_t>(cursor_was));
    return move.exec() == 1;
  });
}

Result<WebhookDelivery> WebhookRepo::add_test_delivery(const std::string& endpoint_id, const NewDelivery& delivery) {
  return sql::transaction(m_db, "create webhook test delivery", [&]() -> Result<WebhookDelivery> {
    if (!find_endpoint(m_db, endpoint_id)) return endpoint_not_found(endpoint_id);
    auto id = insert_delivery(m_db, endpoint_id, delivery);
    return *find_delivery(m_db, endpoint_id, id);
  });
}

Result<AttemptEffect> WebhookRepo::record_attempt(const std::string& endpoint_id, const AttemptRecord& r,
                                                  const NextDelivery* next) {
  return sql::transaction(m_db, "record webhook attempt", [&]() -> Result<AttemptEffect> {
    auto& attempt = m_db.statements().get(
        "INSERT INTO webhook_attempts(delivery_id, attempted_at_ms, status_code, error, latency_ms, response) "
        "VALUES (?, ?, ?, ?, ?, ?)");
    attempt.bind(1, static_cast<std::int64_t>(r.delivery_id));
    attempt.bind(2, static_cast<std::int64_t>(r.attempted_at_ms));
    sql::bind_optional(attempt, 3, r.status_code);
    sql::bind_optional(attempt, 4, r.error);
    attempt.bind(5, static_cast<std::int64_t>(r.latency_ms));
    attempt.bind(6, r.response);
    attempt.exec();
    const char* status = r.delivered ? "delivered" : (r.next_attempt_at_ms ? "pending" : "failed");
    auto& delivery = m_db.statements().get(
        "UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at_ms = ?, "
        "last_status_code = ?, last_error = ?, last_latency_ms = ?, updated_at_ms = ?, "
        "delivered_at_ms = CASE WHEN ? THEN ? ELSE delivered_at_ms END WHERE id = ?");
    delivery.bind(1, status);
    delivery.bind(2, static_cast<std::int64_t>(r.next_attempt_at_ms.value_or(r.attempted_at_ms)));
    sql::bind_optional(delivery, 3, r.status_code);
    sql::bind_optional(delivery, 4, r.error);
    delivery.bind(5, static_cast<std::int64_t>(r.latency_ms));
    delivery.bind(6, static_cast<std::int64_t>(r.attempted_at_ms));
    delivery.bind(7, r.delivered ? 1 : 0);
    delivery.bind(8, static_cast<std::int64_t>(r.attempted_at_ms));
    delivery.bind(9, static_cast<std::int64_t>(r.delivery_id));
    delivery.exec();
    AttemptEffect effect;
    if (r.delivered) {
      auto& ok = m_db.statements().get(
          "UPDATE webhook_endpoints SET failing_since_ms = NULL, last_success_at_ms = ? WHERE id = ?");
      ok.bind(1, static_cast<std::int64_t>(r.attempted_at_ms));
      ok.bind(2, endpoint_id);
      ok.exec();
      if (next) move_cursor_and_insert(m_db, endpoint_id, next->cursor_was, next->cursor_to, next->delivery);
      return effect;
    }
    auto& failing = m_db.statements().get(
        "UPDATE webhook_endpoints SET failing_since_ms = coalesce(failing_since_ms, ?) WHERE id = ?");
    failing.bind(1, static_cast<std::int64_t>(r.attempted_at_ms));
    failing.bind(2, endpoint_id);
    failing.exec();
    auto& disable = m_db.statements().get(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_at_ms = ?1, updated_at_ms = ?1, "
        "disabled_reason = 'every attempt failed since ' || strftime('%Y-%m-%dT%H:%M:%SZ', failing_since_ms / 1000, "
        "'unixepoch') WHERE id = ?2 AND enabled = 1 AND failing_since_ms <= ?3");
    disable.bind(1, static_cast<std::int64_t>(r.attempted_at_ms));
    disable.bind(2, endpoint_id);
    disable.bind(3, static_cast<std::int64_t>(r.disable_if_failing_since_ms));
    effect.endpoint_disabled = disable.exec() == 1;
    return effect;
  });
}

Result<Page<WebhookDelivery>> WebhookRepo::deliveries(const std::string& endpoint_id,
                                                      std::optional<DeliveryStatus> status, const PageQuery& page) {
  auto before = parse_after(page.after);
  if (!before) return std::move(before).error();
  return sql::guard("list webhook deliveries", [&]() -> Result<Page<WebhookDelivery>> {
    if (!find_endpoint(m_db, endpoint_id)) return endpoint_not_found(endpoint_id);
    std::string where = "endpoint_id = ?";
    if (!page.after.empty()) where += " AND id < ?";
    if (status) where += " AND status = ?";
    SQLite::Statement query(m_db.sql(), fmt::format("SELECT {} FROM webhook_deliveries WHERE {} ORDER BY id DESC "
                                                    "LIMIT ? OFFSET ?",
                                                    k_delivery_columns, where));
    int i = 0;
    query.bind(++i, endpoint_id);
    if (!page.after.empty()) query.bind(++i, static_cast<std::int64_t>(*before));
    if (status) query.bind(++i, to_string(*status));
    sql::bind_page(query, i + 1, page);
    return sql::read_page(
        query, page, [](SQLite::Statement& row) { return read_delivery(row, false); },
        [](const WebhookDelivery& d) { return std::to_string(d.id); });
  });
}

Result<std::pair<WebhookDelivery, std::vector<WebhookAttempt>>> WebhookRepo::delivery(const std::string& endpoint_id,
                                                                                      std::int64_t delivery_id) {
  using Answer = std::pair<WebhookDelivery, std::vector<WebhookAttempt>>;
  return sql::guard("read webhook delivery", [&]() -> Result<Answer> {
    auto found = find_delivery(m_db, endpoint_id, delivery_id);
    if (!found)
      return make_error(ErrorCode::not_found,
                        fmt::format("delivery whd_{} of webhook endpoint {} not found", delivery_id, endpoint_id));
    SQLite::Statement query(m_db.sql(),
                            "SELECT id, delivery_id, attempted_at_ms, status_code, error, latency_ms, response "
                            "FROM webhook_attempts WHERE delivery_id = ? ORDER BY id");
    query.bind(1, static_cast<std::int64_t>(delivery_id));
    std::vector<WebhookAttempt> attempts;
    while (query.executeStep()) {
      attempts.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getInt64(), query.getColumn(2).getInt64(),
                          sql::optional_int64(query.getColumn(3)), sql::optional_text(query.getColumn(4)),
                          query.getColumn(5).getInt64(), query.getColumn(6).getString()});
    }
    return Answer{std::move(*found), std::move(attempts)};
  });
}

Result<WebhookDelivery> WebhookRepo::replay(const std::string& endpoint_id, std::int64_t delivery_id,
                                            std::int64_t now_ms, std::int64_t retry_until_ms) {
  return sql::transaction(m_db, "replay webhook delivery", [&]() -> Result<WebhookDelivery> {
    auto found = find_delivery(m_db, endpoint_id, delivery_id);
    if (!found)
      return make_error(ErrorCode::not_found,
                        fmt::format("delivery whd_{} of webhook endpoint {} not found", delivery_id, endpoint_id));
    if (found->status == DeliveryStatus::pending)
      return make_error(ErrorCode::conflict, fmt::format("delivery whd_{} is still pending", delivery_id));
    SQLite::Statement update(m_db.sql(),
                             "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at_ms = ?1, "
                             "retry_until_ms = ?2, updated_at_ms = ?1 WHERE id = ?3");
    update.bind(1, static_cast<std::int64_t>(now_ms));
    update.bind(2, static_cast<std::int64_t>(retry_until_ms));
    update.bind(3, static_cast<std::int64_t>(delivery_id));
    update.exec();
    return *find_delivery(m_db, endpoint_id, delivery_id);
  });
}

Result<std::int64_t> WebhookRepo::prune(std::int64_t before_ms, int limit) {
  return sql::transaction(m_db, "prune webhook deliveries", [&]() -> Result<std::int64_t> {
    SQLite::Statement remove(m_db.sql(),
                             "DELETE FROM webhook_deliveries WHERE id IN (SELECT id FROM webhook_deliveries "
                             "WHERE status <> 'pending' AND updated_at_ms < ? ORDER BY id LIMIT ?)");
    remove.bind(1, static_cast<std::int64_t>(before_ms));
    remove.bind(2, limit);
    return static_cast<std::int64_t>(remove.exec());
  });
}

Result<std::vector<WebhookFigures>> WebhookRepo::figures() {
  return sql::transaction(
      m_db, "read webhook figures",
      [&]() -> Result<std::vector<WebhookFigures>> {
        SQLite::Statement query(
            m_db.sql(),
            "SELECT w.id, w.enabled, "
            "(SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND d.status = 'pending'), "
            "(SELECT count(*) FROM events e WHERE e.id > w.last_event_id), "
            "(SELECT min(d.created_at_ms) FROM webhook_deliveries d WHERE d.endpoint_id = w.id AND "
            "d.status = 'pending'), "
            "(SELECT e.occurred_at_ms FROM events e WHERE e.id > w.last_event_id ORDER BY e.id LIMIT 1) "
            "FROM webhook_endpoints w ORDER BY w.id");
        std::vector<WebhookFigures> out;
        while (query.executeStep()) {
          WebhookFigures f;
          f.endpoint_id = query.getColumn(0).getString();
          f.enabled = query.getColumn(1).getInt() != 0;
          f.pending_deliveries = query.getColumn(2).getInt64();
          f.events_after_cursor = query.getColumn(3).getInt64();
          auto oldest_delivery = sql::optional_int64(query.getColumn(4));
          auto oldest_event = sql::optional_int64(query.getColumn(5));
          if (oldest_delivery && oldest_event) f.oldest_pending_ms = std::min(*oldest_delivery, *oldest_event);
          else f.oldest_pending_ms = oldest_delivery ? oldest_delivery : oldest_event;
          out.push_back(std::move(f));
        }
        return out;
      },
      sql::TxMode::deferred);
}

}  // namespace mailer::store
