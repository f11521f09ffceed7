#pragma once
// A small blocking HTTP(S) client over libcurl. One HttpClient owns one curl
// easy handle and reuses it for every request, so connections stay alive
// between calls (curl's connection cache lives in the handle). Not
// thread-safe: give each worker thread its own client.
//
// TLS peer and host verification are always on. Connect and total timeouts
// and the response body size are bounded (HttpClientOptions), so a hostile or
// broken server can make a call fail but never hold a thread or memory
// without limit. curl.h stays out of this header.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::net {

/// RAII guard for curl_global_init / curl_global_cleanup. Create exactly one in
/// main() before any thread starts; destroy it after every HttpClient is gone.
/// Throws std::runtime_error when curl cannot initialise.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

using HttpHeader = std::pair<std::string, std::string>;

struct HttpRequest {
  std::string method = "GET";  // any verb; the body is sent whenever non-empty or method != GET
  std::string url;             // absolute http:// or https:// URL, path already percent-encoded
  std::vector<HttpHeader> headers;
  std::string body;
};

struct HttpResponse {
  long status = 0;                  // HTTP status code, e.g. 200
  std::vector<HttpHeader> headers;  // of the final response, names as received
  std::string body;                 // at most HttpClientOptions::max_response_bytes + 1 bytes
  /// The server sent more than max_response_bytes: reading stopped there and
  /// `body` holds the first max_response_bytes + 1 bytes, so a size check by
  /// the caller sees that it is too long.
  bool body_truncated = false;

  /// First header named `name` (case-insensitive), or nullopt.
  std::optional<std::string> header(std::string_view name) const;
};

struct HttpClientOptions {
  std::chrono::milliseconds connect_timeout{5000};  // TCP + TLS handshake
  std::chrono::milliseconds total_timeout{30000};   // whole transfer
  std::string user_agent = "mailerd";
  /// Body bytes read before the transfer is stopped (1 MiB: the largest SES
  /// or instance-metadata answer mailerd reads is a few KiB).
  std::size_t max_response_bytes = 1024 * 1024;
  /// The SSRF guard (net/address_guard.hpp): connect only to addresses
  /// refused_address_reason() accepts, checked on the address curl is about
  /// to connect to, so DNS rebinding cannot get around it; proxies from the
  /// environment are ignored (the guard would only see the proxy). A refused
  /// address fails the request with "refused to connect to ADDRESS (REASON)".
  bool public_addresses_only = false;
  /// Polled while a transfer runs (about every second, and on progress);
  /// returning true aborts it with "cancelled". Lets a stopping thread leave
  /// a hanging request before total_timeout.
  std::function<bool()> cancelled;
};

class HttpClient {
 public:
  explicit HttpClient(HttpClientOptions options = {});
  ~HttpClient();
  HttpClient(HttpClient&&) noexcept;
  HttpClient& operator=(HttpClient&&) noexcept;
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  /// Performs `request` and returns the response for any HTTP status (a 500 is
  /// a response, not an error), its body cut as body_truncated says. Errors: upstream_transient when no response
  /// arrived (DNS, connect, TLS, timeout, reset); the detail names the method,
  /// scheme://host[:port] and curl's reason, never the path, query, headers or body.
  Result<HttpResponse> perform(const HttpRequest& request);

  const HttpClientOptions& options() const { return m_options; }

 private:
  struct Impl;
  HttpClientOptions m_options;
  std::unique_ptr<Impl> m_impl;
};

/// "scheme://host[:port]" of `url`, without userinfo, path or query: safe to log.
std::string redact_url(std::string_view url);

}  // namespace mailer::net
