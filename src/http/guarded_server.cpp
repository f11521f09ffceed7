#include "http/guarded_server.hpp"

#include <pthread.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <list>
#include <mutex>
#include <system_error>
#include <thread>
#include <type_traits>

#include <fmt/format.h>

#include "http/connection.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/http/problem.hpp"

namespace mailer::http {

namespace {

thread_local bool t_refusing = false;

// Threads kept after a burst, and how long an extra idle one lives.
constexpr std::size_t k_warm_threads = 8;
constexpr auto k_idle_thread_lifetime = std::chrono::seconds(60);

struct SslFree {
  void operator()(SSL* ssl) const noexcept { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

// What a refused client reads: mailerd is full, not broken.
std::string refusal_response() {
  auto problem = problem_for_status(503, "too many connections open (server.max_connections); retry in a second");
  auto body = problem.body.dump();
  return fmt::format(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Retry-After: 1\r\nConnection: close\r\n\r\n{}",
      k_problem_content_type, body.size(), body);
}

// cpp-httplib answers headers over the limit with 400 (through the server's
// error handler), but a request line over it with nothing at all: its reader
// fails before there is a request. Say the same in both cases.
void answer_header_too_large(Connection& connection) {
  auto body = header_too_large_problem().body.dump();
  auto response = fmt::format(
      "HTTP/1.1 400 Bad Request\r\nContent-Type: {}\r\nContent-Length: {}\r\n"
      "Connection: close\r\n\r\n{}",
      k_problem_content_type, body.size(), body);
  for (std::size_t sent = 0; sent < response.size();) {
    auto n = connection.write(response.data() + sent, response.size() - sent);
    if (n <= 0) return;
    sent += static_cast<std::size_t>(n);
  }
}

void log_cut(const Connection& connection, const ServerConfig& config) {
  auto cut = connection.cut();
  if (cut == Cut::none || cut == Cut::shutdown) return;
  metrics::count_http_connection_closed_early(to_string(cut));
  std::string limit = cut == Cut::header_timeout     ? "server.header_timeout_seconds"
                      : cut == Cut::header_too_large ? "64 KiB of request line and headers"
                      : cut == Cut::body_too_large   ? "server.max_body_bytes"
                                                     : "server.body_timeout_seconds";
  static log::Throttle throttle;
  log::warn_throttled(throttle, "HTTP connection closed early",
                      {{"reason", std::string(to_string(cut))},
                       {"limit", limit},
                       {"remote_address", connection.remote_address()},
                       {"header_timeout_seconds", config.header_timeout.count()},
                       {"body_timeout_seconds", config.body_timeout.count()}});
}

template <class Base>
class Guarded final : public Base, public GuardedServer {
 public:
  template <class... Args>
  explicit Guarded(const ServerConfig& config, Args&&... args)
      : Base(std::forward<Args>(args)...),
        m_config(config),
        m_limits(ConnectionLimits::from(config)),
        m_stop_fd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
        m_refusal(refusal_response()) {
    auto max = static_cast<std::size_t>(config.max_connections);
    this->new_task_queue = [max] { return new ConnectionPool(max); };
    this->set_keep_alive_timeout(config.keep_alive_timeout.count());
    this->set_keep_alive_max_count(100);
  }
  ~Guarded() override {
    if (m_stop_fd >= 0) ::close(m_stop_fd);
  }

  httplib::Server& http() override { return *this; }

  void widen_backlog() override { ::listen(this->svr_sock_, SOMAXCONN); }

  void stop() override {
    std::uint64_t one = 1;
    if (m_stop_fd >= 0) (void)!::write(m_stop_fd, &one, sizeof one);
    Base::stop();
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    if (refusing_connection()) {
      refuse(sock);
      return false;
    }
    metrics::add_http_connections(1);
    bool ok = false;
    try {
      ok = serve(sock);
    } catch (const std::exception& e) {
      // process_request catches what handlers throw; this is the parser or
      // the allocator failing. The connection ends, the server lives on.
      log::error("HTTP connection failed", {{"detail", e.what()}});
    } catch (...) {
      log::error("HTTP connection failed", {{"detail", "unknown exception"}});
    }
    metrics::add_http_connections(-1);
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  bool serve(int sock) {
    if constexpr (std::is_same_v<Base, httplib::SSLServer>) {
      SslPtr ssl(SSL_new(this->ssl_context()));
      if (!ssl) return false;
      Connection connection(sock, ssl.get(), m_limits, m_stop_fd);
      bool ok = connection.handshake() && serve_requests(connection, ssl.get());
      log_cut(connection, m_config);
      if (ok && connection.cut() == Cut::none) SSL_shutdown(ssl.get());  // close_notify, one try
      connection.linger_if_body_unread();
      return ok;
    } else {
      Connection connection(sock, nullptr, m_limits, m_stop_fd);
      bool ok = serve_requests(connection, nullptr);
      log_cut(connection, m_config);
      connection.linger_if_body_unread();
      return ok;
    }
  }

  // cpp-httplib's keep-alive loop (detail::process_server_socket_core), with
  // a real idle timeout and the connection's own close decisions.
  bool serve_requests(Connection& connection, SSL* ssl) {
    CurrentConnection current(connection);
    std::function<void(httplib::Request&)> setup;
    if (ssl != nullptr) setup = [ssl](httplib::Request& req) { req.ssl = ssl; };
    const std::size_t max_requests = this->keep_alive_max_count_;
    bool ok = false;
    for (std::size_t left = max_requests; left > 0; --left) {
      if (left != max_requests && !connection.wait_for_next_request()) break;
      bool closed = false;
      ok = this->process_request(connection, left == 1, closed, setup);
      if (connection.cut() == Cut::header_too_large) {
        if (connection.reading_headers()) answer_header_too_large(connection);
        connection.close_after_response();  // drain what follows, so the 400 is not lost to a reset
      }
      if (!ok || closed || connection.closing() || this->svr_sock_ == INVALID_SOCKET) break;
    }
    return ok;
  }

  // Runs on the accept thread, so nothing here may wait.
  void refuse(int sock) {
    metrics::count_http_connection_closed_early("refused");
    log::warn_throttled(m_refusal_throttle, "HTTP connection refused",
                        {{"reason", "server.max_connections reached"}, {"max_connections", m_config.max_connections}});
    if constexpr (!std::is_same_v<Base, httplib::SSLServer>) {
      (void)::send(sock, m_refusal.data(), m_refusal.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      // Unread request bytes would turn close() into a reset that can
      // overtake the 503; take what has arrived.
      char sink[4096];
      for (int i = 0; i < 16 && ::recv(sock, sink, sizeof sink, MSG_DONTWAIT) > 0; ++i) {
      }
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
  }

  const ServerConfig& m_config;
  ConnectionLimits m_limits;
  int m_stop_fd;
  std::string m_refusal;
  log::Throttle m_refusal_throttle;
};

}  // namespace

std::unique_ptr<GuardedServer> GuardedServer::create(const ServerConfig& config) {
  if (!config.tls_cert_file.empty() && !config.tls_key_file.empty()) {
    return std::make_unique<Guarded<httplib::SSLServer>>(config, config.tls_cert_file.c_str(),
                                                         config.tls_key_file.c_str());
  }
  return std::make_unique<Guarded<httplib::Server>>(config);
}

bool refusing_connection() { return t_refusing; }

Problem header_too_large_problem() {
  return problem_for_status(400, fmt::format("the request line and headers exceed {} bytes", k_max_header_bytes));
}

// ---- ConnectionPool ---------------------------------------------------------

namespace {

// No exception may end a pool thread (or the accept thread).
void run_task(std::function<void()>& task) {
  try {
    task();
  } catch (...) {
    log::error("HTTP connection task failed");
  }
}

}  // namespace

struct ConnectionPool::State {
  explicit State(std::size_t max) : max_threads(max) {}

  void work(std::list<std::thread>::iterator self);
  bool start_thread(std::function<void()>& task);
  void join_retired();

  const std::size_t max_threads;
  mutable std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::function<void()>> tasks;
  std::list<std::thread> threads;
  std::list<std::thread> retired;  // ended by themselves, joined by the next enqueue
  std::size_t idle = 0;
  bool stopping = false;
};

void ConnectionPool::State::work(std::list<std::thread>::iterator self) {
  // OpenSSL writes to the socket with write(), not send(MSG_NOSIGNAL): a TLS
  // client that went away must be an EPIPE here, never a SIGPIPE for mailerd.
  sigset_t pipe;
  sigemptyset(&pipe);
  sigaddset(&pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
  std::unique_lock lock(mutex);
  for (;;) {
    ++idle;
    bool woken = wake.wait_for(lock, k_idle_thread_lifetime, [&] { return !tasks.empty() || stopping; });
    --idle;
    if (!tasks.empty()) {
      auto task = std::move(tasks.front());
      tasks.pop_front();
      lock.unlock();
      run_task(task);
      lock.lock();
      continue;
    }
    if (stopping) return;
    if (!woken && threads.size() > k_warm_threads) {
      retired.splice(retired.end(), threads, self);
      return;
    }
  }
}

// Called with `mutex` held; false (task untouched) when no thread can start.
bool ConnectionPool::State::start_thread(std::function<void()>& task) {
  if (threads.size() >= max_threads) return false;
  tasks.push_back(std::move(task));
  auto self = threads.emplace(threads.end());
  try {
    *self = std::thread([this, self] { work(self); });
  } catch (const std::system_error& e) {
    threads.erase(self);
    task = std::move(tasks.back());
    tasks.pop_back();
    log::error("cannot start an HTTP thread", {{"detail", e.what()}});
    return false;
  }
  return true;
}

void ConnectionPool::State::join_retired() {
  std::list<std::thread> done;
  {
    std::scoped_lock lock(mutex);
    done.splice(done.end(), retired);
  }
  for (auto& thread : done) thread.join();
}

ConnectionPool::ConnectionPool(std::size_t max_threads) : m_state(std::make_unique<State>(max_threads)) {}

ConnectionPool::~ConnectionPool() { shutdown(); }

void ConnectionPool::enqueue(std::function<void()> task) {
  m_state->join_retired();
  {
    std::scoped_lock lock(m_state->mutex);
    if (m_state->tasks.size() < m_state->idle) {
      m_state->tasks.push_back(std::move(task));
      m_state->wake.notify_one();
      return;
    }
    if (m_state->start_thread(task)) return;
  }
  t_refusing = true;
  run_task(task);
  t_refusing = false;
}

void ConnectionPool::shutdown() {
  {
    std::scoped_lock lock(m_state->mutex);
    m_state->stopping = true;
  }
  m_state->wake.notify_all();
  // No thread retires itself once stopping is set, so both lists are final.
  for (auto* list : {&m_state->threads, &m_state->retired}) {
    for (auto& thread : *list) {
      if (thread.joinable()) thread.join();
    }
  }
}

std::size_t ConnectionPool::thread_count() const {
  std::scoped_lock lock(m_state->mutex);
  return m_state->threads.size();
}

}  // namespace mailer::http
