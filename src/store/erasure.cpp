#include "mailer/store/erasure.hpp"

#include <algorithm>
#include <set>
#include <tuple>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "store/batch_status_writer.hpp"
#include "store/sql_util.hpp"
#include "store/suppression_rules.hpp"

namespace mailer::store {
namespace {

// A table whose rows naming the address are found by reading every row (no
// index can find text inside JSON). Parameters of `match`: ?1 the key, ?2 the
// key in quotes (a whole JSON string), ?3 the key with '@' as %40 (in a URL).
struct Scanned {
  const char* table;
  const char* match;
};

constexpr Scanned k_messages{"messages",
                             "(lower(email) = ?1 OR instr(lower(coalesce(destinations_json, '')), ?2) > 0"
                             " OR instr(lower(coalesce(suppressed_json, '')), ?2) > 0)"};
constexpr Scanned k_idempotency{"idempotency_keys", "instr(lower(response_body), ?1) > 0"};
constexpr Scanned k_deliveries{"webhook_deliveries", "instr(lower(body), ?1) > 0"};
constexpr Scanned k_attempts{"webhook_attempts", "instr(lower(response), ?1) > 0"};
constexpr Scanned k_links{"batch_links", "(instr(lower(link), ?1) > 0 OR instr(lower(link), ?3) > 0)"};
constexpr const Scanned* k_scanned[] = {&k_messages, &k_idempotency, &k_deliveries, &k_attempts, &k_links};

// The rows of one scanned table that matched in the read phase, and the
// highest rowid then: rows written later are looked at again under the lock.
struct Candidates {
  std::string rowids_json = "[]";
  std::int64_t max_rowid = 0;
};

struct Key {
  std::string plain;
  std::string quoted;
  std::string in_url;
};

// Binds the parameters of `match` the statement has (SQLite counts up to the highest one used).
void bind_key(SQLite::Statement& statement, const Key& key) {
  const int count = statement.getBindParameterCount();
  statement.bind(1, key.plain);
  if (count >= 2) statement.bind(2, key.quoted);
  if (count >= 3) statement.bind(3, key.in_url);
}

Candidates scan(SQLite::Database& db, const Scanned& t, const Key& key) {
  Candidates found;
  found.max_rowid = sql::query_int64(db, fmt::format("SELECT coalesce(max(rowid), 0) FROM {}", t.table));
  SQLite::Statement query(db, fmt::format("SELECT json_group_array(rowid) FROM {} WHERE {}", t.table, t.match));
  bind_key(query, key);
  if (query.executeStep()) found.rowids_json = query.getColumn(0).getString();
  return found;
}

// "FROM <table> WHERE <candidate or newer> AND <match>": ?4 the candidates, ?5 their max rowid.
std::string rows_of(const Scanned& t) {
  return fmt::format("FROM {0} WHERE (rowid IN (SELECT value FROM json_each(?4)) OR rowid > ?5) AND {1}", t.table,
                     t.match);
}

void bind_rows(SQLite::Statement& statement, const Key& key, const Candidates& c) {
  bind_key(statement, key);
  statement.bind(4, c.rowids_json);
  statement.bind(5, c.max_rowid);
}

std::int64_t change_rows(SQLite::Database& db, const std::string& action, const Scanned& t, const Key& key,
                         const Candidates& c) {
  SQLite::Statement statement(db, action.starts_with("DELETE")
                                      ? action + " " + rows_of(t)
                                      : fmt::format("{} WHERE rowid IN (SELECT rowid {})", action, rows_of(t)));
  bind_rows(statement, key, c);
  return statement.exec();
}

struct ErasedMessage {
  std::int64_t rowid;
  std::string id;
  std::optional<std::string> batch_id;
  std::string state;
};

std::vector<ErasedMessage> messages_to(SQLite::Database& db, const Key& key, const Candidates& c) {
  SQLite::Statement query(db, "SELECT rowid, id, batch_id, state " + rows_of(k_messages));
  bind_rows(query, key, c);
  std::vector<ErasedMessage> found;
  while (query.executeStep())
    found.push_back({query.getColumn(0).getInt64(), query.getColumn(1).getString(),
                     sql::optional_text(query.getColumn(2)), query.getColumn(3).getString()});
  return found;
}

Status refuse_in_flight(const std::vector<ErasedMessage>& messages) {
  auto sending = std::count_if(messages.begin(), messages.end(), [](const auto& m) { return m.state == "sending"; });
  if (sending == 0) return {};
  return make_error(ErrorCode::conflict,
                    fmt::format("{} message(s) to this address are being sent (state sending); erase again once they "
                                "finish, within seconds",
                                sending));
}

// Queued and scheduled messages are cancelled before they go, so the
// batch_counts triggers move them to `cancelled` and the batch can complete.
std::int64_t cancel_unfinished(SQLite::Database& db, const std::vector<ErasedMessage>& messages, std::int64_t now_ms) {
  std::int64_t cancelled = 0;
  std::set<std::string> batches;
  SQLite::Statement cancel(db, "UPDATE messages SET state = 'cancelled', updated_at_ms = ? WHERE rowid = ?");
  for (const auto& m : messages) {
    if (m.state != "queued" && m.state != "scheduled") continue;
    cancel.reset();
    cancel.bind(1, now_ms);
    cancel.bind(2, m.rowid);
    cancelled += cancel.exec();
    if (m.batch_id) batches.insert(*m.batch_id);
  }
  for (const auto& batch : batches) batch_rows::settle(db, batch, now_ms);
  return cancelled;
}

std::string ids_json(const std::vector<ErasedMessage>& messages, bool rowids) {
  auto ids = nlohmann::json::array();
  for (const auto& m : messages) rowids ? ids.push_back(m.rowid) : ids.push_back(m.id);
  return ids.dump();
}

// Events naming the key or belonging to an erased message; the newest one
// is emptied rather than deleted (see the header).
std::int64_t erase_events(SQLite::Database& db, const Key& key, const std::string& message_ids) {
  constexpr const char* k_rows = " WHERE (email = ?1 OR message_id IN (SELECT value FROM json_each(?2)))";
  SQLite::Statement remove(db, std::string("DELETE FROM events") + k_rows + " AND id < (SELECT max(id) FROM events)");
  SQLite::Statement empty(db, std::string("UPDATE events SET email = '', detail_json = '{}'") + k_rows +
                                  " AND id = (SELECT max(id) FROM events)");
  std::int64_t changed = 0;
  for (auto* statement : {&remove, &empty}) {
    statement->bind(1, key.plain);
    statement->bind(2, message_ids);
    changed += statement->exec();
  }
  return changed;
}

// The body of a pending delivery without the events naming the key, or
// nullopt when none would be left (or the body cannot be read).
std::optional<std::pair<std::string, std::int64_t>> without_key(const std::string& body, const Key& key) {
  auto parsed = parse_json(body, "webhook delivery body", {.max_bytes = k_size_checked_elsewhere});
  if (!parsed || !parsed->is_object() || !parsed->contains("data") || !(*parsed)["data"].is_array())
    return std::nullopt;
  auto kept = nlohmann::json::array();
  for (const auto& event : (*parsed)["data"])
    if (text::ascii_lower(dump_json(event)).find(key.plain) == std::string::npos) kept.push_back(event);
  if (kept.empty()) return std::nullopt;
  (*parsed)["data"] = kept;
  return std::pair{dump_json(*parsed), static_cast<std::int64_t>(kept.size())};
}

std::int64_t erase_deliveries(SQLite::Database& db, const Key& key, const Candidates& c, std::int64_t now_ms) {
  SQLite::Statement query(db, "SELECT id, status, body " + rows_of(k_deliveries));
  bind_rows(query, key, c);
  std::vector<std::tuple<std::int64_t, std::string, std::string>> found;
  while (query.executeStep())
    found.emplace_back(query.getColumn(0).getInt64(), query.getColumn(1).getString(), query.getColumn(2).getString());
  SQLite::Statement remove(db, "DELETE FROM webhook_deliveries WHERE id = ?");
  SQLite::Statement rewrite(db,
                            "UPDATE webhook_deliveries SET body = ?, event_count = ?, updated_at_ms = ? WHERE id = ?");
  for (const auto& [id, status, body] : found) {
    auto rest = status == "pending" ? without_key(body, key) : std::nullopt;
    if (!rest) {
      remove.reset();
      remove.bind(1, id);
      remove.exec();
      continue;
    }
    rewrite.reset();
    rewrite.bind(1, rest->first);
    rewrite.bind(2, rest->second);
    rewrite.bind(3, now_ms);
    rewrite.bind(4, id);
    rewrite.exec();
  }
  return static_cast<std::int64_t>(found.size());
}

SuppressionOutcome settle_suppression(Database& db, const std::string& key, const std::string& hashed,
                                      SuppressionHashing hashing, std::int64_t now_ms) {
  auto& statements = db.statements();
  SQLite::Statement plain(db.sql(), "SELECT reason, scope FROM suppressions WHERE email = ?");
  plain.bind(1, key);
  if (!plain.executeStep()) {
    SQLite::Statement stored(db.sql(), "SELECT 1 FROM suppressions WHERE email = ?");
    stored.bind(1, hashed);
    return stored.executeStep() ? SuppressionOutcome::hashed : SuppressionOutcome::none;
  }
  if (hashing == SuppressionHashing::keep) return SuppressionOutcome::kept;
  Suppression row{hashed, parse_suppression_reason(plain.getColumn(0).getString()).value_or(SuppressionReason::manual),
                  parse_suppression_scope(plain.getColumn(1).getString()).value_or(SuppressionScope::all), "{}"};
  plain.reset();
  suppression::merge(statements, row, SuppressionSource::operator_request, now_ms);
  SQLite::Statement remove(db.sql(), "DELETE FROM suppressions WHERE email = ?");
  remove.bind(1, key);
  remove.exec();
  return SuppressionOutcome::hashed;
}

void insert_audit(SQLite::Database& db, const ErasureResult& result, const std::string& actor, std::int64_t now_ms) {
  auto counts = nlohmann::json::object();
  for (const auto& [name, n] : named_counts(result.counts)) counts[name] = n;
  counts["suppression"] = to_string(result.suppression);
  SQLite::Statement insert(db, "INSERT INTO erasures(address_hash, actor, counts_json, at_ms) VALUES (?, ?, ?, ?)");
  insert.bind(1, result.address_hash);
  insert.bind(2, actor);
  insert.bind(3, counts.dump());
  insert.bind(4, now_ms);
  insert.exec();
}

// PRAGMA secure_delete for the life of this object, then the setting before
// (https://www.sqlite.org/pragma.html#pragma_secure_delete): a connection
// setting, so the job engine's connections never pay for it.
class SecureDelete {
 public:
  explicit SecureDelete(SQLite::Database& db) : m_db(db) {
    m_before = sql::query_int64(db, "PRAGMA secure_delete");
    sql::query_int64(db, "PRAGMA secure_delete = 1");
  }
  ~SecureDelete() {
    try {
      sql::query_int64(m_db, fmt::format("PRAGMA secure_delete = {}", m_before));
    } catch (const SQLite::Exception&) {
      // NOTE: nothing to report to: the connection only keeps zeroing freed space.
    }
  }
  SecureDelete(const SecureDelete&) = delete;
  SecureDelete& operator=(const SecureDelete&) = delete;

