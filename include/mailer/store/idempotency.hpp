#pragma once
// Idempotency-Key records (SPEC §3): the first response to a POST is kept for
// 24 hours per (API key, Idempotency-Key) and replayed for the same request.

#include <cstdint>
#include <optional>
#include <string>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

/// How long a stored response is replayed: 24 hours.
inline constexpr std::int64_t k_idempotency_ttl_ms = 24LL * 3600 * 1000;

struct StoredResponse {
  int status = 0;    // HTTP status of the first response, e.g. 202
  std::string body;  // its body, byte for byte
  std::int64_t created_at_ms = 0;
};

class IdempotencyRepo {
 public:
  IdempotencyRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// The stored response for (`api_key_id`, `key`) when one younger than 24 h
  /// exists and was made for the same `request_hash` (SHA-256 hex of method,
  /// route and body, computed by the caller); std::nullopt when there is none
  /// (or only an expired one): the caller handles the request, then store()s.
  /// Errors: conflict when the key was used with a different request
  /// ("Idempotency-Key was already used with a different request");
  /// storage_unavailable.
  Result<std::optional<StoredResponse>> lookup(const std::string& api_key_id, const std::string& key,
                                               const std::string& request_hash);

  /// Records the response of the first request with this key; an expired
  /// record is replaced. Errors: conflict when a live record exists (two
  /// requests with the same key raced; the loser should lookup() again);
  /// storage_unavailable.
  Status store(const std::string& api_key_id, const std::string& key, const std::string& request_hash, int status,
               const std::string& body);

  /// Deletes records older than 24 h; returns how many. Errors: storage_unavailable.
  Result<std::int64_t> purge_expired();

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
