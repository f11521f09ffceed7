#pragma once
// The route table: {method, pattern, access, body, handler}. Patterns are paths
// whose `{name}` segments match one non-empty path segment, e.g.
// "/v1/admin/keys/{id}/audit". Matching is pure, so 404 vs 405 and the
// parameters are unit-tested without a socket.
//
// Adding routes for a resource: write src/http/routes/<resource>.cpp with
//   void register_<resource>_routes(Router& router);
// declare it in include/mailer/http/routes.hpp and call it from
// register_all_routes (src/http/routes/all.cpp).

#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace mailer::http {

struct Context;

/// Who may call a route. `none`: no key needed (health, webhooks, unsubscribe).
enum class Access { none, read, send, admin };

/// What the route accepts as a body. `json`: a non-empty body must be
/// `application/json` (or `+json`), else 415.
enum class BodyKind { none, json };

/// Whether an `Idempotency-Key` header makes the route replayable (SPEC §3:
/// POSTs that create things). See http/idempotency.hpp. `keyed_no_secret`:
/// the response's one-time "key" member (a new API key's secret) or "secret"
/// member (a new webhook endpoint's signing secret) is stored as null, because
/// keys are kept only as hashes and a secret is shown once; a replay shows
/// the record without the secret.
enum class Idempotency { none, keyed, keyed_no_secret };

using Handler = std::function<void(const httplib::Request&, httplib::Response&, Context&)>;

struct Route {
  std::string method;   // "GET", "POST", "PUT", "PATCH", "DELETE"
  std::string pattern;  // "/v1/templates/{id}"
  Access access = Access::none;
  BodyKind body = BodyKind::none;
  Handler handler;
  Idempotency idempotency = Idempotency::none;
  /// Access::none only: the largest body read, in bytes (0: no body). Nothing
  /// vouches for an unkeyed caller before its body arrives, so each such
  /// route bounds it to what its real callers send; see body_limit().
  std::size_t unkeyed_body_limit = 0;
};

struct RouteMatch {
  const Route* route = nullptr;               // null: no route for this method
  std::string pattern;                        // the best pattern matching the path, any method
  std::map<std::string, std::string> params;  // {"id": "key_..."}
  std::vector<std::string> allowed_methods;   // methods whose pattern matches the path
};

class Router {
 public:
  /// Adds `route`. Throws std::invalid_argument for a malformed pattern (not
  /// starting with '/', empty `{}`) or a duplicate method+pattern: both are bugs.
  void add(Route route);

  /// The route for `method` and `path`, the request target's path as sent
  /// (still percent-encoded, query removed): segments are split first and
  /// each `{name}` value decoded after, so an encoded '/' (%2F) stays inside
  /// its segment, e.g. DELETE /v1/suppressions/a%2Fb%40example.com binds
  /// email "a/b@example.com" (RFC 3986 section 2.4). HEAD matches GET routes. When several
  /// patterns match, the one with fewer `{}` segments wins ("/dlq/purge" over
  /// "/dlq/{id}"). route == nullptr and allowed_methods empty: 404;
  /// route == nullptr and allowed_methods non-empty: 405 with Allow.
  RouteMatch match(std::string_view method, std::string_view path) const;

  const std::vector<Route>& routes() const { return m_routes; }

 private:
  std::vector<Route> m_routes;
};

/// The most body bytes `route` reads, in bytes: `server_max_body_bytes`
/// (server.max_body_bytes) for a keyed route, whose key is checked before
/// the body is read; route.unkeyed_body_limit, never more than that, for an
/// unkeyed one.
std::size_t body_limit(const Route& route, std::size_t server_max_body_bytes);

/// `params` for `pattern` against the percent-encoded `path`, values decoded
/// (RFC 3986 percent-decoding; '+' stays '+'), or nullopt when it does not match.
std::optional<std::map<std::string, std::string>> match_pattern(std::string_view pattern, std::string_view path);

}  // namespace mailer::http
