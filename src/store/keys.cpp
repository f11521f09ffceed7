#include "mailer/store/keys.hpp"

#include <map>
#include <mutex>
#include <utility>

#include <fmt/format.h>

#include "mailer/core/ids.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"
#include "store/sql_util.hpp"

// Keys are "mk_" + base64url(32 random bytes): 46 characters, of which the first
// 12 are stored in clear as the prefix that identifies a key in lists. Only the
// SHA-256 of the whole key is stored; a lookup finds the row by that hash and
// compares it again in constant time.
//
// Usage (last_used_at_ms, use_count) is written at most once per second per
// key, so a busy client does not turn every request into a write. Uses in
// between are counted in memory (process-wide, since each thread has its own
// KeyRepo) and added at the next write, so use_count stays exact up to the
// last second before a crash.

namespace mailer::store {
namespace {

constexpr std::string_view k_key_marker = "mk_";
constexpr std::size_t k_key_random_bytes = 32;
constexpr std::size_t k_key_length = 3 + 43;  // marker + base64url(32 bytes) unpadded
constexpr std::size_t k_prefix_length = 12;
constexpr std::size_t k_max_name_length = 100;
constexpr std::int64_t k_usage_write_interval_ms = 1000;

// Column list of read_key(); callers append " FROM api_keys ..." (and may add columns after).
constexpr const char* k_select_key =
    "SELECT id, name, scope, prefix, created_at_ms, revoked_at_ms, last_used_at_ms, use_count";

struct PendingUses {
  std::mutex mutex;
  std::map<std::string, std::int64_t> count_by_key;
};

PendingUses& pending_uses() {
  static PendingUses instance;
  return instance;
}

ApiKey read_key(SQLite::Statement& row) {
  ApiKey key;
  key.id = row.getColumn(0).getString();
  key.name = row.getColumn(1).getString();
  key.scope = parse_scope(row.getColumn(2).getString()).value_or(Scope::read);
  key.prefix = row.getColumn(3).getString();
  key.created_at_ms = row.getColumn(4).getInt64();
  key.revoked_at_ms = sql::optional_int64(row.getColumn(5));
  key.last_used_at_ms = sql::optional_int64(row.getColumn(6));
  key.use_count = row.getColumn(7).getInt64();
  return key;
}

std::optional<ApiKey> find_by_id(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(db, std::string(k_select_key) + " FROM api_keys WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return read_key(query);
}

void insert_audit(SQLite::Database& db, const std::string& key_id, const char* action, const std::string& actor,
                  std::int64_t at_ms) {
  SQLite::Statement insert(db,
                           "INSERT INTO api_key_audit(key_id, action, actor, at_ms) "
                           "VALUES (?, ?, ?, ?)");
  insert.bind(1, key_id);
  insert.bind(2, action);
  insert.bind(3, actor);
  insert.bind(4, static_cast<std::int64_t>(at_ms));
  insert.exec();
}

Status validate_name(const std::string& name) {
  // The same rule as template names: a key name is read in mailerctl keys list
  // and in the audit, where a line break or NUL would garble the table.
  if (auto problem = text::name_problem(name, k_max_name_length))
    return Error{ErrorCode::invalid_input, "invalid key name", {{"name", *problem}}};
  return {};
}

bool well_formed(const std::string& secret) {
  std::string raw;
  return secret.size() == k_key_length && secret.starts_with(k_key_marker) &&
         crypto::base64url_decode(std::string_view(secret).substr(k_key_marker.size()), raw) &&
         raw.size() == k_key_random_bytes;
}

// Counts one use of `key` and, when its last recorded use is a second old or
// more, writes the uses counted so far. The UPDATE re-checks the time so two
// threads that both read an old last_used_at_ms write once; the loser keeps
// its count for the next write. A failed write (busy) keeps the count too:
// bookkeeping never fails an authentication.
void record_use(Database& db, ApiKey& key, std::int64_t now_ms) {
  auto& pending = pending_uses();
  std::int64_t uses = 0;
  {
    std::scoped_lock lock(pending.mutex);
    std::int64_t& count = pending.count_by_key[key.id];
    ++count;
    if (key.last_used_at_ms && now_ms - *key.last_used_at_ms < k_usage_write_interval_ms) return;
    uses = std::exchange(count, 0);
  }
  auto written = sql::guard("record API key use", [&]() -> Result<bool> {
    SQLite::Statement update(db.sql(),
                             "UPDATE api_keys SET last_used_at_ms = ?1, use_count = use_count + ?2 "
                             "WHERE id = ?3 AND (last_used_at_ms IS NULL OR last_used_at_ms <= ?1 - ?4)");
    update.bind(1, static_cast<std::int64_t>(now_ms));
    update.bind(2, static_cast<std::int64_t>(uses));
    update.bind(3, key.id);
    update.bind(4, static_cast<std::int64_t>(k_usage_write_interval_ms));
    return update.exec() == 1;
  });
  if (written && *written) {
    key.last_used_at_ms = now_ms;
    key.use_count += uses;
    return;
  }
  std::scoped_lock lock(pending.mutex);
  pending.count_by_key[key.id] += uses;
}

Error unauthorized() { return make_error(ErrorCode::unauthorized, "unknown or revoked API key"); }

}  // namespace

const char* to_string(Scope scope) {
  switch (scope) {
    case Scope::read: return "read";
    case Scope::send: return "send";
    case Scope::admin: return "admin";
  }
  return "read";
}

std::optional<Scope> parse_scope(std::string_view text) {
  if (text == "read") return Scope::read;
  if (text == "send") return Scope::send;
  if (text == "admin") return Scope::admin;
  return std::nullopt;
}

Result<CreatedKey> KeyRepo::create(const std::string& name, Scope scope, const std::string& actor) {
  if (auto valid = validate_name(name); !valid) return valid.error();
  CreatedKey created;
  std::string random = crypto::random_bytes(k_key_random_bytes);
  created.secret = std::string(k_key_marker) + crypto::base64url_encode(random);
  crypto::wipe(random);
  created.key.id = ids::make(ids::k_key);
  created.key.name = name;
  created.key.scope = scope;
  created.key.prefix = created.secret.substr(0, k_prefix_length);
  created.key.created_at_ms = to_ms(m_clock.now());
  auto digest = crypto::sha256(created.secret);
  return sql::transaction(m_db, "create API key", [&]() -> Result<CreatedKey> {
    SQLite::Statement insert(m_db.sql(),
                             "INSERT INTO api_keys(id, name, scope, prefix, hash, created_at_ms) "
                             "VALUES (?, ?, ?, ?, ?, ?)");
    insert.bind(1, created.key.id);
    insert.bind(2, name);
    insert.bind(3, to_string(scope));
    insert.bind(4, created.key.prefix);
    insert.bind(5, digest.data(), static_cast<int>(digest.size()));
    insert.bind(6, static_cast<std::int64_t>(created.key.created_at_ms));
    insert.exec();
    insert_audit(m_db.sql(), created.key.id, "created", actor, created.key.created_at_ms);
    return created;
  });
}

Result<ApiKey> KeyRepo::authenticate(const std::string& secret) {
  if (!well_formed(secret)) return unauthorized();
  auto digest = crypto::sha256(secret);
  auto found = sql::guard("authenticate API key", [&]() -> Result<ApiKey> {
    SQLite::Statement query(m_db.sql(), std::string(k_select_key) + ", hash FROM api_keys WHERE hash = ?");
    query.bind(1, digest.data(), static_cast<int>(digest.size()));
    if (!query.executeStep()) return unauthorized();
    const auto& stored = query.getColumn(8);
    std::string_view stored_hash(static_cast<const char*>(stored.getBlob()),
                                 static_cast<std::size_t>(stored.getBytes()));
    if (!crypto::constant_time_equal(stored_hash, crypto::as_bytes(digest))) return unauthorized();
    return read_key(query);
  });
  if (!found) return found;  // storage_unavailable stays 503: the key may be fine
  if (found->revoked_at_ms) return unauthorized();
  record_use(m_db, *found, to_ms(m_clock.now()));
  return found;
}

Result<std::vector<ApiKey>> KeyRepo::list() {
  return sql::guard("list API keys", [&]() -> Result<std::vector<ApiKey>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select_key) + " FROM api_keys ORDER BY id");
    std::vector<ApiKey> keys;
    while (query.executeStep()) keys.push_back(read_key(query));
    return keys;
  });
}

