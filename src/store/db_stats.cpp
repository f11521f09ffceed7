#include "mailer/store/db_stats.hpp"

#include <filesystem>
#include <utility>

#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

// Each is one seek on an index that keeps the kind in age order.
constexpr std::pair<const char*, const char*> k_oldest_queries[] = {
    {"messages",
     "SELECT min(updated_at_ms) FROM messages INDEXED BY messages_finished"
     " WHERE state IN ('sent', 'suppressed', 'cancelled')"},
    {"dlq", "SELECT min(failed_at_ms) FROM messages INDEXED BY messages_dlq WHERE state = 'failed'"},
    {"events", "SELECT occurred_at_ms FROM events ORDER BY id LIMIT 1"},
    {"api_key_audit", "SELECT at_ms FROM api_key_audit WHERE action = 'used' ORDER BY id LIMIT 1"},
    {"sns_messages", "SELECT min(received_at_ms) FROM sns_messages"},
    {"idempotency_keys", "SELECT min(created_at_ms) FROM idempotency_keys"},
};

std::int64_t file_bytes(const std::string& path) {
  std::error_code error;
  auto size = std::filesystem::file_size(path, error);
  return error ? 0 : static_cast<std::int64_t>(size);
}

std::string auto_vacuum_name(std::int64_t mode) { return mode == 2 ? "incremental" : mode == 1 ? "full" : "none"; }

PageFigures read_page_figures(SQLite::Database& db) {
  return PageFigures{sql::query_int64(db, "PRAGMA page_size"), sql::query_int64(db, "PRAGMA page_count"),
                     sql::query_int64(db, "PRAGMA freelist_count"),
                     auto_vacuum_name(sql::query_int64(db, "PRAGMA auto_vacuum"))};
}

bool has_dbstat(SQLite::Database& db) {
  return sql::query_int64(db,
                          "SELECT count(*) FROM pragma_compile_options"
                          " WHERE compile_options = 'ENABLE_DBSTAT_VTAB'") > 0;
}

std::vector<TableStats> tables_with_rows(SQLite::Database& db) {
  std::vector<TableStats> tables;
  SQLite::Statement names(db,
                          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                          " ORDER BY name");
  while (names.executeStep()) tables.push_back({names.getColumn(0).getString(), 0, std::nullopt});
  for (auto& table : tables) {
    // The name comes from sqlite_master, quoted as an identifier.
    table.rows = sql::query_int64(db, "SELECT count(*) FROM \"" + table.name + "\"");
  }
  return tables;
}

// Pages of each table and of its indexes, added up under the table's name.
void add_table_bytes(SQLite::Database& db, std::vector<TableStats>& tables) {
  SQLite::Statement sizes(db,
                          "SELECT m.tbl_name, sum(s.pgsize) FROM dbstat s JOIN sqlite_master m ON m.name = s.name"
                          " GROUP BY m.tbl_name");
  std::map<std::string, std::int64_t> by_table;
  while (sizes.executeStep()) by_table[sizes.getColumn(0).getString()] = sizes.getColumn(1).getInt64();
  for (auto& table : tables) table.bytes = by_table.count(table.name) ? by_table[table.name] : 0;
}

}  // namespace

Result<PageFigures> page_figures(Database& db) {
  return sql::guard("read page figures", [&]() -> Result<PageFigures> { return read_page_figures(db.sql()); });
}

Result<DatabaseStats> database_stats(Database& db, TableBytes bytes) {
  return sql::transaction(
      db, "read database statistics",
      [&]() -> Result<DatabaseStats> {
        DatabaseStats stats;
        stats.pages = read_page_figures(db.sql());
        stats.file_bytes = file_bytes(db.path());
        stats.wal_bytes = file_bytes(db.path() + "-wal");
        stats.tables = tables_with_rows(db.sql());
        stats.table_bytes = bytes == TableBytes::measure && has_dbstat(db.sql());
        if (stats.table_bytes) add_table_bytes(db.sql(), stats.tables);
        for (auto [kind, query] : k_oldest_queries) {
          SQLite::Statement oldest(db.sql(), query);
          const bool found = oldest.executeStep();
          stats.oldest_ms[kind] = found ? sql::optional_int64(oldest.getColumn(0)) : std::nullopt;
        }
        return stats;
      },
      sql::TxMode::deferred);
}

}  // namespace mailer::store
