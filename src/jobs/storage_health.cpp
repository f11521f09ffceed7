#include "jobs/storage_health.hpp"

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"

namespace mailer::jobs {

void StorageHealth::report(Source source, const Error* error, std::size_t outcomes_held) {
  const char* source_name = source == Source::dispatcher ? "dispatcher" : "reaper";
  std::scoped_lock lock(m_mutex);
  const bool had = m_problems.count(source) != 0;
  if (!error) {
    if (!had) return;
    auto held_ms = std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - m_since[source]);
    m_problems.erase(source);
    log::info("database writable again", {{"source", source_name}, {"held_ms", held_ms.count()}});
    if (m_problems.empty()) metrics::set_storage_hold(false);
    return;
  }
  std::string problem = "database not writable: " + error->detail;
  if (outcomes_held > 0) problem += " (" + std::to_string(outcomes_held) + " outcomes held in memory)";
  m_problems[source] = problem;
  if (had) return;
  m_since[source] = SteadyClock::now();
  log::error("database not writable; retrying",
             {{"source", source_name}, {"outcomes_held", outcomes_held}, {"error", error->detail}});
  if (m_problems.size() == 1) metrics::set_storage_hold(true);
}

std::string StorageHealth::problem() const {
  std::scoped_lock lock(m_mutex);
  return m_problems.empty() ? std::string() : m_problems.begin()->second;
}

}  // namespace mailer::jobs
