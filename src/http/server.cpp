#include "mailer/http/server.hpp"

#include <httplib.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/auth.hpp"
#include "mailer/http/cors.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/idempotency.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/rate_limit.hpp"
#include "mailer/http/request_id.hpp"
#include "mailer/http/response.hpp"
#include "mailer/net/listen.hpp"

#include "http/body_budget.hpp"
#include "http/connection.hpp"
#include "http/guarded_server.hpp"

namespace mailer::http {

namespace {

// What the log line needs from earlier stages. cpp-httplib runs pre-routing,
// the handler, post-routing and the logger of one request on one thread, so a
// thread_local carries it without touching the response headers.
struct RequestState {
  bool active = false;
  std::chrono::steady_clock::time_point start;
  std::string request_id;
  std::string route;   // the matched pattern; "-" when none
  std::string key_id;  // empty when no key was checked
  // Decided by pre-routing from the request line and headers, before any
  // body byte is read.
  RouteMatch match;
  std::optional<store::ApiKey> key;
  std::optional<Error> key_error;    // why a keyed request has no key
  std::optional<RateDecision> rate;  // the key's token, when a valid key came
  std::size_t body_limit = 0;        // bytes
};
thread_local RequestState t_request;

// Requests httplib rejects before routing (bad request line, URI too long) skip
// the pre-routing handler; they get their state here.
RequestState& current_request(const httplib::Request& req) {
  if (!t_request.active) {
    t_request = RequestState{};
    t_request.active = true;
    t_request.start = std::chrono::steady_clock::now();
    t_request.request_id = request_id_from(req.get_header_value("X-Request-Id"));
    t_request.route = "-";
  }
  return t_request;
}

bool is_json_media_type(std::string content_type) {
  auto semicolon = content_type.find(';');
  if (semicolon != std::string::npos) content_type.resize(semicolon);
  while (!content_type.empty() && content_type.back() == ' ') content_type.pop_back();
  content_type = text::ascii_lower(content_type);
  return content_type == "application/json" ||
         (content_type.starts_with("application/") && content_type.ends_with("+json"));
}

// RFC 9112 §6.3: a request with neither Content-Length nor Transfer-Encoding has
// no body. cpp-httplib 0.11 instead reads a POST/PUT/PATCH body until the client
// closes, so `curl -X PUT` or `curl -X POST` without data would hang until the
// read timeout and get 400. Pre-routing runs before the body is read; saying "Content-Length: 0" there
// gives the standard behaviour.
void declare_empty_body(const httplib::Request& req) {
  if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) return;
  // NOTE: httplib passes its own non-const Request as const here; the cast is sound.
  const_cast<httplib::Request&>(req).set_header("Content-Length", "0");
}

// Content-Length as cpp-httplib reads it (strtoull), or 0 when absent or
// when the body is chunked (Transfer-Encoding wins, RFC 9112 §6.3).
std::uint64_t declared_length(const httplib::Request& req) {
  if (req.has_header("Transfer-Encoding")) return 0;
  return std::strtoull(req.get_header_value("Content-Length").c_str(), nullptr, 10);
}

bool has_body(const httplib::Request& req) { return req.has_header("Transfer-Encoding") || declared_length(req) > 0; }

// cpp-httplib writes "Connection: close" when the request asked for it.
void announce_close(const httplib::Request& req) {
  auto& headers = const_cast<httplib::Request&>(req).headers;  // NOTE: see declare_empty_body
  headers.erase("Connection");
  headers.emplace("Connection", "close");
}

// A connection whose next bytes are not a request boundary (an unread or
// unframed body) must end after this response, or those bytes would be read
// as the next request: request smuggling behind a proxy that reuses connections.
void close_after_response(const httplib::Request& req) {
  announce_close(req);
  if (auto* connection = current_connection()) connection->close_after_response();
}

// cpp-httplib reads a body only for these methods; with any other (GET, HEAD,
// OPTIONS) a declared body stays on the connection.
bool body_is_read(const httplib::Request& req) {
  return req.method == "POST" || req.method == "PUT" || req.method == "PATCH" || req.method == "DELETE";
}

// Answers `problem` instead of reading the rest of the body. When a body
// remains unread, the connection cannot carry another request.
template <class ProblemOrError>
void refuse_body(const httplib::Request& req, httplib::Response& res, const ProblemOrError& problem) {
  if (has_body(req)) close_after_response(req);
  res.set_header("X-Request-Id", current_request(req).request_id);
  write_problem(res, problem);
}

// RFC 9110 §5.6.2 tchar: what a field name may contain.
bool is_token(std::string_view name) {
  constexpr std::string_view k_punctuation = "!#$%&'*+-.^_`|~";
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (!std::isalnum(c) && k_punctuation.find(static_cast<char>(c)) == std::string_view::npos) return false;
  }
  return true;
}