Result<ApiKey> KeyRepo::get(const std::string& id) {
  return sql::guard("read API key", [&]() -> Result<ApiKey> {
    auto key = find_by_id(m_db.sql(), id);
    if (!key) return make_error(ErrorCode::not_found, fmt::format("API key {} not found", id));
    return *key;
  });
}

Result<ApiKey> KeyRepo::revoke(const std::string& id, const std::string& actor) {
  return sql::transaction(m_db, "revoke API key", [&]() -> Result<ApiKey> {
    auto key = find_by_id(m_db.sql(), id);
    if (!key) return make_error(ErrorCode::not_found, fmt::format("API key {} not found", id));
    if (key->revoked_at_ms) return make_error(ErrorCode::conflict, fmt::format("API key {} is already revoked", id));
    key->revoked_at_ms = to_ms(m_clock.now());
    SQLite::Statement update(m_db.sql(), "UPDATE api_keys SET revoked_at_ms = ? WHERE id = ?");
    update.bind(1, static_cast<std::int64_t>(*key->revoked_at_ms));
    update.bind(2, id);
    update.exec();
    insert_audit(m_db.sql(), id, "revoked", actor, *key->revoked_at_ms);
    return *key;
  });
}

Result<std::vector<AuditEntry>> KeyRepo::audit(const std::string& id) {
  return sql::guard("read API key audit", [&]() -> Result<std::vector<AuditEntry>> {
    if (!find_by_id(m_db.sql(), id)) return make_error(ErrorCode::not_found, fmt::format("API key {} not found", id));
    SQLite::Statement query(m_db.sql(),
                            "SELECT id, key_id, action, actor, at_ms FROM api_key_audit "
                            "WHERE key_id = ? ORDER BY id");
    query.bind(1, id);
    std::vector<AuditEntry> entries;
    while (query.executeStep()) {
      entries.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getString(), query.getColumn(2).getString(),
                         query.getColumn(3).getString(), query.getColumn(4).getInt64()});
    }
    return entries;
  });
}

}  // namespace mailer::store