 private:
  SQLite::Database& m_db;
  std::int64_t m_before = 0;
};

// TRUNCATE checkpoint; true when the WAL was emptied (busy = 0, no frame left).
bool truncate_wal(SQLite::Database& db) {
  try {
    SQLite::Statement checkpoint(db, "PRAGMA wal_checkpoint(TRUNCATE)");
    if (!checkpoint.executeStep()) return false;
    return checkpoint.getColumn(0).getInt() == 0 && checkpoint.getColumn(1).getInt() <= 0;
  } catch (const SQLite::Exception&) {
    return false;
  }
}

}  // namespace

std::vector<std::pair<const char*, std::int64_t>> named_counts(const ErasureCounts& c) {
  return {{"messages", c.messages},
          {"cancelled", c.cancelled},
          {"events", c.events},
          {"idempotency_keys", c.idempotency_keys},
          {"webhook_deliveries", c.webhook_deliveries},
          {"webhook_attempts", c.webhook_attempts},
          {"batch_links", c.batch_links}};
}

const char* to_string(SuppressionOutcome outcome) {
  switch (outcome) {
    case SuppressionOutcome::none: return "none";
    case SuppressionOutcome::kept: return "kept";
    case SuppressionOutcome::hashed: return "hashed";
  }
  return "none";
}

Result<ErasureResult> ErasureRepo::erase(const std::string& key_text, SuppressionHashing hashing,
                                         const std::string& actor) {
  Key key{key_text, "\"" + key_text + "\"", key_text};
  if (auto at = key.in_url.find('@'); at != std::string::npos) key.in_url.replace(at, 1, "%40");
  const std::int64_t now_ms = to_ms(m_clock.now());

  std::vector<Candidates> candidates;
  auto scanned = sql::transaction(
      m_db, "find rows to erase",
      [&]() -> Status {
        for (const auto* table : k_scanned) candidates.push_back(scan(m_db.sql(), *table, key));
        return {};
      },
      sql::TxMode::deferred);
  if (!scanned) return scanned.error();

  auto erased = sql::guard("erase address", [&]() -> Result<ErasureResult> {
    SecureDelete secure(m_db.sql());
    return sql::transaction(m_db, "erase address", [&]() -> Result<ErasureResult> {
      auto& db = m_db.sql();
      ErasureResult result;
      result.address_hash = suppression::hashed_key_of(m_db.statements(), key.plain);
      auto messages = messages_to(db, key, candidates[0]);
      if (auto refused = refuse_in_flight(messages); !refused) return refused.error();
      auto& counts = result.counts;
      counts.cancelled = cancel_unfinished(db, messages, now_ms);
      counts.events = erase_events(db, key, ids_json(messages, false));
      SQLite::Statement remove(db, "DELETE FROM messages WHERE rowid IN (SELECT value FROM json_each(?))");
      remove.bind(1, ids_json(messages, true));
      counts.messages = remove.exec();
      counts.idempotency_keys = change_rows(db, "UPDATE idempotency_keys SET response_body = '{\"erased\":true}'",
                                            k_idempotency, key, candidates[1]);
      counts.webhook_deliveries = erase_deliveries(db, key, candidates[2], now_ms);
      counts.webhook_attempts =
          change_rows(db, "UPDATE webhook_attempts SET response = ''", k_attempts, key, candidates[3]);
      counts.batch_links = change_rows(db, "DELETE", k_links, key, candidates[4]);
      result.suppression = settle_suppression(m_db, key.plain, result.address_hash, hashing, now_ms);
      insert_audit(db, result, actor, now_ms);
      return result;
    });
  });
  if (erased) erased->wal_checkpointed = truncate_wal(m_db.sql());
  return erased;
}

}  // namespace mailer::store