Problem framing_error(std::string detail) {
  return problem_for(make_error(ErrorCode::invalid_input, std::move(detail)));
}

// RFC 9112 §6.1 and §6.3 (3, 4): where the body of a chunked request ends.
std::optional<Problem> transfer_encoding_problem(const httplib::Request& req) {
  auto count = req.get_header_value_count("Transfer-Encoding");
  if (count == 0) return std::nullopt;
  if (req.has_header("Content-Length"))
    return framing_error("Transfer-Encoding and Content-Length together (RFC 9112 section 6.1)");
  if (count > 1 || !text::ascii_iequals(text::trim_blanks(req.get_header_value("Transfer-Encoding")), "chunked"))
    return framing_error("Transfer-Encoding: only chunked is supported (RFC 9112 section 6.3)");
  return std::nullopt;
}

// RFC 9112 §6.3 (5): a Content-Length that is not one decimal number, or
// several that differ, leaves the end of the body unknown; cpp-httplib
// would use the first. A header name with a blank before its colon
// ("Content-Length :") must be refused too (RFC 9112 §5.1): cpp-httplib
// keeps the blank in the name, so the length it frames would go unseen.
// These are unrecoverable framing errors: 400, close.
std::optional<Problem> framing_problem(const httplib::Request& req) {
  for (const auto& [name, value] : req.headers) {
    if (!is_token(name))
      return framing_error(
          "a header name contains a blank or a character a field name cannot "
          "have (RFC 9112 section 5.1)");
  }
  if (auto problem = transfer_encoding_problem(req)) return problem;
  std::string first;
  auto count = req.get_header_value_count("Content-Length");
  for (std::size_t i = 0; i < count; ++i) {
    std::string value = req.get_header_value("Content-Length", i);
    bool digits = !value.empty() && value.size() <= 19 && value.find_first_not_of("0123456789") == std::string::npos;
    if (!digits || (i > 0 && value != first)) {
      return framing_error("Content-Length: must be one decimal number (RFC 9112 section 6.3)");
    }
    if (i == 0) first = value;
  }
  return std::nullopt;
}

// Names the bound that applied: server.max_body_bytes, or the smaller one of
// an unkeyed route.
Problem too_large_problem(const RequestState& state, std::size_t max_body_bytes) {
  if (state.body_limit == max_body_bytes || state.match.route == nullptr) {
    return problem_for_status(413,
                              fmt::format("request body exceeds server.max_body_bytes ({} bytes)", max_body_bytes));
  }
  return problem_for_status(413, fmt::format("request body exceeds {} bytes, the limit of {} {}", state.body_limit,
                                             state.match.route->method, state.route));
}

// The 503 for a body that does not fit in server.max_body_bytes_in_flight now;
// the caller adds Retry-After.
Problem busy_problem(std::size_t max_in_flight) {
  return problem_for_status(503, fmt::format("other large request bodies fill server.max_body_bytes_in_flight ({} "
                                             "bytes) now; retry in a second",
                                             max_in_flight));
}

bool is_preflight(const httplib::Request& req, const RouteMatch& match) {
  return req.method == "OPTIONS" && !match.allowed_methods.empty();
}

// Requests that count against a key's rate limit and carry the RateLimit-*
// headers: those to a keyed route, and those to no route (404, 405) that
// present a key, so a client learns its allowance whatever it asked. Public
// routes (health, SNS, unsubscribe, metrics) keep answering under load.
bool is_keyed(const httplib::Request& req, const RouteMatch& match) {
  if (match.route != nullptr) return match.route->access != Access::none;
  return req.has_header("Authorization");
}

// The path as the client sent it, still percent-encoded: the router splits
// it before decoding, so an encoded '/' in an address stays in its segment.
std::string_view target_path(const httplib::Request& req) {
  return std::string_view(req.target).substr(0, req.target.find('?'));
}

