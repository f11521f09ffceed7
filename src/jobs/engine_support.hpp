#pragma once
// Small helpers every engine thread uses (src/jobs/engine.cpp and the roles
// it wires): the catch-all around a loop body, an interruptible sleep, giving
// claims back, and the names outcomes and errors are logged with.

#include <chrono>
#include <exception>
#include <stop_token>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/core/log.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::jobs {

using SteadyClock = std::chrono::steady_clock;

/// Runs `step`; an exception is a bug, logged with `where` (the thread's
/// name), and the loop that called goes on. False when `step` threw.
/// STYLE §4: no exception leaves a thread.
template <typename F>
bool guarded(const char* where, F&& step) {
  try {
    step();
    return true;
  } catch (const std::exception& e) {
    log::error("unexpected exception; carrying on", {{"thread", where}, {"error", e.what()}});
  } catch (...) {
    log::error("unexpected exception; carrying on", {{"thread", where}, {"error", "unknown"}});
  }
  return false;
}

/// Sleeps `duration` of real time unless `stop` is requested first.
void wait_or_stop(std::stop_token stop, std::chrono::milliseconds duration);

/// Returns `claims` to the queue, attempts uncounted; a failure is logged
/// (their leases then expire and the reaper requeues them).
void release_claims(store::MessageRepo& repo, const std::vector<store::MessageRepo::Claim>& claims);

/// A RESTART checkpoint of `db` (Database::checkpoint); a failure is
/// logged, the next one retries.
void checkpoint(store::Database& db);

/// "sent" | "retry" | "failed" | "suppressed" | "cancelled", as logged and counted.
const char* outcome_name(store::Outcome::Kind kind);

/// "<upstream code>: <detail>", or the detail alone for our own errors.
std::string error_text(const Error& error);

}  // namespace mailer::jobs
