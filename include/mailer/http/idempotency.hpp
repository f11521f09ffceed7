#pragma once
// Idempotency-Key (SPEC §3; draft-ietf-httpapi-idempotency-key-header): a POST
// that creates something, sent again with the same key and the same body
// within 24 hours, gets the first response back (same status and body, plus
// `Idempotent-Replayed: true`) instead of creating a second thing. The same key
// with another body, or on another path, is 409. Records are per API key
// (store::IdempotencyRepo), so two clients cannot collide.
//
// Responses of 5xx (and of 429) are not recorded: the client should retry and
// the retry must really run. While the first request is still running, a
// second one with the same key gets 409 rather than running twice.

#include <mutex>
#include <set>
#include <string>
#include <string_view>

#include "mailer/core/error.hpp"
#include "mailer/http/router.hpp"

namespace mailer::http {

inline constexpr std::size_t k_max_idempotency_key_length = 255;

/// Errors: invalid_input (field "Idempotency-Key") unless `key` is 1..255
/// printable ASCII characters.
Status check_idempotency_key(std::string_view key);

class IdempotencyGate {
 public:
  /// Runs `handler` for a keyed route. Without an Idempotency-Key header (or
  /// without an API key on the context) it simply runs. Otherwise: replays a
  /// stored response, answers 409 (reused key, or the same key in flight), 400
  /// (malformed key), or runs the handler and records its response.
  void run(const httplib::Request& req, httplib::Response& res, Context& context, const Route& route);

 private:
  bool claim(const std::string& slot);
  void release(const std::string& slot);

  std::mutex m_mutex;
  std::set<std::string> m_in_flight;  // "<api key id>\n<Idempotency-Key>"
};

}  // namespace mailer::http
