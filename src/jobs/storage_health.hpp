#pragma once
// Whether the engine can write its database, as the dispatcher and the
// reaper each last found it, for /ready, /metrics and the logs.
//
// Owns: one problem per source, when it began, and the mailer storage-hold
// metric. Threads: the dispatcher and the reaper report; stats read. All
// thread-safe. Guarantees: a long outage is one log line at each end, however
// many rounds fail in between.

#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "jobs/engine_support.hpp"
#include "mailer/core/error.hpp"

namespace mailer::jobs {

class StorageHealth {
 public:
  /// Who found the database not writable; each clears its own.
  enum class Source { dispatcher, reaper };

  /// `source` could (`error` null) or could not write; `outcomes_held` is how
  /// many outcomes wait in memory because of it.
  void report(Source source, const Error* error, std::size_t outcomes_held = 0);

  /// "database not writable: <detail>[ (N outcomes held in memory)]", the
  /// dispatcher's first (it says how many outcomes wait); empty when writable.
  std::string problem() const;

 private:
  mutable std::mutex m_mutex;
  std::map<Source, std::string> m_problems;
  std::map<Source, SteadyClock::time_point> m_since;
};

}  // namespace mailer::jobs
