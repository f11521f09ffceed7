#pragma once
// One accepted HTTP connection, as the httplib::Stream that cpp-httplib's
// request parser reads and writes, with a deadline for each phase of a
// request. Private to src/http/ (it exposes httplib.h and OpenSSL).
//
// Why not cpp-httplib's own SocketStream: its read timeout applies to each
// recv(), so a client that sends one header byte every few seconds never
// times out and holds a server thread for as long as it likes; eight such
// clients used to stop /health, the API and the webhook. Here every read and
// write waits at most until the deadline of the current phase:
//
//   header    from the accept (TLS handshake included), or from the first
//             byte of a kept-alive request, to the blank line after the
//             headers: server.header_timeout_seconds, and at most
//             k_max_header_bytes; then the connection is closed.
//   body      from the end of the headers until the body is read:
//             server.body_timeout_seconds (the server answers 408), and at
//             most 2 x server.max_body_bytes + 64 KiB on the wire (chunk
//             framing included; the decoded body is held to
//             server.max_body_bytes by the server's receiver).
//   response  from the end of the handler until the response is written:
//             server.body_timeout_seconds again.
//   idle      between requests: server.keep_alive_timeout_seconds.
//
// The socket is non-blocking and every wait is one poll(), which also wakes
// on the server's stop signal while idle or reading headers, so stop() does
// not wait out keep-alive connections.
//
// It also hides every `Range` header from cpp-httplib (RangeHeaderFilter):
// mailerd serves no ranged content, and cpp-httplib 0.11.4 would answer
// `Range: bytes=0-,0-,...` on any response with a multipart/byteranges body
// repeating it thousands of times (a 6 KB request for a 40 MB answer), and
// a malformed one with 416 before mailerd sees the request.

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "mailer/core/config.hpp"

#include "http/body_budget.hpp"

namespace mailer::http {

/// Request line plus headers, in bytes; more closes the connection. Ample for
/// any real client (nginx allows 1 KiB + 4 x 8 KiB), and small enough that
/// a few hundred connections cannot pile up memory.
inline constexpr std::size_t k_max_header_bytes = 64 * 1024;

/// How long a connection closed with its request body unread keeps draining.
inline constexpr std::chrono::seconds k_lingering_close{2};

/// Makes the request line and headers that pass through it, in any pieces,
/// lose the colon of each `Range:` header line (name case-insensitive), so
/// cpp-httplib's header parser, which skips a line without one, never sees
/// the header. Nothing else changes; a header line is never moved or resized.
/// RFC 9110 §14.2: a server may ignore Range; the full answer is then a 200.
class RangeHeaderFilter {
 public:
  /// Call at the start of each request's request line.
  void reset() { m_matched = 1; }
  void apply(char* data, std::size_t size);

 private:
  std::size_t m_matched = 1;  // characters of "\nrange:" seen; a request starts after a "\n"
};

/// Why mailerd ended a connection before its client was done; the names are
/// the `reason` of the log line and of mailer_http_connections_closed_early_total.
enum class Cut { none, header_timeout, header_too_large, body_timeout, body_too_large, response_timeout, shutdown };

std::string_view to_string(Cut cut);

/// The deadlines of one connection, from ServerConfig.
struct ConnectionLimits {
  std::chrono::milliseconds header_timeout;
  std::chrono::milliseconds body_timeout;
  std::chrono::milliseconds keep_alive_timeout;
  std::size_t max_body_wire_bytes;

  static ConnectionLimits from(const ServerConfig& server);
};

class Connection final : public httplib::Stream {
 public:
  /// Takes `fd` (made non-blocking here) and `ssl` (may be null: plain HTTP);
  /// the caller closes both after the Connection is gone. The header deadline
  /// starts now. `stop_fd` becomes readable when the server stops.
  Connection(int fd, SSL* ssl, const ConnectionLimits& limits, int stop_fd);

  /// TLS only: SSL_accept within the header deadline. False on failure.
  bool handshake();
  /// Idle phase: waits up to keep_alive_timeout for the next request's first
  /// byte, then starts its header deadline. False when the client closed,
  /// stayed silent, or the server is stopping.
  bool wait_for_next_request();
  /// The headers are read: the body deadline starts.
  void begin_body();
  /// The handler is done: the response deadline starts.
  void begin_response();
  /// Close after this response (the rest of a refused body is still unread).
  void close_after_response() { m_close = true; }
  bool closing() const { return m_close || m_cut != Cut::none; }
  /// After close_after_response(): half-closes, then reads and drops what the
  /// client still sends, for at most k_lingering_close. This is nginx's
  /// lingering close: closing with unread bytes sends a reset, which can
  /// destroy the 413 or 408 before the client has read it.
  void linger_if_body_unread();
  /// True until cpp-httplib has the whole header and nothing was answered:
  /// the server's hooks move the connection to the body and response phases.
  bool reading_headers() const { return m_phase == Phase::header; }
  /// Why the last read or write failed on a deadline or limit, else Cut::none.
  Cut cut() const { return m_cut; }
  const std::string& remote_address() const { return m_remote_address; }
  /// The current request's share of the server's BodyBudget; returned when
  /// the connection ends, whatever way it ends.
  BodyReservation& body_reservation() { return m_body_reservation; }

  // httplib::Stream
  bool is_readable() const override;
  bool is_writable() const override;
  ssize_t read(char* ptr, size_t size) override;
  ssize_t write(const char* ptr, size_t size) override;
  void get_remote_ip_and_port(std::string& ip, int& port) const override;
  void get_local_ip_and_port(std::string& ip, int& port) const override;
  socket_t socket() const override { return m_fd; }

 private:
  enum class Phase { header, body, response, idle };
  using Deadline = std::chrono::steady_clock::time_point;

  void begin(Phase phase, std::chrono::milliseconds timeout);
  /// Reads into the empty buffer: bytes read, 0 when the client closed, -1 on error or cut.
  ssize_t fill();
  /// Counts `bytes` against the phase's limit; false (and m_cut) past it.
  bool count_read(std::size_t bytes);
  /// Waits for `events` on the socket until the deadline; false with m_cut
  /// set when it passes, or when the server stops while idle or in headers.
  bool wait_for(short events);
  /// After a failed SSL call that returned `result`: waits as OpenSSL asks
  /// and returns true to retry, or false when the failure is final.
  bool wait_for_ssl(int result);
  /// After a failed recv/send (errno): the same for a plain socket.
  bool wait_for_socket(short events);

  int m_fd;
  SSL* m_ssl;
  ConnectionLimits m_limits;
  int m_stop_fd;
  Phase m_phase = Phase::header;
  Deadline m_deadline;
  std::size_t m_phase_bytes = 0;  // read in the header or body phase
  RangeHeaderFilter m_range_filter;
  Cut m_cut = Cut::none;
  bool m_close = false;
  std::string m_remote_address;
  int m_remote_port = 0;
  BodyReservation m_body_reservation;
  char m_buffer[16 * 1024];
  std::size_t m_buffer_begin = 0;
  std::size_t m_buffer_end = 0;
};

/// The connection served on this thread, or nullptr outside one. cpp-httplib
/// runs a request's hooks and handler on its connection's thread, so the
/// server's hooks find their connection here to move it between phases.
Connection* current_connection();

/// Makes `connection` current on this thread for the lifetime of the guard.
class CurrentConnection {
 public:
  explicit CurrentConnection(Connection& connection);
  ~CurrentConnection();
  CurrentConnection(const CurrentConnection&) = delete;
  CurrentConnection& operator=(const CurrentConnection&) = delete;
};

}  // namespace mailer::http