// Every name of the query, once per occurrence (values left empty). Not
// req.params: cpp-httplib keeps one of two identical pairs, so
// `?limit=1&limit=1` would pass check_single_values there.
json_io::QueryParams query_names(const httplib::Request& req) {
  json_io::QueryParams names;
  auto question = req.target.find('?');
  if (question == std::string::npos) return names;
  std::string_view query(req.target);
  query.remove_prefix(question + 1);
  while (!query.empty()) {
    auto pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    if (pair.empty()) continue;
    auto name = std::string(pair.substr(0, pair.find('=')));
    names.emplace(httplib::detail::decode_url(name, true), std::string());
  }
  return names;
}

std::string detail_for_status(int status, long long max_body_bytes) {
  switch (status) {
    case 400: return "the request could not be parsed as HTTP";
    case 404: return "no such route";
    case 408: return "the request body did not arrive within server.body_timeout_seconds";
    case 413: return fmt::format("request body exceeds server.max_body_bytes ({} bytes)", max_body_bytes);
    case 414: return "request URI too long";
    default: return "the request failed";
  }
}

// One descriptor per connection, plus the database, SES connections and logs.
void ensure_open_files(int max_connections) {
  const long wanted = max_connections + 256L;
  long limit = net::raise_open_files_limit(wanted);
  if (limit < wanted) {
    log::warn("open files limit is low for server.max_connections",
              {{"limit", limit}, {"max_connections", max_connections}, {"wanted", wanted}});
  }
}

}  // namespace

struct Server::Impl {
  Deps& deps;
  Router router;
  std::unique_ptr<GuardedServer> guard;
  // serve() and stop() agree under `run_mutex` whether the accept loop may
  // start, so a stop() that comes first is never lost.
  std::mutex run_mutex;
  bool serving = false;
  bool stop_requested = false;
  RateLimiter limiter;
  IdempotencyGate idempotency;
  BodyBudget body_budget;

  Impl(Deps& d, Router r)
      : deps(d),
        router(std::move(r)),
        limiter(d.config.api.rate_limit_per_second, d.config.api.rate_limit_burst),
        body_budget(static_cast<std::size_t>(body_bytes_in_flight(d.config.server))) {}

  void install();
  Problem problem_before_routing(int status) const;
  httplib::Server::HandlerResponse before_body(const httplib::Request& req, httplib::Response& res);
  bool admit(const httplib::Request& req, httplib::Response& res, RequestState& state);
  void identify(const httplib::Request& req, RequestState& state);
  bool check_rate(const httplib::Request& req, httplib::Response& res, const RequestState& state);
  bool check_route(const httplib::Request& req, httplib::Response& res, const RouteMatch& match);
  bool reserve_body(std::size_t total);
  bool read_body(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader);
  void dispatch(const httplib::Request& req, httplib::Response& res);
  void answer_preflight(const httplib::Request& req, httplib::Response& res, const RouteMatch& match);
  bool check_body(const httplib::Request& req, httplib::Response& res, const Route& route);
  bool check_key(const httplib::Request& req, httplib::Response& res, const Route& route, const RequestState& state);
  void finish_headers(const httplib::Request& req, httplib::Response& res);
  void log_request(const httplib::Request& req, const httplib::Response& res);
};

// After before_body admitted the request and its body was read.
void Server::Impl::dispatch(const httplib::Request& req, httplib::Response& res) {
  auto& state = current_request(req);
  res.set_header("X-Request-Id", state.request_id);
  if (is_preflight(req, state.match)) return answer_preflight(req, res, state.match);
  if (state.match.route == nullptr) return;  // NOTE: unreachable: before_body refused it
  const Route& route = *state.match.route;
  if (!check_body(req, res, route)) return;
  Context context{deps, state.request_id, std::move(state.match.params), std::move(state.key)};
  if (auto single = json_io::check_single_values(query_names(req)); !single) return write_problem(res, single.error());
  if (route.idempotency != Idempotency::none) return idempotency.run(req, res, context, route);
  route.handler(req, res, context);
}

// Pre-routing: the headers are in, the body is next. Whatever can be refused
// from the headers alone is refused here, before a byte of the body is read:
// an unknown route would otherwise buffer a body nobody wants, and an
// unauthenticated caller could make mailerd hold server.max_body_bytes per
// connection.
httplib::Server::HandlerResponse Server::Impl::before_body(const httplib::Request& req, httplib::Response& res) {
  t_request.active = false;
  auto& state = current_request(req);
  if (auto* connection = current_connection()) {
    connection->begin_body();
    connection->body_reservation().reset();  // the previous request's, if its log line never ran
  }
  declare_empty_body(req);
  return admit(req, res, state) ? httplib::Server::HandlerResponse::Unhandled
                                : httplib::Server::HandlerResponse::Handled;
}

