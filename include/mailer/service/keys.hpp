#pragma once
// API keys as the API and mailerctl manage them (create, list, revoke,
// audit). The caller names the actor written to the audit trail: the calling
// key's id over HTTP, "mailerctl" on the command line.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/keys.hpp"

namespace mailer::service {

/// A key with its history, oldest entry first.
struct KeyAudit {
  store::ApiKey key;
  std::vector<store::AuditEntry> entries;
};

class KeyService {
 public:
  KeyService(store::Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Errors: invalid_input (field "name": 1-100 characters, no controls).
  Result<store::CreatedKey> create(const std::string& name, store::Scope scope, const std::string& actor);
  Result<std::vector<store::ApiKey>> list();
  /// Errors: not_found; conflict when already revoked.
  Result<store::ApiKey> revoke(const std::string& id, const std::string& actor);
  /// Errors: not_found.
  Result<KeyAudit> audit(const std::string& id);

 private:
  store::Database& m_db;
  const Clock& m_clock;
};

/// A key as both the API and `mailerctl --json` print it, never its secret:
/// id, name, scope, prefix, created_at, revoked_at, last_used_at (RFC 3339,
/// the last two null when absent) and use_count.
nlohmann::json to_json(const store::ApiKey& key);
/// An audit entry: id, action (created | revoked), actor, at (RFC 3339).
nlohmann::json to_json(const store::AuditEntry& entry);

}  // namespace mailer::service
