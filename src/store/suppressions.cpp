#include "mailer/store/suppressions.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>

#include "mailer/core/metrics.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"
#include "store/suppression_rules.hpp"

namespace mailer::store {
namespace {

constexpr const char* k_select =
    "SELECT email, reason, scope, detail_json, created_at_ms, updated_at_ms FROM suppressions";

// The one writer of suppression rows: merged() has decided the whole row, so a
// conflict just takes it (created_at_ms stays the stored one).
constexpr const char* k_write =
    "INSERT INTO suppressions(email, reason, scope, detail_json, created_at_ms, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(email) DO UPDATE SET reason = excluded.reason, "
    "scope = excluded.scope, detail_json = excluded.detail_json, updated_at_ms = excluded.updated_at_ms";

Suppression read_row(SQLite::Statement& row) {
  Suppression s;
  s.email = row.getColumn(0).getString();
  s.reason = parse_suppression_reason(row.getColumn(1).getString()).value_or(SuppressionReason::manual);
  s.scope = parse_suppression_scope(row.getColumn(2).getString()).value_or(SuppressionScope::all);
  s.detail_json = row.getColumn(3).getString();
  s.created_at_ms = row.getColumn(4).getInt64();
  s.updated_at_ms = row.getColumn(5).getInt64();
  return s;
}

std::optional<Suppression> find(sql::StatementCache& statements, const std::string& key) {
  auto& query = statements.get(std::string(k_select) + " WHERE email = ?");
  query.bind(1, key);
  if (!query.executeStep()) return std::nullopt;
  Suppression row = read_row(query);
  query.reset();  // a cached statement left on a row would keep its read transaction open
  return row;
}

void write(sql::StatementCache& statements, const Suppression& s) {
  auto& statement = statements.get(k_write);
  statement.bind(1, s.email);
  statement.bind(2, to_string(s.reason));
  statement.bind(3, to_string(s.scope));
  statement.bind(4, s.detail_json.empty() ? std::string("{}") : s.detail_json);
  statement.bind(5, static_cast<std::int64_t>(s.created_at_ms));
  statement.bind(6, static_cast<std::int64_t>(s.updated_at_ms));
  statement.exec();
}

// Whether `incoming` strengthens `stored` enough for feedback to write it.
bool feedback_overrides(const Suppression& stored, const Suppression& incoming) {
  if (incoming.scope != SuppressionScope::all) return false;
  return stored.scope == SuppressionScope::bulk ||
         (stored.reason == SuppressionReason::soft_bounce && incoming.reason != SuppressionReason::soft_bounce);
}

}  // namespace

const char* to_string(SuppressionReason reason) {
  switch (reason) {
    case SuppressionReason::bounce: return "bounce";
    case SuppressionReason::complaint: return "complaint";
    case SuppressionReason::unsubscribe: return "unsubscribe";
    case SuppressionReason::manual: return "manual";
    case SuppressionReason::soft_bounce: return "soft_bounce";
  }
  return "manual";
}

const char* to_string(SuppressionScope scope) { return scope == SuppressionScope::all ? "all" : "bulk"; }

std::optional<SuppressionReason> parse_suppression_reason(std::string_view text) {
  for (auto r : {SuppressionReason::bounce, SuppressionReason::complaint, SuppressionReason::unsubscribe,
                 SuppressionReason::manual, SuppressionReason::soft_bounce})
    if (text == to_string(r)) return r;
  return std::nullopt;
}

std::optional<SuppressionScope> parse_suppression_scope(std::string_view text) {
  if (text == "all") return SuppressionScope::all;
  if (text == "bulk") return SuppressionScope::bulk;
  return std::nullopt;
}

SuppressionScope default_scope(SuppressionReason reason) {
  return reason == SuppressionReason::unsubscribe ? SuppressionScope::bulk : SuppressionScope::all;
}

bool blocks(SuppressionScope scope, MessageKind kind) {
  return scope == SuppressionScope::all || kind == MessageKind::bulk;
}

std::optional<Suppression> merged(const std::optional<Suppression>& stored, const Suppression& incoming,
                                  SuppressionSource source) {
  if (!stored) return incoming;
  if (source == SuppressionSource::feedback && !feedback_overrides(*stored, incoming)) return std::nullopt;
  Suppression out = incoming;
  out.created_at_ms = stored->created_at_ms;
  // NOTE: an operator's `bulk` over a stored `all` keeps the old reason too:
  // a hard bounce must not turn into a mere unsubscribe.
  if (stored->scope == SuppressionScope::all && incoming.scope == SuppressionScope::bulk) {
    out.reason = stored->reason;
    out.scope = SuppressionScope::all;
    out.detail_json = stored->detail_json;
  }
  return out;
}

constexpr std::string_view k_hash_prefix = "sha256:";

bool is_hashed_suppression_key(std::string_view email) {
  if (!email.starts_with(k_hash_prefix) || email.size() != k_hash_prefix.size() + 64) return false;
  return std::all_of(email.begin() + static_cast<std::ptrdiff_t>(k_hash_prefix.size()), email.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

namespace suppression {

std::string key_of(std::string_view address) { return text::ascii_lower(address); }

std::string hashed_key_of(sql::StatementCache& statements, const std::string& key) {
  auto& salt = statements.erasure_salt();
  if (!salt) {
    auto& query = statements.get("SELECT salt FROM erasure_salt WHERE id = 1");
    if (!query.executeStep()) throw std::logic_error("erasure_salt has no row (schema 0010 writes it)");
    auto column = query.getColumn(0);
    salt = std::string(static_cast<const char*>(column.getBlob()), static_cast<std::size_t>(column.getBytes()));
    query.reset();
  }
  // NOTE: plain SHA-256 over salt || key, not HMAC: the salt has a fixed
  // length, so nothing can be appended to forge another key's hash, and the
  // digest costs 0.6 µs where OpenSSL 3's one-shot HMAC costs 2.3 µs, paid on
  // every suppression check of every recipient.
  return std::string(k_hash_prefix) + crypto::hex(crypto::sha256(*salt + key));
}

std::optional<SuppressionReason> blocking_reason(sql::StatementCache& statements, const std::string& key,
                                                 MessageKind kind) {
  const auto hashed = hashed_key_of(statements, key);
  auto& query = statements.get("SELECT scope, reason FROM suppressions WHERE email IN (?1, ?2)");
  query.bind(1, key);
  query.bind(2, hashed);
  std::optional<SuppressionReason> blocking;
  while (!blocking && query.executeStep()) {
    auto scope = parse_suppression_scope(query.getColumn(0).getString()).value_or(SuppressionScope::all);
    auto reason = parse_suppression_reason(query.getColumn(1).getString()).value_or(SuppressionReason::manual);
    if (blocks(scope, kind)) blocking = reason;
  }
  query.reset();  // as in find()
  return blocking;
}

std::optional<Suppression> merge(sql::StatementCache& statements, const Suppression& incoming, SuppressionSource source,
                                 std::int64_t now_ms) {
  Suppression stamped = incoming;
  stamped.created_at_ms = stamped.updated_at_ms = now_ms;
  auto row = merged(find(statements, incoming.email), stamped, source);
  if (row) write(statements, *row);
  return row;
}

}  // namespace suppression

Result<Page<Suppression>> SuppressionRepo::list(const PageQuery& page, std::optional<SuppressionReason> reason) {
  return sql::guard("list suppressions", [&]() -> Result<Page<Suppression>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select) +
                                            " WHERE email > ?1 AND (?2 IS NULL OR reason = ?2) "
                                            "ORDER BY email LIMIT ?3 OFFSET ?4");
    query.bind(1, page.after);
    sql::bind_optional(query, 2, reason ? std::optional<std::string>(to_string(*reason)) : std::nullopt);
    sql::bind_page(query, 3, page);
    return sql::read_page(query, page, read_row, [](const Suppression& s) { return s.email; });
  });
}

