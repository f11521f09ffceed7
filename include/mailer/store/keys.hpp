#pragma once
// API keys (SPEC §7): random keys shown once, stored as SHA-256 hashes, compared
// in constant time, with scopes read < send < admin.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

enum class Scope { read = 0, send = 1, admin = 2 };
const char* to_string(Scope scope);
/// "read" | "send" | "admin"; nullopt otherwise.
std::optional<Scope> parse_scope(std::string_view text);
/// True when a key of scope `have` may call a route needing `need`.
inline bool allows(Scope have, Scope need) { return static_cast<int>(have) >= static_cast<int>(need); }

struct ApiKey {
  std::string id;  // "key_…"
  std::string name;
  Scope scope = Scope::read;
  std::string prefix;  // first characters of the key, shown in lists
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> revoked_at_ms;
  std::optional<std::int64_t> last_used_at_ms;
  std::int64_t use_count = 0;
};

struct CreatedKey {
  ApiKey key;
  std::string secret;  // the whole key, e.g. "mk_<43 base64url chars>"; shown once
};

struct AuditEntry {
  std::int64_t id = 0;
  std::string key_id;
  std::string action;  // created | revoked
  std::string actor;   // "mailerctl" or a key id
  std::int64_t at_ms = 0;
};

class KeyRepo {
 public:
  KeyRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Makes a key of 32 random bytes. Errors: invalid_input (field "name", as
  /// text::name_problem with at most 100 characters); storage_unavailable.
  Result<CreatedKey> create(const std::string& name, Scope scope, const std::string& actor);
  /// The active key whose SHA-256 matches `secret`, recording last use (at most
  /// once per second per key, to keep authentication off the write path).
  /// Errors: unauthorized (unknown, malformed or revoked).
  Result<ApiKey> authenticate(const std::string& secret);
  Result<std::vector<ApiKey>> list();
  Result<ApiKey> get(const std::string& id);
  /// Errors: not_found; conflict when already revoked.
  Result<ApiKey> revoke(const std::string& id, const std::string& actor);
  Result<std::vector<AuditEntry>> audit(const std::string& id);

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
