// mailerctl db stats, db prune and db compact: what the file holds, retention
// on demand, and giving its free space back (docs/DEPLOYMENT.md "Database
// size and retention").

#include <chrono>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/jobs/retention.hpp"
#include "mailer/store/db_stats.hpp"
#include "mailer/store/maintenance.hpp"

namespace mailer::cli {
namespace {

// "12.3 MiB", or "48.0 KiB" below a mebibyte, where tables of a new file are.
std::string mebibytes(std::int64_t bytes) {
  const auto value = static_cast<double>(bytes);
  return value < 1048576.0 ? fmt::format("{:.1f} KiB", value / 1024.0) : fmt::format("{:.1f} MiB", value / 1048576.0);
}

nlohmann::json stats_json(const store::DatabaseStats& s) {
  auto tables = nlohmann::json::array();
  for (const auto& t : s.tables) {
    tables.push_back({{"name", t.name}, {"rows", t.rows}, {"bytes", t.bytes ? nlohmann::json(*t.bytes) : nullptr}});
  }
  nlohmann::json oldest = nlohmann::json::object();
  for (const auto& [kind, ms] : s.oldest_ms) oldest[kind] = ms ? nlohmann::json(format_time(ms)) : nullptr;
  return {{"file_bytes", s.file_bytes},
          {"wal_bytes", s.wal_bytes},
          {"page_size", s.pages.page_size},
          {"page_count", s.pages.page_count},
          {"freelist_pages", s.pages.freelist_pages},
          {"auto_vacuum", s.pages.auto_vacuum},
          {"table_bytes", s.table_bytes},
          {"tables", tables},
          {"oldest", oldest}};
}

void print_stats(const store::DatabaseStats& s) {
  std::cout << "file: " << mebibytes(s.file_bytes) << " (" << s.pages.page_count << " pages of " << s.pages.page_size
            << " bytes), WAL " << mebibytes(s.wal_bytes) << "\n";
  std::cout << "free pages: " << s.pages.freelist_pages << " (" << mebibytes(s.pages.freelist_pages * s.pages.page_size)
            << "), auto_vacuum " << s.pages.auto_vacuum
            << (s.pages.auto_vacuum == "incremental" ? "" : " (run mailerctl db compact to return free space)") << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : s.tables) rows.push_back({t.name, std::to_string(t.rows), t.bytes ? mebibytes(*t.bytes) : "-"});
  print_table({"TABLE", "ROWS", "SIZE"}, rows);
  if (!s.table_bytes) std::cout << "sizes per table need SQLite's dbstat table, which this SQLite lacks\n";
  std::vector<std::vector<std::string>> oldest;
  for (const auto& [kind, ms] : s.oldest_ms) oldest.push_back({kind, format_time(ms)});
  print_table({"KIND", "OLDEST"}, oldest);
}

void run_stats(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  auto stats = store::database_stats(*db, store::TableBytes::measure);
  if (!stats) return ctx.fail(stats.error());
  if (ctx.json) return print_json(stats_json(*stats));
  print_stats(*stats);
}

// Safe while mailerd runs: the same chunks and pauses as its own pruner.
void run_prune(CtlContext& ctx, bool dry_run) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  const auto mode = dry_run ? store::PruneMode::count : store::PruneMode::remove;
  jobs::PruneState state;
  auto report =
      jobs::run_prune_pass(*db, ctx.config.retention, to_ms(std::chrono::system_clock::now()), mode, {}, state);
  nlohmann::json rows = nlohmann::json::object();
  for (const auto& [kind, n] : report.rows) rows[std::string(store::to_string(kind))] = n;
  if (report.error) {
    if (!ctx.json) std::cout << "before the failure: " << rows.dump() << "\n";
    return ctx.fail(*report.error);
  }
  if (ctx.json) return print_json({{"dry_run", dry_run}, {"rows", rows}});
  std::vector<std::vector<std::string>> table;
  for (const auto& [kind, n] : report.rows) table.push_back({std::string(store::to_string(kind)), std::to_string(n)});
  print_table({"KIND", dry_run ? "WOULD GO" : "REMOVED"}, table);
}

void run_compact(CtlContext& ctx) {
  if (!ctx.resolve()) return;
  // The daemon's own lock: a running mailerd makes this fail at once, naming it.
  auto lock = store::DaemonLock::acquire(ctx.config.db.path);
  if (!lock) {
    return ctx.fail(Error{lock.error().code, lock.error().detail + "; stop mailerd before compacting"});
  }
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  if (!ctx.json) {
    std::cerr << "compacting " << db->path()
              << ": needs the database to itself and free space about its size; this can take minutes\n";
  }
  auto report = store::compact(*db);
  if (!report) return ctx.fail(report.error());
  if (ctx.json) return print_json({{"bytes_before", report->bytes_before}, {"bytes_after", report->bytes_after}});
  std::cout << "compacted " << db->path() << ": " << mebibytes(report->bytes_before) << " -> "
            << mebibytes(report->bytes_after) << "; auto_vacuum incremental\n";
}

}  // namespace

void add_db_space_commands(CLI::App& db, CtlContext& ctx) {
  db.add_subcommand("stats", "Size and rows per table, free pages, WAL size, oldest row per kind")->callback([&ctx] {
    run_stats(ctx);
  });
  auto dry_run = std::make_shared<bool>(false);
  auto* prune = db.add_subcommand("prune", "Remove rows past their retention now; safe while mailerd runs");
  prune->add_flag("--dry-run", *dry_run, "Count what would go, change nothing");
  prune->callback([&ctx, dry_run] { run_prune(ctx, *dry_run); });
  db.add_subcommand("compact", "VACUUM into auto_vacuum=incremental; mailerd must be stopped")->callback([&ctx] {
    run_compact(ctx);
  });
}

}  // namespace mailer::cli