Result<Suppression> SuppressionRepo::get(const std::string& key) {
  return sql::guard("read suppression", [&]() -> Result<Suppression> {
    auto found = find(m_db.statements(), key);
    if (!found && !is_hashed_suppression_key(key))
      found = find(m_db.statements(), suppression::hashed_key_of(m_db.statements(), key));
    if (!found) return make_error(ErrorCode::not_found, fmt::format("{} is not suppressed", key));
    return *found;
  });
}

Result<Suppression> SuppressionRepo::add(const Suppression& s) {
  const auto now_ms = to_ms(m_clock.now());
  auto added = sql::transaction(m_db, "add suppression", [&]() -> Result<Suppression> {
    suppression::merge(m_db.statements(), s, SuppressionSource::operator_request, now_ms);
    return *find(m_db.statements(), s.email);
  });
  // Counted once committed, and only for a new address: a second bounce from
  // a suppressed address changes nothing on the list.
  if (added && added->created_at_ms == now_ms) metrics::count_suppression(to_string(added->reason));
  return added;
}

Status SuppressionRepo::remove(const std::string& key) {
  return sql::guard("remove suppression", [&]() -> Status {
    SQLite::Statement statement(m_db.sql(), "DELETE FROM suppressions WHERE email IN (?1, ?2)");
    statement.bind(1, key);
    statement.bind(2, suppression::hashed_key_of(m_db.statements(), key));
    if (statement.exec() == 0) return make_error(ErrorCode::not_found, fmt::format("{} is not suppressed", key));
    return {};
  });
}

Result<bool> SuppressionRepo::is_suppressed(const std::string& key, MessageKind kind) {
  return sql::guard("check suppression", [&]() -> Result<bool> {
    return suppression::blocking_reason(m_db.statements(), key, kind).has_value();
  });
}

Result<std::int64_t> SuppressionRepo::import(const std::vector<Suppression>& rows) {
  return sql::transaction(m_db, "import suppressions", [&]() -> Result<std::int64_t> {
    std::int64_t now_ms = to_ms(m_clock.now());
    for (const auto& row : rows)
      suppression::merge(m_db.statements(), row, SuppressionSource::operator_request, now_ms);
    return static_cast<std::int64_t>(rows.size());
  });
}

Result<std::vector<Suppression>> SuppressionRepo::export_all() {
  return sql::guard("export suppressions", [&]() -> Result<std::vector<Suppression>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select) + " ORDER BY email");
    std::vector<Suppression> rows;
    while (query.executeStep()) rows.push_back(read_row(query));
    return rows;
  });
}

}  // namespace mailer::store
