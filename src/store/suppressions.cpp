#include "mailer/store/suppressions.hpp"

#include <fmt/format.h>

#include "mailer/core/metrics.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

constexpr const char* k_select =
    "SELECT email, reason, scope, detail_json, created_at_ms, updated_at_ms FROM suppressions";

// NOTE: the upsert keeps scope 'all' when the new row says 'bulk', and then keeps
// the old reason too: a hard bounce must not become a mere unsubscribe.
constexpr const char* k_upsert =
    "INSERT INTO suppressions(email, reason, scope, detail_json, created_at_ms, updated_at_ms) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?5) ON CONFLICT(email) DO UPDATE SET "
    "reason = CASE WHEN scope = 'all' AND excluded.scope = 'bulk' THEN reason ELSE excluded.reason END, "
    "detail_json = CASE WHEN scope = 'all' AND excluded.scope = 'bulk' THEN detail_json "
    "  ELSE excluded.detail_json END, "
    "scope = CASE WHEN scope = 'all' THEN 'all' ELSE excluded.scope END, "
    "updated_at_ms = excluded.updated_at_ms";

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

std::optional<Suppression> find(SQLite::Database& db, const std::string& key) {
  SQLite::Statement query(db, std::string(k_select) + " WHERE email = ?");
  query.bind(1, key);
  if (!query.executeStep()) return std::nullopt;
  return read_row(query);
}

void upsert(SQLite::Statement& statement, const Suppression& s, std::int64_t now_ms) {
  statement.reset();
  statement.bind(1, s.email);
  statement.bind(2, to_string(s.reason));
  statement.bind(3, to_string(s.scope));
  statement.bind(4, s.detail_json.empty() ? std::string("{}") : s.detail_json);
  statement.bind(5, static_cast<std::int64_t>(now_ms));
  statement.exec();
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

Result<Page<Suppression>> SuppressionRepo::list(const PageQuery& page,
                                                std::optional<SuppressionReason> reason) {
  return sql::guard("list suppressions", [&]() -> Result<Page<Suppression>> {
    SQLite::Statement query(m_db.sql(),
                            std::string(k_select) +
                                " WHERE email > ?1 AND (?2 IS NULL OR reason = ?2) "
                                "ORDER BY email LIMIT ?3 OFFSET ?4");
    query.bind(1, page.after);
    sql::bind_optional(query, 2, reason ? std::optional<std::string>(to_string(*reason)) : std::nullopt);
    query.bind(3, page.limit + 1);
    query.bind(4, static_cast<std::int64_t>(page.after.empty() ? page.offset : 0));
    Page<Suppression> result;
    while (query.executeStep()) result.items.push_back(read_row(query));
    if (result.items.size() > static_cast<std::size_t>(page.limit)) {
      result.items.pop_back();
      result.next_after = result.items.back().email;
    }
    return result;
  });
}

Result<Suppression> SuppressionRepo::get(const std::string& key) {
  return sql::guard("read suppression", [&]() -> Result<Suppression> {
    auto found = find(m_db.sql(), key);
    if (!found) return make_error(ErrorCode::not_found, fmt::format("{} is not suppressed", key));
    return *found;
  });
}

Result<Suppression> SuppressionRepo::add(const Suppression& s) {
  const auto now_ms = to_ms(m_clock.now());
  auto added = sql::transaction(m_db, "add suppression", [&]() -> Result<Suppression> {
    SQLite::Statement statement(m_db.sql(), k_upsert);
    upsert(statement, s, now_ms);
    return *find(m_db.sql(), s.email);
  });
  // Counted once committed, and only for a new address: a second bounce from
  // a suppressed address changes nothing on the list.
  if (added && added->created_at_ms == now_ms) metrics::count_suppression(to_string(added->reason));
  return added;
}

Status SuppressionRepo::remove(const std::string& key) {
  return sql::guard("remove suppression", [&]() -> Status {
    SQLite::Statement statement(m_db.sql(), "DELETE FROM suppressions WHERE email = ?");
    statement.bind(1, key);
    if (statement.exec() == 0) return make_error(ErrorCode::not_found, fmt::format("{} is not suppressed", key));
    return {};
  });
}

Result<bool> SuppressionRepo::is_suppressed(const std::string& key, MessageKind kind) {
  return sql::guard("check suppression", [&]() -> Result<bool> {
    SQLite::Statement query(m_db.sql(), "SELECT scope FROM suppressions WHERE email = ?");
    query.bind(1, key);
    if (!query.executeStep()) return false;
    return blocks(parse_suppression_scope(query.getColumn(0).getString()).value_or(SuppressionScope::all),
                  kind);
  });
}

Result<std::int64_t> SuppressionRepo::import(const std::vector<Suppression>& rows) {
  return sql::transaction(m_db, "import suppressions", [&]() -> Result<std::int64_t> {
    SQLite::Statement statement(m_db.sql(), k_upsert);
    std::int64_t now_ms = to_ms(m_clock.now());
    for (const auto& row : rows) upsert(statement, row, now_ms);
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