// In order: framing, the key's rate limit, route, key and scope, the route's
// body limit. False with the refusal written into `res`. The key is looked up
// first, so that every refusal to it carries its RateLimit-* headers.
bool Server::Impl::admit(const httplib::Request& req, httplib::Response& res, RequestState& state) {
  state.match = router.match(req.method, target_path(req));
  if (!state.match.pattern.empty()) state.route = state.match.pattern;
  if (!is_preflight(req, state.match)) identify(req, state);
  if (auto problem = framing_problem(req)) {
    close_after_response(req);  // the body's end is unknown even when none seems declared
    refuse_body(req, res, *problem);
    return false;
  }
  if (has_body(req) && !body_is_read(req)) close_after_response(req);
  if (is_preflight(req, state.match)) return true;
  if (!check_rate(req, res, state)) return false;
  if (!check_route(req, res, state.match)) return false;
  const Route& route = *state.match.route;
  if (!check_key(req, res, route, state)) return false;
  const auto max_body_bytes = static_cast<std::size_t>(deps.config.server.max_body_bytes);
  state.body_limit = body_limit(route, max_body_bytes);
  if (declared_length(req) > state.body_limit) {
    refuse_body(req, res, too_large_problem(state, max_body_bytes));
    return false;
  }
  if (reserve_body(declared_length(req))) return true;
  refuse_body(req, res, busy_problem(body_budget.max_bytes()));
  res.set_header("Retry-After", "1");
  return false;
}

// Holds `total` body bytes of this request against server.max_body_bytes_in_flight.
bool Server::Impl::reserve_body(std::size_t total) {
  auto* connection = current_connection();
  return connection == nullptr || connection->body_reservation().grow_to(body_budget, total);
}

bool Server::Impl::check_route(const httplib::Request& req, httplib::Response& res, const RouteMatch& match) {
  if (match.route != nullptr) return true;
  if (match.allowed_methods.empty()) {
    refuse_body(req, res, problem_for_status(404, "no route for " + text::shorten(req.path)));
    return false;
  }
  res.set_header("Allow", text::join(match.allowed_methods, ", "));
  refuse_body(req, res,
              problem_for_status(405, fmt::format("{} is not allowed here; use {}", req.method,
                                                  text::join(match.allowed_methods, ", "))));
  return false;
}

// Reads the body into req.body through `reader`, which hands it over piece by
// piece (chunked, or decompressed), so it stops at server.max_body_bytes
// instead of buffering whatever the client sends. On failure the response is
// a problem and the connection closes.
bool Server::Impl::read_body(const httplib::Request& req, httplib::Response& res,
                             const httplib::ContentReader& reader) {
  auto& body = const_cast<httplib::Request&>(req).body;  // NOTE: see declare_empty_body
  const auto& state = current_request(req);
  const auto max = state.body_limit;
  bool too_large = false;
  bool over_budget = false;
  auto receive = [&](const char* data, std::size_t length) {
    too_large = length > max - body.size();
    over_budget = !too_large && !reserve_body(body.size() + length);  // chunked: the length was unknown
    if (too_large || over_budget) return false;
    body.append(data, length);
    return true;
  };
  bool complete = req.is_multipart_form_data() ? reader([](const httplib::MultipartFormData&) { return true; }, receive)
                                               : reader(receive);
  if (complete) return true;
  auto* connection = current_connection();
  auto cut = connection != nullptr ? connection->cut() : Cut::none;
  if (over_budget) {
    refuse_body(req, res, busy_problem(body_budget.max_bytes()));
    res.set_header("Retry-After", "1");
  } else if (too_large || cut == Cut::body_too_large) {
    refuse_body(req, res, too_large_problem(state, static_cast<std::size_t>(deps.config.server.max_body_bytes)));
  } else if (cut == Cut::body_timeout) {
    refuse_body(req, res, problem_for_status(408, detail_for_status(408, deps.config.server.max_body_bytes)));
  } else {
    refuse_body(req, res,
                problem_for(make_error(ErrorCode::invalid_input,
                                       "the request body could not be read (bad chunked encoding, "
                                       "multipart boundary or compression)")));
  }
  return false;
}

