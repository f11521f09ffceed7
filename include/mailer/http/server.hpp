#pragma once
// The HTTP server: cpp-httplib underneath, our route table on top. One
// catch-all handler per method dispatches through Router, which gives us 404
// vs 405 problems, the route pattern for the log, auth by route, 415 for
// non-JSON bodies, and one place to set X-Request-Id and CORS headers.
//
// Connections: one thread each, up to server.max_connections (beyond it a
// quick 503 and close), with a deadline per phase of a request
// (server.header_timeout_seconds, body_timeout_seconds,
// keep_alive_timeout_seconds); see src/http/guarded_server.hpp and
// src/http/connection.hpp for how this sits on cpp-httplib.
//
// Per request, in order: request id chosen and a declared Content-Length over
// server.max_body_bytes refused with 413 (pre-routing); body read through a
// receiver that stops at server.max_body_bytes, chunked or not (413, or 408
// when server.body_timeout_seconds passes; both close the connection); route
// matched; key checked; handler run (exceptions -> 500 problem); X-Request-Id
// and CORS headers added (post-routing); one log line "request"
// {request_id, method, route, status, duration_ms, key_id}.

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
  /// Stops accepting and returns from serve(); requests in progress finish,
  /// idle connections and ones still sending headers are closed at once.
  /// Safe from any thread.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace mailer::http
