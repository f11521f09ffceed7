// HttpClient: one curl easy handle per client object, reset (not recreated)
// before each request, because curl_easy_reset keeps the handle's connection
// cache and that is what makes keep-alive work across calls.
#include "mailer/net/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "mailer/core/text.hpp"
#include "mailer/net/address_guard.hpp"
#include "net/curl_handles.hpp"

namespace mailer::net {

namespace {

// Where the body goes: one byte past the limit is kept so callers see the
// body is too long; returning short makes curl stop with CURLE_WRITE_ERROR.
struct BodySink {
  HttpResponse* response;
  std::size_t limit;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  std::string& body = sink->response->body;
  std::size_t n = size * count;
  if (body.size() + n <= sink->limit) {
    body.append(data, n);
    return n;
  }
  body.append(data, std::min(n, sink->limit + 1 - body.size()));
  sink->response->body_truncated = true;
  return 0;
}

// Called once per header line; a new status line (after a 100 Continue or
// an interim response) starts the header list afresh.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* headers = static_cast<std::vector<HttpHeader>*>(user);
  std::string_view line(data, size * count);
  if (line.substr(0, 5) == "HTTP/") {
    headers->clear();
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    headers->emplace_back(std::string(text::trim(line.substr(0, colon))),
                          std::string(text::trim(line.substr(colon + 1))));
  }
  return size * count;
}

Error transport_error(const HttpRequest& request, std::string_view reason) {
  Error error = make_error(ErrorCode::upstream_transient,
                           request.method + " " + redact_url(request.url) + ": " + std::string(reason));
  return error;
}

}  // namespace

CurlGlobal::CurlGlobal() {
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
    throw std::runtime_error("curl_global_init failed");
  }
}

CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

std::optional<std::string> HttpResponse::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (text::ascii_iequals(key, name)) return value;
  }
  return std::nullopt;
}

std::string redact_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return "<invalid url>";
  auto authority_start = scheme_end + 3;
  auto authority_end = url.find_first_of("/?#", authority_start);
  auto authority =
      url.substr(authority_start,
                 authority_end == std::string_view::npos ? std::string_view::npos : authority_end - authority_start);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo may hold a password
  }
  return std::string(url.substr(0, authority_start)) + std::string(authority);
}

namespace {

// What the socket and progress callbacks of one client share with perform().
struct CallbackState {
  std::string refused;  // why the guard refused the last connection, "" when it did not
  const HttpClientOptions* options = nullptr;
};

// CURLOPT_OPENSOCKETFUNCTION: the last moment before connect(), with the
// address curl resolved. Refusing here (not only at endpoint creation) is what
// defeats DNS rebinding.
curl_socket_t open_guarded_socket(void* user, curlsocktype purpose, curl_sockaddr* address) {
  auto* impl = static_cast<CallbackState*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = nullptr;
    if (address->family == AF_INET) raw = &reinterpret_cast<const sockaddr_in*>(&address->addr)->sin_addr;
    if (address->family == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6*>(&address->addr)->sin6_addr;
    if (raw == nullptr || inet_ntop(address->family, raw, text, sizeof text) == nullptr) {
      impl->refused = "refused to connect to an address that is not IPv4 or IPv6";
      return CURL_SOCKET_BAD;
    }
    if (auto reason = refused_address_reason(text)) {
      impl->refused = "refused to connect to " + std::string(text) + " (" + *reason + ")";
      return CURL_SOCKET_BAD;
    }
  }
  return socket(address->family, address->socktype, address->protocol);
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* impl = static_cast<CallbackState*>(user);
  return impl->options->cancelled && impl->options->cancelled() ? 1 : 0;
}

}  // namespace

struct HttpClient::Impl {
  CurlEasy easy;
  char error_buffer[CURL_ERROR_SIZE] = {};
  CallbackState callbacks;
};

HttpClient::HttpClient(HttpClientOptions options) : m_options(std::move(options)), m_impl(std::make_unique<Impl>()) {
  m_impl->easy.reset(curl_easy_init());
  if (!m_impl->easy) throw std::runtime_error("curl_easy_init failed");
}

HttpClient::~HttpClient() = default;
HttpClient::HttpClient(HttpClient&&) noexcept = default;
HttpClient& HttpClient::operator=(HttpClient&&) noexcept = default;

namespace {

// Builds the header list; an allocation failure yields an empty owner.
CurlSlist make_header_list(const HttpRequest& request) {
  CurlSlist list;
  // An empty "Expect:" stops curl from waiting for 100-continue on large
  // bodies, which costs a round trip per SES call.
  std::vector<std::string> lines{"Expect:"};
  for (const auto& [name, value] : request.headers) lines.push_back(name + ": " + value);
  for (const auto& line : lines) {
    curl_slist* grown = curl_slist_append(list.get(), line.c_str());
    if (grown == nullptr) return CurlSlist();
    (void)list.release();
    list.reset(grown);
  }
  return list;
}

void set_method(CURL* easy, const HttpRequest& request) {
  if (request.method == "GET" && request.body.empty()) {
    curl_easy_setopt(easy, CURLOPT_HTTPGET, 1L);
    return;
  }
  if (request.method == "HEAD") {
    curl_easy_setopt(easy, CURLOPT_NOBODY, 1L);
    return;
  }
  curl_easy_setopt(easy, CURLOPT_POSTFIELDS, request.body.data());
  curl_easy_setopt(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  if (request.method != "POST") curl_easy_setopt(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
}

}  // namespace

Result<HttpResponse> HttpClient::perform(const HttpRequest& request) {
  CURL* easy = m_impl->easy.get();
  curl_easy_reset(easy);
  auto header_list = make_header_list(request);
  if (!header_list) return transport_error(request, "out of memory building headers");

  HttpResponse response;
  BodySink sink{&response, m_options.max_response_bytes};
  m_impl->error_buffer[0] = '\0';
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);  // threads: no SIGALRM for DNS timeouts
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(m_options.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(m_options.total_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(easy, CURLOPT_USERAGENT, m_options.user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, header_list.get());
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, m_impl->error_buffer);
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &response.headers);
  set_method(easy, request);
  m_impl->callbacks.refused.clear();
  m_impl->callbacks.options = &m_options;
  if (m_options.public_addresses_only) {
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETFUNCTION, open_guarded_socket);
    curl_easy_setopt(easy, CURLOPT_OPENSOCKETDATA, &m_impl->callbacks);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
  }
  if (m_options.cancelled) {
    curl_easy_setopt(easy, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(easy, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(easy, CURLOPT_XFERINFODATA, &m_impl->callbacks);
  }

  CURLcode rc = curl_easy_perform(easy);
  // The handle keeps a pointer to the list until the next reset; clear it now
  // so the list can be freed safely at scope exit.
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, nullptr);
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && response.body_truncated)) {
    // curl's messages name hosts and reasons, never request headers or bodies.
    std::string reason = m_impl->error_buffer[0] != '\0' ? m_impl->error_buffer : curl_easy_strerror(rc);
    if (!m_impl->callbacks.refused.empty()) reason = m_impl->callbacks.refused;
    if (rc == CURLE_ABORTED_BY_CALLBACK) reason = "cancelled";
    return transport_error(request, reason);
  }
  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &response.status);
  return response;
}

}  // namespace mailer::net
