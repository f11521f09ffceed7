// Liveness and readiness. /health answers while the process can serve HTTP at
// all; /ready says whether it can do its work (SPEC §3), so a load balancer or
// systemd check can tell "up" from "useful".
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <httplib.h>

#include <SQLiteCpp/Database.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/problem.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/store/database.hpp"

namespace mailer::http {

namespace {

void get_health(const httplib::Request&, httplib::Response& res, Context&) { write_json(res, 200, {{"status", "ok"}}); }

std::optional<std::string> database_problem(DbPool& pool) {
  auto db = pool.acquire();
  if (!db) return db.error().detail;
  if (auto writable = store::check_writable(**db); !writable) return writable.error().detail;
  if (auto schema = store::require_current_schema(**db, "mailerd", ""); !schema) return schema.error().detail;
  return std::nullopt;
}

std::optional<std::string> hook_problem(const std::function<std::optional<std::string>()>& hook) {
  return hook ? hook() : std::nullopt;
}

std::vector<std::string> readiness_problems(Deps& deps) {
  std::vector<std::string> reasons;
  if (auto engine_storage = hook_problem(deps.readiness.storage_problem)) {
    reasons.push_back(*engine_storage);
  } else if (auto problem = database_problem(deps.db)) {
    reasons.push_back(*problem);
  }
  if (auto hold = hook_problem(deps.readiness.sending_hold)) reasons.push_back("sending on hold: " + *hold);
  if (deps.readiness.workers_alive && !deps.readiness.workers_alive()) {
    reasons.push_back("workers not running");
  }
  if (deps.readiness.ses_credentials) {
    auto credentials = deps.readiness.ses_credentials();
    if (!credentials) reasons.push_back("SES credentials: " + credentials.error().detail);
  }
  return reasons;
}

// Degraded is still ready: mail goes out, so a load balancer keeps the
// instance, while monitoring can alert on the body.
std::vector<std::string> readiness_degradations(Deps& deps) {
  std::vector<std::string> reasons;
  if (auto account = hook_problem(deps.readiness.ses_account)) reasons.push_back(*account);
  return reasons;
}

void get_ready(const httplib::Request&, httplib::Response& res, Context& context) {
  auto reasons = readiness_problems(context.deps);
  auto degradations = readiness_degradations(context.deps);
  if (reasons.empty() && degradations.empty()) return write_json(res, 200, {{"status", "ready"}});
  if (reasons.empty()) return write_json(res, 200, {{"status", "degraded"}, {"reasons", degradations}});
  reasons.insert(reasons.end(), degradations.begin(), degradations.end());
  auto problem = problem_for_status(503, "not ready: " + reasons.front());
  problem.body["type"] = std::string(k_problem_type_base) + "not_ready";
  problem.body["title"] = "Not ready";
  problem.body["reasons"] = reasons;
  write_problem(res, problem);
}

}  // namespace

void register_health_routes(Router& router) {
  router.add({"GET", "/health", Access::none, BodyKind::none, get_health});
  router.add({"GET", "/ready", Access::none, BodyKind::none, get_ready});
}

}  // namespace mailer::http