void Server::Impl::answer_preflight(const httplib::Request& req, httplib::Response& res, const RouteMatch& match) {
  auto methods = match.allowed_methods;
  methods.push_back("OPTIONS");
  res.status = 204;
  res.set_header("Allow", text::join(methods, ", "));
  for (auto& [name, value] :
       preflight_headers(deps.config.server.cors_origins, req.get_header_value("Origin"), methods)) {
    res.set_header(name, value);
  }
}

bool Server::Impl::check_body(const httplib::Request& req, httplib::Response& res, const Route& route) {
  if (route.body == BodyKind::json && !req.body.empty() && !is_json_media_type(req.get_header_value("Content-Type"))) {
    write_problem(res, make_error(ErrorCode::unsupported_media, "request body must be application/json"));
    return false;
  }
  return true;
}

// Who a keyed request comes from, and one token of that key's allowance. A
// key that fails is kept for check_key: an unknown route or method is still
// 404 or 405 whatever key came with it.
void Server::Impl::identify(const httplib::Request& req, RequestState& state) {
  if (!is_keyed(req, state.match)) return;
  auto db = deps.db.acquire();
  if (!db) {
    state.key_error = db.error();
    return;
  }
  auto key = identify_key(req.get_header_value("Authorization"), **db, deps.clock);
  if (!key) {
    state.key_error = key.error();
    return;
  }
  state.key_id = key->id;
  state.rate = limiter.take(key->id, std::chrono::steady_clock::now());
  state.key = std::move(*key);
}

// The limit is per API key (SPEC §3); its headers go on every answer to the
// key (finish_headers), this one included.
bool Server::Impl::check_rate(const httplib::Request& req, httplib::Response& res, const RequestState& state) {
  if (!state.rate || state.rate->allowed) return true;
  metrics::count_http_rate_limited();
  refuse_body(req, res,
              make_error(ErrorCode::rate_limited,
                         fmt::format("rate limit of {} requests per second (burst {}) exceeded for this key; "
                                     "retry after {} s",
                                     deps.config.api.rate_limit_per_second, deps.config.api.rate_limit_burst,
                                     state.rate->retry_after_seconds)));
  return false;
}

bool Server::Impl::check_key(const httplib::Request& req, httplib::Response& res, const Route& route,
                             const RequestState& state) {
  if (route.access == Access::none) return true;
  if (state.key_error) {
    refuse_body(req, res, *state.key_error);
    return false;
  }
  if (auto allowed = check_scope(*state.key, route.access); !allowed) {
    refuse_body(req, res, allowed.error());
    return false;
  }
  return true;
}

void Server::Impl::finish_headers(const httplib::Request& req, httplib::Response& res) {
  if (auto* connection = current_connection()) connection->begin_response();
  auto& state = current_request(req);
  if (!res.has_header("X-Request-Id")) res.set_header("X-Request-Id", state.request_id);
  if (state.rate) {
    for (const auto& [name, value] : state.rate->headers()) res.set_header(name, value);
  }
  if (res.has_header("Access-Control-Allow-Origin")) return;  // a preflight set them
  for (auto& [name, value] : cors_headers(deps.config.server.cors_origins, req.get_header_value("Origin"))) {
    res.set_header(name, value);
  }
}

void Server::Impl::log_request(const httplib::Request& req, const httplib::Response& res) {
  if (auto* connection = current_connection()) connection->body_reservation().reset();
  auto& state = current_request(req);
  if (state.route == "-") {
    // Rejected before routing (413): name the route it was meant for anyway.
    auto match = router.match(req.method, target_path(req));
    if (!match.pattern.empty()) state.route = match.pattern;
  }
  auto elapsed = std::chrono::steady_clock::now() - state.start;
  double duration_ms = std::chrono::duration<double, std::milli>(elapsed).count();
  std::vector<log::Field> fields{{"request_id", state.request_id},
                                 {"method", req.method},
                                 {"route", state.route},
                                 {"status", res.status},
                                 {"duration_ms", std::round(duration_ms * 1000) / 1000}};
  if (!state.key_id.empty()) fields.emplace_back("key_id", state.key_id);
  log::info("request", fields);
  metrics::observe_http_request(req.method, state.route == "-" ? "" : state.route, res.status, elapsed);
  state.active = false;
}

// Requests cpp-httplib could not read: say why when it was a limit of ours.
Problem Server::Impl::problem_before_routing(int status) const {
  auto* connection = current_connection();
  auto cut = connection != nullptr ? connection->cut() : Cut::none;
  if (cut == Cut::header_timeout) {
    return problem_for_status(408,
                              "the request line and headers did not arrive within "
                              "server.header_timeout_seconds");
  }
  if (cut == Cut::header_too_large) {
    return header_too_large_problem();
  }
  return problem_for_status(status, detail_for_status(status, deps.config.server.max_body_bytes));
}

