#include "jobs/engine_support.hpp"

#include <condition_variable>
#include <mutex>

namespace mailer::jobs {

void wait_or_stop(std::stop_token stop, std::chrono::milliseconds duration) {
  std::mutex mutex;
  std::condition_variable_any cv;
  std::unique_lock lock(mutex);
  cv.wait_for(lock, stop, duration, [] { return false; });
}

void release_claims(store::MessageRepo& repo, const std::vector<store::MessageRepo::Claim>& claims) {
  if (claims.empty()) return;
  auto released = repo.release(claims);
  if (!released) {
    log::warn("could not release claims; their leases will expire",
              {{"count", claims.size()}, {"error", released.error().detail}});
  }
}

void checkpoint(store::Database& db) {
  if (auto synced = db.checkpoint(); !synced) {
    log::warn("checkpoint failed; the next one will retry", {{"error", synced.error().detail}});
  }
}

const char* outcome_name(store::Outcome::Kind kind) {
  switch (kind) {
    case store::Outcome::Kind::sent: return "sent";
    case store::Outcome::Kind::retry: return "retry";
    case store::Outcome::Kind::dead_letter: return "failed";
    case store::Outcome::Kind::suppressed: return "suppressed";
    case store::Outcome::Kind::cancelled: return "cancelled";
  }
  return "unknown";
}

std::string error_text(const Error& error) {
  return error.upstream_code.empty() ? error.detail : error.upstream_code + ": " + error.detail;
}

}  // namespace mailer::jobs
