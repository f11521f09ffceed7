#pragma once
// The HTTP server: cpp-httplib underneath, our route table on top. One
// catch-all handler per method dispatches through Router, which gives us 404
// vs 405 problems, the route pattern for the log, auth by route, 415 for
// non-JSON bodies, and one place to set X-Request-Id and CORS headers.
//
// Per request, in order: request id chosen (pre-routing); body read (over
// server.max_body_bytes -> 413 from httplib, filled in by the error handler);
// route matched; key checked; handler run (exceptions -> 500 problem);
// X-Request-Id and CORS headers added (post-routing); one log line
// "request" {request_id, method, route, status, duration_ms, key_id}.

#include <memory>

#include "mailer/core/error.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/router.hpp"

namespace mailer::http {

class Server {
 public:
  /// `deps` must outlive the server. HTTPS when server.tls_cert_file and
  /// tls_key_file are both set (cpp-httplib SSLServer, OpenSSL).
  Server(Deps& deps, Router router);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds server.listen:server.port; port 0 picks a free port. Returns the
  /// bound port and logs "listening" {address, port, tls}. Errors: internal
  /// ("cannot bind 127.0.0.1:8080") or invalid_input (TLS files unusable).
  Result<int> bind();
  /// Accepts connections until stop(); call after bind() (on its own thread).
  /// Errors: internal when the listening socket fails.
  Status serve();
  /// Stops accepting and returns from serve(); requests in progress finish.
  /// Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mailer::http