void Server::Impl::install() {
  auto& s = guard->http();
  // NOTE: not cpp-httplib's default options, whose SO_REUSEPORT let a second
  // mailerd (on another database) share the port; see net::set_listen_options.
  s.set_socket_options([](socket_t sock) { net::set_listen_options(sock); });
  s.set_payload_max_length(static_cast<std::size_t>(deps.config.server.max_body_bytes));
  s.set_pre_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { return before_body(req, res); });
  auto handler = [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); };
  // Methods with a body take it through a ContentReader, so read_body holds
  // it to the limit while reading (cpp-httplib reads a chunked body whole).
  auto with_body = [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    if (read_body(req, res, reader)) dispatch(req, res);
  };
  s.Get(".*", handler);
  s.Post(".*", with_body);
  s.Put(".*", with_body);
  s.Patch(".*", with_body);
  s.Delete(".*", with_body);
  s.Options(".*", handler);
  s.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
    auto* connection = current_connection();
    if (connection != nullptr && connection->closing()) announce_close(req);
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // already a problem
    // cpp-httplib refused the request itself (request line, headers or
    // body it could not parse): where this request ends is unknown, so
    // the rest of the stream must never be read as the next request.
    announce_close(req);
    if (connection != nullptr) connection->close_after_response();
    write_problem(res, problem_before_routing(res.status));
    return httplib::Server::HandlerResponse::Handled;
  }));
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
    // cpp-httplib's README: without catch (...) an unknown exception ends the process.
    std::string what = "unknown exception";
    try {
      std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    res.headers.erase("Content-Type");
    res.body.clear();
    write_problem(res, make_error(ErrorCode::internal, "uncaught exception in handler: " + what));
  });
  s.set_post_routing_handler([this](const httplib::Request& req, httplib::Response& res) { finish_headers(req, res); });
  s.set_logger([this](const httplib::Request& req, const httplib::Response& res) { log_request(req, res); });
}

Server::Server(Deps& deps, Router router) : m_impl(std::make_unique<Impl>(deps, std::move(router))) {}
Server::~Server() = default;

Result<int> Server::bind() {
  const auto& cfg = m_impl->deps.config.server;
  bool tls = !cfg.tls_cert_file.empty() && !cfg.tls_key_file.empty();
  m_impl->guard = GuardedServer::create(cfg);
  auto& http = m_impl->guard->http();
  if (!http.is_valid()) {
    return make_error(ErrorCode::invalid_input,
                      fmt::format("server.tls_cert_file {} / server.tls_key_file {}: cannot load the "
                                  "certificate and key",
                                  cfg.tls_cert_file, cfg.tls_key_file));
  }
  m_impl->install();
  int port = cfg.port;
  if (port == 0) {
    port = http.bind_to_any_port(cfg.listen);
    if (port < 0) port = -1;
  } else if (!http.bind_to_port(cfg.listen, port)) {
    port = -1;
  }
  if (port <= 0) {
    return make_error(ErrorCode::internal, fmt::format("cannot bind {}:{}: {}", cfg.listen, cfg.port,
                                                       net::bind_failure_reason(cfg.listen, cfg.port)));
  }
  m_impl->guard->widen_backlog();
  ensure_open_files(cfg.max_connections);
  log::info("listening", {{"address", cfg.listen}, {"port", port}, {"tls", tls}});
  return port;
}

Status Server::serve() {
  if (!m_impl->guard) return make_error(ErrorCode::internal, "serve() before bind()");
  {
    std::scoped_lock lock(m_impl->run_mutex);
    if (m_impl->stop_requested) return {};
    m_impl->serving = true;
  }
  if (!m_impl->guard->http().listen_after_bind()) {
    return make_error(ErrorCode::internal, "the listening socket failed");
  }
  return {};
}

void Server::stop() {
  if (!m_impl->guard) return;
  {
    std::scoped_lock lock(m_impl->run_mutex);
    m_impl->stop_requested = true;
    if (!m_impl->serving) return;  // serve() has not begun and now never will
  }
  // NOTE: httplib's stop() does nothing until listen has started; a signal that
  // arrives between serve() and the accept loop would otherwise be lost.
  for (int i = 0; i < 200 && !m_impl->guard->http().is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  m_impl->guard->stop();
}

}  // namespace mailer::http
