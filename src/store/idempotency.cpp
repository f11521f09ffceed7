#include "mailer/store/idempotency.hpp"

#include "store/sql_util.hpp"

namespace mailer::store {

Result<std::optional<StoredResponse>> IdempotencyRepo::lookup(const std::string& api_key_id, const std::string& key,
                                                              const std::string& request_hash) {
  using Found = std::optional<StoredResponse>;
  return sql::guard("look up idempotency key", [&]() -> Result<Found> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT request_hash, status, response_body, created_at_ms "
                            "FROM idempotency_keys WHERE api_key_id = ? AND key = ? AND created_at_ms > ?");
    query.bind(1, api_key_id);
    query.bind(2, key);
    query.bind(3, static_cast<std::int64_t>(to_ms(m_clock.now()) - k_idempotency_ttl_ms));
    if (!query.executeStep()) return Found{};
    if (query.getColumn(0).getString() != request_hash)
      return make_error(ErrorCode::conflict, "Idempotency-Key was already used with a different request");
    return Found{
        StoredResponse{query.getColumn(1).getInt(), query.getColumn(2).getString(), query.getColumn(3).getInt64()}};
  });
}

Status IdempotencyRepo::store(const std::string& api_key_id, const std::string& key, const std::string& request_hash,
                              int status, const std::string& body) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "store idempotency key", [&]() -> Status {
    // An expired record does not block the key: drop it first.
    SQLite::Statement expired(m_db.sql(),
                              "DELETE FROM idempotency_keys WHERE api_key_id = ? AND key = ? "
                              "AND created_at_ms <= ?");
    expired.bind(1, api_key_id);
    expired.bind(2, key);
    expired.bind(3, static_cast<std::int64_t>(now_ms - k_idempotency_ttl_ms));
    expired.exec();
    SQLite::Statement insert(m_db.sql(),
                             "INSERT INTO idempotency_keys(api_key_id, key, request_hash, status, "
                             "response_body, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, api_key_id);
    insert.bind(2, key);
    insert.bind(3, request_hash);
    insert.bind(4, status);
    insert.bind(5, body);
    insert.bind(6, static_cast<std::int64_t>(now_ms));
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (!sql::is_unique_violation(e)) throw;
      return make_error(ErrorCode::conflict, "Idempotency-Key is already in use by another request");
    }
    return {};
  });
}

Result<std::int64_t> IdempotencyRepo::purge_expired() {
  return sql::guard("purge idempotency keys", [&]() -> Result<std::int64_t> {
    SQLite::Statement purge(m_db.sql(), "DELETE FROM idempotency_keys WHERE created_at_ms <= ?");
    purge.bind(1, static_cast<std::int64_t>(to_ms(m_clock.now()) - k_idempotency_ttl_ms));
    return static_cast<std::int64_t>(purge.exec());
  });
}

}  // namespace mailer::store
