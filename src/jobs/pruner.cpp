#include "jobs/pruner.hpp"

#include "jobs/engine_support.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/store/db_stats.hpp"
#include "mailer/store/maintenance.hpp"

namespace mailer::jobs {
namespace {

// 256 pages (1 MiB at 4 KiB) per transaction: a few milliseconds of write lock.
constexpr int k_vacuum_pages = 256;

double unix_seconds(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

void Pruner::start() {
  m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void Pruner::stop() {
  m_thread.request_stop();
  if (m_thread.joinable()) m_thread.join();
}

// NOTE: the first pass waits one interval: a mailerd restarted in a loop
// (a crash, a deploy) must not add a full pass to every start.
void Pruner::loop(std::stop_token stop) {
  guarded("pruner", [&] { refresh_stats(); });
  for (;;) {
    wait_or_stop(stop, std::chrono::milliseconds(m_config.retention.prune_interval));
    if (stop.stop_requested()) return;
    guarded("pruner", [&] { prune(stop); });
    guarded("pruner", [&] { vacuum(stop); });
    guarded("pruner", [&] { refresh_stats(); });
  }
}

void Pruner::prune(std::stop_token stop) {
  const auto started = SteadyClock::now();
  const auto now_ms = to_ms(m_clock.now());
  auto report = run_prune_pass(m_db, m_config.retention, now_ms, store::PruneMode::remove, {}, m_state, stop);
  std::vector<log::Field> fields;
  for (const auto& [kind, rows] : report.rows) {
    metrics::count_pruned(store::to_string(kind), rows);
    fields.emplace_back(std::string(store::to_string(kind)), rows);
  }
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - started);
  fields.emplace_back("elapsed_ms", elapsed.count());
  if (report.error) {
    fields.emplace_back("error", report.error->detail);
    log::warn("prune pass failed; the next pass goes on", fields);
    return;
  }
  if (report.stopped) return;
  metrics::set_prune_finished(unix_seconds(to_ms(m_clock.now())));
  log::info("prune pass finished", fields);
}

void Pruner::vacuum(std::stop_token stop) {
  auto figures = store::page_figures(m_db);
  if (!figures || figures->auto_vacuum != "incremental") return;
  std::int64_t freed_pages = 0;
  while (!stop.stop_requested()) {
    auto freed = store::incremental_vacuum(m_db, k_vacuum_pages);
    if (!freed) {
      log::warn("incremental vacuum failed; the next pass goes on", {{"error", freed.error().detail}});
      break;
    }
    if (*freed == 0) break;
    freed_pages += *freed;
    metrics::count_vacuumed(static_cast<double>(*freed * figures->page_size));
    wait_or_stop(stop, PrunePacing{}.pause);
  }
  if (freed_pages > 0)
    log::info("returned free pages to the filesystem",
              {{"pages", freed_pages}, {"bytes", freed_pages * figures->page_size}});
}

void Pruner::refresh_stats() {
  auto stats = store::database_stats(m_db, store::TableBytes::skip);
  if (!stats) {
    log::warn("reading table statistics failed", {{"error", stats.error().detail}});
    return;
  }
  std::map<std::string, double> rows;
  std::map<std::string, double> oldest;
  for (const auto& table : stats->tables) rows[table.name] = static_cast<double>(table.rows);
  for (const auto& [kind, ms] : stats->oldest_ms) {
    if (ms) oldest[kind] = unix_seconds(*ms);
  }
  metrics::set_table_stats(rows, oldest, unix_seconds(to_ms(m_clock.now())));
}

}  // namespace mailer::jobs
