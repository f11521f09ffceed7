#pragma once
// Erasing an address (docs/API.md "Erasing an address"), for
// `DELETE /v1/admin/recipients/{email}` and `mailerctl erase` alike: the
// address checked and normalized as the suppression list does, then
// store::ErasureRepo::erase, then one log line naming the hash, never the
// address.

#include <string>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/erasure.hpp"

namespace mailer::service {

class ErasureService {
 public:
  ErasureService(store::Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Erases `email` (any spelling of a valid address; compared as the
  /// suppression list compares: normalized, ASCII lower case). `actor` goes to
  /// the audit row: "mailerctl" or the acting key id. Errors: invalid_input
  /// (field "email": not an address, or a hashed suppression key, which names
  /// no address to erase); conflict (a message to it is being sent) and
  /// storage_unavailable as store::ErasureRepo::erase, nothing changed.
  Result<store::ErasureResult> erase(const std::string& email, store::SuppressionHashing hashing,
                                     const std::string& actor);

 private:
  store::Database& m_db;
  const Clock& m_clock;
};

/// The answer of both the API and `mailerctl erase --json`:
/// {"erased": {"messages", "cancelled", "events", "idempotency_keys",
///  "webhook_deliveries", "webhook_attempts", "batch_links"} (counts),
///  "suppression": "none"|"kept"|"hashed", "address_hash": "sha256:...",
///  "wal_checkpointed": bool}. The address itself is not repeated.
nlohmann::json to_json(const store::ErasureResult& result);

}  // namespace mailer::service
