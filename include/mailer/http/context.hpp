#pragma once
// What a route handler sees besides the request: the long-lived dependencies
// (Deps, built once in mailerd_main) and the per-request Context.
//
// Other layers join Deps as pointers defaulting to nullptr (e.g. a job queue),
// so adding one does not break code that builds Deps; a route that needs it
// checks for null and answers 503.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/keys.hpp"

namespace mailer::jobs {
class Engine;
}
namespace mailer::render {
class TemplateCache;
}

namespace mailer::http {

class DbPool;

/// Checks /ready runs besides the database. Empty functions are skipped.
/// All but `ses_account` are problems (503); `ses_account` only degrades
/// (200 with status "degraded"): mail still goes out.
struct ReadinessHooks {
  std::function<bool()> workers_alive;      // false: "workers not running"
  std::function<Status()> ses_credentials;  // error: "SES credentials: <detail>"
  /// The job engine's hold on sending (SES down or refusing the credentials):
  /// its reason, reported as "sending on hold: <reason>"; nullopt while sending.
  std::function<std::optional<std::string>()> sending_hold;
  /// What keeps the job engine from writing ("database not writable: ..."),
  /// reported as is; nullopt when it writes. While set, /ready skips its own
  /// write-lock check, which would wait out the busy timeout.
  std::function<std::optional<std::string>()> storage_problem;
  /// SES GetAccount failing for a while ("SES GetAccount failing (N times
  /// since ...): ...; sending at R msg/s (why)"), reported as is; nullopt
  /// while it answers. Also the mailer_ready_degraded gauge.
  std::function<std::optional<std::string>()> ses_account;
};

struct Deps {
  const Config& config;
  DbPool& db;
  const Clock& clock;
  ReadinessHooks readiness{};
  /// Called after a commit that queued messages, so idle workers start at once
  /// (jobs::Engine::notify); empty when no engine runs (tests of routes alone).
  std::function<void()> on_enqueued{};
  /// Called after a webhook endpoint was created or changed, or a delivery
  /// queued (jobs::Engine::notify_webhooks); may be empty.
  std::function<void()> on_webhooks_changed{};
  /// The running job engine, for queue and rate figures; null when none runs.
  const jobs::Engine* engine = nullptr;
  /// Compiled templates for the render preview route; null: compile on every call.
  render::TemplateCache* templates = nullptr;
  /// When the SES credentials in use expire; nullopt when they do not
  /// (static keys) or none were resolved yet. Empty: not exported.
  std::function<std::optional<Clock::time_point>()> credentials_expiry{};
};

struct Context {
  Deps& deps;
  std::string request_id;                     // echoed as X-Request-Id
  std::map<std::string, std::string> params;  // from the route pattern's {name} segments
  std::optional<store::ApiKey> key;           // set when the route needs a key

  /// The value of `{name}`; empty when the pattern has no such segment.
  const std::string& param(const std::string& name) const;
  /// Who acts, for audit records: the key id, or "anonymous".
  std::string actor() const { return key ? key->id : std::string("anonymous"); }
};

}  // namespace mailer::http
