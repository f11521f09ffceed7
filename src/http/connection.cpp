#include "http/connection.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace mailer::http {

namespace {

thread_local Connection* t_connection = nullptr;

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// Numeric host and port of a socket address, as cpp-httplib reports them.
void numeric_address(const sockaddr_storage& address, socklen_t length, std::string& ip, int& port) {
  char host[NI_MAXHOST] = "";
  char service[NI_MAXSERV] = "";
  if (::getnameinfo(reinterpret_cast<const sockaddr*>(&address), length, host, sizeof host, service, sizeof service,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return;
  }
  ip = host;
  port = std::atoi(service);
}

int poll_timeout_ms(steady_clock::duration left) {
  auto ms = std::chrono::ceil<milliseconds>(left).count();
  return static_cast<int>(std::clamp<long long>(ms, 0, INT_MAX));
}

}  // namespace

std::string_view to_string(Cut cut) {
  switch (cut) {
    case Cut::none: return "none";
    case Cut::header_timeout: return "header_timeout";
    case Cut::header_too_large: return "header_too_large";
    case Cut::body_timeout: return "body_timeout";
    case Cut::body_too_large: return "body_too_large";
    case Cut::response_timeout: return "response_timeout";
    case Cut::shutdown: return "shutdown";
  }
  return "none";
}

void RangeHeaderFilter::apply(char* data, std::size_t size) {
  static constexpr std::string_view k_line = "\nrange:";
  for (std::size_t i = 0; i < size; ++i) {
    char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(data[i])));
    if (lower == k_line[m_matched]) {
      if (++m_matched < k_line.size()) continue;
      data[i] = ' ';  // "Range bytes=0-": a line without a colon, which cpp-httplib drops
      m_matched = 0;
    } else {
      m_matched = lower == '\n' ? 1 : 0;
    }
  }
}

ConnectionLimits ConnectionLimits::from(const ServerConfig& server) {
  return {server.header_timeout, server.body_timeout, server.keep_alive_timeout,
          2 * static_cast<std::size_t>(server.max_body_bytes) + 64 * 1024};
}

Connection::Connection(int fd, SSL* ssl, const ConnectionLimits& limits, int stop_fd)
    : m_fd(fd), m_ssl(ssl), m_limits(limits), m_stop_fd(stop_fd) {
  ::fcntl(m_fd, F_SETFL, ::fcntl(m_fd, F_GETFL) | O_NONBLOCK);
  // cpp-httplib writes a response's headers and body in separate sends; with
  // Nagle's algorithm the body waited for the client's delayed ACK, ~40 ms
  // per answer on a kept-alive connection (SNS reuses its connections).
  const int on = 1;
  ::setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  if (m_ssl != nullptr) SSL_set_fd(m_ssl, m_fd);
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numeric_address(address, length, m_remote_address, m_remote_port);
  }
  begin(Phase::header, m_limits.header_timeout);
}

void Connection::begin(Phase phase, milliseconds timeout) {
  if (phase == Phase::header) m_range_filter.reset();
  m_phase = phase;
  m_deadline = steady_clock::now() + timeout;
  m_phase_bytes = 0;
}

void Connection::begin_body() { begin(Phase::body, m_limits.body_timeout); }

void Connection::begin_response() { begin(Phase::response, m_limits.body_timeout); }

bool Connection::handshake() {
  for (;;) {
    ERR_clear_error();  // SSL_get_error reads this thread's queue
    int result = SSL_accept(m_ssl);
    if (result == 1) return true;
    if (!wait_for_ssl(result)) return false;
  }
}

bool Connection::wait_for_next_request() {
  bool buffered = m_buffer_begin < m_buffer_end || (m_ssl != nullptr && SSL_pending(m_ssl) > 0);
  if (!buffered) {
    begin(Phase::idle, m_limits.keep_alive_timeout);
    if (!wait_for(POLLIN)) return false;
  }
  begin(Phase::header, m_limits.header_timeout);
  return true;
}

bool Connection::wait_for(short events) {
  // Stopping the server ends connections that are between requests or still
  // sending headers; one whose request is under way finishes it.
  bool watch_stop = m_stop_fd >= 0 && (m_phase == Phase::idle || m_phase == Phase::header);
  for (;;) {
    auto left = m_deadline - steady_clock::now();
    if (left <= steady_clock::duration::zero()) {
      m_cut = m_phase == Phase::header     ? Cut::header_timeout
              : m_phase == Phase::body     ? Cut::body_timeout
              : m_phase == Phase::response ? Cut::response_timeout
                                           : Cut::none;  // idle: an ordinary keep-alive close
      return false;
    }
    pollfd fds[2] = {{m_fd, events, 0}, {m_stop_fd, POLLIN, 0}};
    int ready = ::poll(fds, watch_stop ? 2 : 1, poll_timeout_ms(left));
    if (ready < 0 && errno != EINTR) return false;
    if (ready <= 0) continue;  // the loop checks the deadline again
    if (watch_stop && fds[1].revents != 0) {
      m_cut = Cut::shutdown;
      return false;
    }
    return true;  // ready, or an error the next call reports
  }
}

