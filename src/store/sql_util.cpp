#include "store/sql_util.hpp"

#include <sqlite3.h>

#include <fmt/format.h>

namespace mailer::store::sql {
namespace {

ErrorCode code_for(int result_code) {
  switch (result_code) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_FOREIGNKEY: return ErrorCode::conflict;
    default: break;
  }
  switch (result_code & 0xff) {  // the primary code of an extended one
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
    case SQLITE_PROTOCOL:
    case SQLITE_NOLFS:
    case SQLITE_NOMEM: return ErrorCode::storage_unavailable;
    default: return ErrorCode::internal;
  }
}

}  // namespace

Error to_error(int result_code, std::string_view action) {
  ErrorCode code = code_for(result_code);
  // sqlite3_errstr gives a fixed English phrase per code ("database is locked"),
  // never the statement or the values, so the detail is safe to show.
  std::string_view reason =
      code == ErrorCode::conflict ? "already exists or still referenced" : sqlite3_errstr(result_code);
  return make_error(code, fmt::format("{}: {}", action, reason));
}

Error to_error(const SQLite::Exception& e, std::string_view action) {
  int result_code = e.getExtendedErrorCode() >= 0 ? e.getExtendedErrorCode() : e.getErrorCode();
  if (result_code < 0) {
    // SQLiteCpp's own checks (unknown column, bad index) carry no code: a bug,
    // and its message names no data, so keep it for whoever debugs.
    return make_error(ErrorCode::internal, fmt::format("{}: {}", action, e.what()));
  }
  return to_error(result_code, action);
}

bool is_unique_violation(const SQLite::Exception& e) {
  int extended = e.getExtendedErrorCode();
  return extended == SQLITE_CONSTRAINT_UNIQUE || extended == SQLITE_CONSTRAINT_PRIMARYKEY;
}

std::optional<std::int64_t> optional_int64(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt64();
}

std::optional<std::string> optional_text(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getString();
}

void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::int64_t>& value) {
  if (value) statement.bind(index, static_cast<std::int64_t>(*value));
  else statement.bind(index);
}

void bind_optional(SQLite::Statement& statement, int index, const std::optional<std::string>& value) {
  if (value) statement.bind(index, *value);
  else statement.bind(index);
}

std::int64_t query_int64(SQLite::Database& db, const std::string& query) {
  SQLite::Statement statement(db, query);
  if (!statement.executeStep()) return 0;
  return statement.getColumn(0).getInt64();
}

std::int64_t page_offset(const PageQuery& page) { return page.after.empty() ? page.offset : 0; }

void bind_page(SQLite::Statement& query, int index, const PageQuery& page) {
  query.bind(index, page.limit + 1);
  query.bind(index + 1, static_cast<std::int64_t>(page_offset(page)));
}

SQLite::Statement& StatementCache::get(const std::string& query) {
  auto& slot = m_statements[query];
  if (!slot) {
    slot = std::make_unique<SQLite::Statement>(m_db, query);
    return *slot;
  }
  // tryReset, not reset: reset() rethrows the error of the statement's last
  // run (say SQLITE_BUSY), which its caller already handled.
  slot->tryReset();
  slot->clearBindings();
  return *slot;
}

}  // namespace mailer::store::sql
