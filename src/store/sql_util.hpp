#pragma once
// Shared plumbing for every repo in src/store (internal: include as
// "store/sql_util.hpp"; nothing outside src/store may see SQLiteCpp).
//
// The rule (STYLE §4): no SQLite::Exception leaves src/store. Wrap every repo
// method body in sql::guard, or sql::transaction when it writes more than one
// statement, and the exception becomes an Error with a code the caller can act on:
//
//   SQLITE_BUSY, LOCKED, FULL, IOERR, READONLY, CANTOPEN, NOTADB, CORRUPT, ...
//                                         -> storage_unavailable ("retry later", 503)
//   UNIQUE / PRIMARY KEY constraint       -> conflict
//   FOREIGN KEY constraint                -> conflict (the row it needs is gone)
//   anything else (CHECK, NOT NULL, misuse, bad column) -> internal (a bug)
//
// Example (a repo method):
//
//   Result<Template> TemplateRepo::create(const NewTemplate& t) {
//     return sql::transaction(m_db, "create template", [&]() -> Result<Template> {
//       SQLite::Statement insert(m_db.sql(), "INSERT INTO templates ...");
//       insert.bind(1, t.id);
//       insert.exec();
//       ...
//       return tmpl;  // a value commits; returning an Error rolls back
//     });
//   }
//
// Details never carry SQL or row data (they may reach an HTTP problem); a
// repo that knows better replaces the detail of a conflict, e.g.
// `if (r.error().code == ErrorCode::conflict) return make_error(conflict, "name taken")`.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Exception.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/page.hpp"

namespace mailer::store::sql {

/// The Error for a SQLite failure while doing `action`, a short phrase such as
/// "create key" that starts the detail: "create key: database is locked".
Error to_error(const SQLite::Exception& e, std::string_view action);

/// The same from a SQLite result code (extended or primary), for calls that
/// return codes instead of throwing (sqlite3_backup_step).
Error to_error(int result_code, std::string_view action);

/// Runs `body` (returning some Result<T>) and converts a SQLite::Exception it
/// throws into that Result's Error. Other exceptions are bugs and propagate.
template <typename F>
auto guard(std::string_view action, F&& body) -> std::invoke_result_t<F&> {
  try {
    return body();
  } catch (const SQLite::Exception& e) {
    return to_error(e, action);
  }
}

/// `deferred` starts reading and upgrades on the first write; `immediate` takes
/// the write lock at BEGIN, waiting up to the busy timeout. Use `immediate` for
/// read-then-write work: a deferred transaction that must upgrade while another
/// connection writes fails with SQLITE_BUSY at once, without waiting.
enum class TxMode { deferred, immediate };

/// Runs `body` (returning some Result<T>) in a transaction on `db`: commits when
/// it returns a value; rolls back when it returns an Error or throws. SQLite
/// failures, including at BEGIN and COMMIT, become Errors as in guard().
template <typename F>
auto transaction(Database& db, std::string_view action, F&& body, TxMode mode = TxMode::immediate)
    -> std::invoke_result_t<F&> {
  return guard(action, [&]() -> std::invoke_result_t<F&> {
    SQLite::Transaction tx(db.sql(), mode == TxMode::immediate ? SQLite::TransactionBehavior::IMMEDIATE
                                                               : SQLite::TransactionBehavior::DEFERRED);
    auto result = body();
    if (result) tx.commit();
    return result;
  });
}

/// True when `e` is a UNIQUE or PRIMARY KEY constraint failure.
bool is_unique_violation(const SQLite::Exception& e);

/// NULL-aware column readers and binders for the optional columns (`*_at_ms`, ...).
std::optional<std::int64_t> optional_int64(const SQLite::Column& column);
std::optional<std::string> optional_text(const SQLite::Column& column);
void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::int64_t>& value);
void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::string>& value);

/// The first column of the first row of a parameterless `query` such as
/// "SELECT count(*) FROM t" as an integer, 0 when it returns no row or NULL.
/// Throws like SQLiteCpp (use inside guard/transaction).
std::int64_t query_int64(SQLite::Database& db, const std::string& query);

/// The rows `page` skips: its offset on a first page, none past it, where
/// `after` already says where the page starts (keyset paging, store/page.hpp).
std::int64_t page_offset(const PageQuery& page);

/// Binds the "LIMIT ? OFFSET ?" of `page` at `index` and `index` + 1: one row
/// more than the page holds, so read_page() can tell whether another follows,
/// and page_offset(page).
void bind_page(SQLite::Statement& query, int index, const PageQuery& page);

/// Ends a page filled with up to `page.limit` + 1 items: an item past the limit
/// means another page follows, so it is dropped and next_after becomes
/// `after_of(last item kept)`; else next_after stays "" (the last page).
template <typename T, typename AfterOf>
void end_page(Page<T>& result, const PageQuery& page, AfterOf after_of) {
  if (result.items.size() <= static_cast<std::size_t>(page.limit)) return;
  result.items.pop_back();
  result.next_after = after_of(result.items.back());
}

/// The page of a query bound with bind_page(): each row read by `read(query)`,
/// then end_page(). Example:
/// `read_page(query, page, read_template, [](const Template& t) { return t.id; })`.
template <typename Read, typename AfterOf>
auto read_page(SQLite::Statement& query, const PageQuery& page, Read read, AfterOf after_of)
    -> Page<std::invoke_result_t<Read&, SQLite::Statement&>> {
  Page<std::invoke_result_t<Read&, SQLite::Statement&>> result;
  while (query.executeStep()) result.items.push_back(read(query));
  end_page(result, page, after_of);
  return result;
}

/// Prepared statements of one connection, kept by their SQL text, so a hot path
/// parses each query once: re-preparing per message was a fifth of the job
/// engine's CPU (docs/PERFORMANCE.md). Owned by Database (statements()); one
/// per connection, not thread-safe, like the connection.
class StatementCache {
 public:
  explicit StatementCache(SQLite::Database& db) : m_db(db) {}
  /// The statement for `query`, prepared on first use, reset and with its
  /// bindings cleared. Throws like SQLiteCpp on a bad query (use inside
  /// guard/transaction). The reference lives as long as the cache.
  SQLite::Statement& get(const std::string& query);

  /// The database's erasure salt (schema 0010), once read by
  /// suppression::hashed_key_of: it never changes once written, so each
  /// connection reads it once instead of on every suppression check.
  std::optional<std::string>& erasure_salt() { return m_erasure_salt; }

 private:
  SQLite::Database& m_db;
  std::optional<std::string> m_erasure_salt;
  std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> m_statements;
};

}  // namespace mailer::store::sql
