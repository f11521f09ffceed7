#pragma once
// cpp-httplib's Server (or SSLServer) with mailerd's serving model: one
// thread per connection from a pool that grows to server.max_connections,
// the deadlines of http::Connection on every read and write, and a quick 503
// for a connection beyond the cap. Private to src/http/ (exposes httplib.h).
//
// How it hooks in, without patching cpp-httplib 0.11.4 (Debian's shared
// library):
// - Server::new_task_queue supplies ConnectionPool instead of the fixed
//   ThreadPool (CPPHTTPLIB_THREAD_POOL_COUNT threads, 8 here), whose queue
//   let eight slow clients stall every other request.
// - process_and_close_socket is a private virtual of httplib::Server and
//   SSLServer; the override reimplements its short keep-alive loop around the
//   protected process_request, but on an http::Connection instead of
//   cpp-httplib's SocketStream, so it knows the phase and the deadline. For
//   TLS it does the SSL_accept itself, with SSLServer::ssl_context().
// - http::Connection, the Stream handed to process_request, hides Range
//   headers before cpp-httplib parses them (see connection.hpp).
// - The listening socket (protected svr_sock_) is given a SOMAXCONN backlog;
//   cpp-httplib listens with a backlog of 5, which drops the SYNs of a burst
//   of new connections for a second.

#include <httplib.h>

#include <memory>

#include "mailer/core/config.hpp"
#include "mailer/http/problem.hpp"

namespace mailer::http {

class GuardedServer {
 public:
  /// HTTPS when server.tls_cert_file and tls_key_file are both set; check
  /// http().is_valid() for unusable files.
  static std::unique_ptr<GuardedServer> create(const ServerConfig& config);
  virtual ~GuardedServer() = default;

  virtual httplib::Server& http() = 0;
  /// Call after a successful bind_to_port / bind_to_any_port.
  virtual void widen_backlog() = 0;
  /// Ends connections that are idle or still sending headers, then stops
  /// accepting (httplib::Server::stop); requests under way finish.
  virtual void stop() = 0;
};

/// True while the accept thread runs a connection's task only to refuse it:
/// every thread of the pool is busy with server.max_connections connections.
bool refusing_connection();

/// The 400 for a request line and headers over k_max_header_bytes, whichever
/// of the two passed it.
Problem header_too_large_problem();

/// httplib::TaskQueue with one thread per task (connection), started on
/// demand up to `max_threads` and ended after a minute idle (beyond a few
/// kept warm). A task that finds every thread busy runs at once on the
/// enqueuing (accept) thread with refusing_connection() true, so it can
/// answer 503 and close instead of waiting in a queue.
class ConnectionPool final : public httplib::TaskQueue {
 public:
  explicit ConnectionPool(std::size_t max_threads);
  ~ConnectionPool() override;
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;

  void enqueue(std::function<void()> task) override;
  /// Runs the queued tasks, then joins every thread. Idempotent.
  void shutdown() override;
  /// Threads running now, busy or idle.
  std::size_t thread_count() const;

 private:
  struct State;
  std::unique_ptr<State> m_state;
};

}  // namespace mailer::http