bool Connection::wait_for_ssl(int result) {
  switch (SSL_get_error(m_ssl, result)) {
    case SSL_ERROR_WANT_READ: return wait_for(POLLIN);
    case SSL_ERROR_WANT_WRITE: return wait_for(POLLOUT);
    default: return false;
  }
}

bool Connection::wait_for_socket(short events) {
  if (errno == EINTR) return true;
  if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_for(events);
  return false;
}

ssize_t Connection::fill() {
  for (;;) {
    ssize_t got = 0;
    if (m_ssl != nullptr) {
      ERR_clear_error();
      int result = SSL_read(m_ssl, m_buffer, sizeof m_buffer);
      if (result <= 0) {
        if (SSL_get_error(m_ssl, result) == SSL_ERROR_ZERO_RETURN) return 0;
        if (wait_for_ssl(result)) continue;
        return -1;
      }
      got = result;
    } else {
      got = ::recv(m_fd, m_buffer, sizeof m_buffer, 0);
      if (got == 0) return 0;
      if (got < 0) {
        if (wait_for_socket(POLLIN)) continue;
        return -1;
      }
    }
    m_buffer_begin = 0;
    m_buffer_end = static_cast<std::size_t>(got);
    return got;
  }
}

bool Connection::count_read(std::size_t bytes) {
  if (m_phase != Phase::header && m_phase != Phase::body) return true;
  m_phase_bytes += bytes;
  if (m_phase == Phase::header && m_phase_bytes > k_max_header_bytes) {
    m_cut = Cut::header_too_large;
    return false;
  }
  if (m_phase == Phase::body && m_phase_bytes > m_limits.max_body_wire_bytes) {
    m_cut = Cut::body_too_large;
    return false;
  }
  return true;
}

ssize_t Connection::read(char* ptr, size_t size) {
  if (m_buffer_begin == m_buffer_end) {
    auto got = fill();
    if (got <= 0) return got;
  }
  auto bytes = std::min(size, m_buffer_end - m_buffer_begin);
  if (!count_read(bytes)) return -1;
  std::memcpy(ptr, m_buffer + m_buffer_begin, bytes);
  m_buffer_begin += bytes;
  if (m_phase == Phase::header) m_range_filter.apply(ptr, bytes);
  return static_cast<ssize_t>(bytes);
}

ssize_t Connection::write(const char* ptr, size_t size) {
  if (size == 0) return 0;
  for (;;) {
    if (m_ssl != nullptr) {
      ERR_clear_error();
      int result = SSL_write(m_ssl, ptr, static_cast<int>(std::min<size_t>(size, INT_MAX)));
      if (result > 0) return result;
      if (!wait_for_ssl(result)) return -1;
    } else {
      // MSG_NOSIGNAL: a client that went away is an error here, not SIGPIPE.
      auto sent = ::send(m_fd, ptr, size, MSG_NOSIGNAL);
      if (sent >= 0) return sent;
      if (!wait_for_socket(POLLOUT)) return -1;
    }
  }
}

void Connection::linger_if_body_unread() {
  if (!m_close) return;
  ::shutdown(m_fd, SHUT_WR);
  m_cut = Cut::none;  // the answer is out; only the wait below is left
  begin(Phase::response, k_lingering_close);
  while (wait_for(POLLIN)) {
    auto got = ::recv(m_fd, m_buffer, sizeof m_buffer, 0);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) break;
  }
  m_cut = Cut::none;
}

bool Connection::is_readable() const {
  if (m_buffer_begin < m_buffer_end || (m_ssl != nullptr && SSL_pending(m_ssl) > 0)) return true;
  pollfd fd{m_fd, POLLIN, 0};
  return ::poll(&fd, 1, 0) > 0;
}

bool Connection::is_writable() const { return m_cut == Cut::none; }

void Connection::get_remote_ip_and_port(std::string& ip, int& port) const {
  ip = m_remote_address;
  port = m_remote_port;
}

void Connection::get_local_ip_and_port(std::string& ip, int& port) const {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getsockname(m_fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    numeric_address(address, length, ip, port);
  }
}

Connection* current_connection() { return t_connection; }

CurrentConnection::CurrentConnection(Connection& connection) { t_connection = &connection; }

CurrentConnection::~CurrentConnection() { t_connection = nullptr; }

}  // namespace mailer::http
