#include "mailer/http/idempotency.hpp"

#include <httplib.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/core/log.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/idempotency.hpp"

namespace mailer::http {

namespace {

bool worth_recording(int status) { return status < 500 && status != 429; }

void replay(httplib::Response& res, const store::StoredResponse& stored) {
  res.status = stored.status;
  res.set_content(stored.body, stored.status >= 400 ? k_problem_content_type : "application/json");
  res.set_header("Idempotent-Replayed", "true");
}

std::string without_secret(const std::string& body) {
  auto json = parse_json(body, "response body", {.max_bytes = k_size_checked_elsewhere});
  if (!json || !json->is_object() || (!json->contains("key") && !json->contains("secret"))) return body;
  for (const char* member : {"key", "secret"})
    if (json->contains(member)) (*json)[member] = nullptr;
  return json->dump();
}

}  // namespace

Status check_idempotency_key(std::string_view key) {
  bool printable = std::all_of(key.begin(), key.end(), [](char c) { return c >= 0x20 && c <= 0x7e; });
  if (key.empty() || key.size() > k_max_idempotency_key_length || !printable) {
    return Error{ErrorCode::invalid_input,
                 "invalid Idempotency-Key header",
                 {{"Idempotency-Key", "must be 1 to 255 printable ASCII characters"}}};
  }
  return {};
}

void IdempotencyGate::run(const httplib::Request& req, httplib::Response& res, Context& context, const Route& route) {
  const Handler& handler = route.handler;
  if (!req.has_header("Idempotency-Key") || !context.key) return handler(req, res, context);
  auto key = req.get_header_value("Idempotency-Key");
  if (auto checked = check_idempotency_key(key); !checked) return write_problem(res, checked.error());
  const std::string& api_key_id = context.key->id;
  auto hash = service::idempotency_request_hash(req.method, req.path, req.body);
  {
    auto db = context.deps.db.acquire();
    if (!db) return write_problem(res, db.error());
    auto stored = store::IdempotencyRepo(**db, context.deps.clock).lookup(api_key_id, key, hash);
    if (!stored) return write_problem(res, stored.error());
    if (*stored) return replay(res, **stored);
  }
  std::string slot = api_key_id + "\n" + key;
  if (!claim(slot)) {
    return write_problem(
        res, make_error(ErrorCode::conflict, "a request with this Idempotency-Key is still being processed"));
  }
  struct Release {
    IdempotencyGate& gate;
    const std::string& slot;
    ~Release() { gate.release(slot); }
  } release_on_exit{*this, slot};
  handler(req, res, context);
  if (!worth_recording(res.status)) return;
  auto db = context.deps.db.acquire();
  auto body = route.idempotency == Idempotency::keyed_no_secret ? without_secret(res.body) : res.body;
  auto recorded = db ? store::IdempotencyRepo(**db, context.deps.clock).store(api_key_id, key, hash, res.status, body)
                     : Status(db.error());
  if (!recorded) {
    // NOTE: the request itself succeeded; failing it now would invite a retry
    // that creates a duplicate, which is worse than an unrecorded key.
    log::warn("idempotency record not stored",
              {{"request_id", context.request_id}, {"error", std::string(to_string(recorded.error().code))}});
  }
}

bool IdempotencyGate::claim(const std::string& slot) {
  std::scoped_lock lock(m_mutex);
  return m_in_flight.insert(slot).second;
}

void IdempotencyGate::release(const std::string& slot) {
  std::scoped_lock lock(m_mutex);
  m_in_flight.erase(slot);
}

}  // namespace mailer::http
