#pragma once
// What the database file holds: size and rows per table, free pages, the WAL,
// and the oldest row of each kind retention prunes, for `mailerctl db stats`
// and the mailer_db_* gauges on /metrics.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

/// The file's page figures from its header: O(1), cheap enough for every scrape.
struct PageFigures {
  std::int64_t page_size = 0;       // bytes
  std::int64_t page_count = 0;      // pages in the file, free ones included
  std::int64_t freelist_pages = 0;  // free pages, reused by new rows before the file grows
  /// PRAGMA auto_vacuum: "none", "full" or "incremental". Only "incremental"
  /// lets mailerd give free pages back to the filesystem (incremental_vacuum()).
  std::string auto_vacuum;
};

/// https://www.sqlite.org/pragma.html#pragma_freelist_count and page_count,
/// page_size, auto_vacuum. Errors: storage_unavailable.
Result<PageFigures> page_figures(Database& db);

struct TableStats {
  std::string name;
  std::int64_t rows = 0;
  /// Bytes of its pages and its indexes' pages, from the dbstat virtual table
  /// (https://www.sqlite.org/dbstat.html); nullopt when the linked SQLite was
  /// built without SQLITE_ENABLE_DBSTAT_VTAB (see DatabaseStats::table_bytes).
  std::optional<std::int64_t> bytes;
};

struct DatabaseStats {
  PageFigures pages;
  std::int64_t file_bytes = 0;  // the database file
  std::int64_t wal_bytes = 0;   // "<path>-wal"; 0 when absent
  /// False when SQLite has no dbstat table (or sizes were not asked for):
  /// the file's size is then known only as a whole.
  bool table_bytes = false;
  std::vector<TableStats> tables;  // every table but SQLite's own, by name
  /// Per prune kind ("messages": finished, "dlq", "events", "api_key_audit",
  /// "sns_messages", "idempotency_keys"): Unix ms of its oldest row, nullopt
  /// when it has none. Events are taken in id order, their time order.
  std::map<std::string, std::optional<std::int64_t>> oldest_ms;
};

/// `skip` leaves TableStats::bytes unset: dbstat reads every page of the file,
/// which takes seconds on gigabytes.
enum class TableBytes { skip, measure };

/// Reads everything above in one read transaction. Row counts are COUNT(*):
/// O(rows), about 1 s per 10 million rows, so /metrics shows a copy the
/// pruner refreshes rather than counting per scrape. Errors: storage_unavailable.
Result<DatabaseStats> database_stats(Database& db, TableBytes bytes);

}  // namespace mailer::store
