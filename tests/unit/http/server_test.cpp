// Server behaviour that a real route cannot trigger from outside: handlers
// that throw, and bodies sent chunked (no Content-Length) over the limit.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <future>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/config.hpp"
#include "mailer/core/log.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/server.hpp"
#include "support/temp_dir.hpp"

using namespace mailer;
using namespace mailer::http;

namespace {

// A server on 127.0.0.1:<free port> with `router`, served on a thread until destroyed.
class RunningServer {
 public:
  RunningServer(Router router, long long max_body_bytes = 1024)
      : m_pool((m_dir / "t.db").string()), m_deps{m_config, m_pool, m_clock} {
    log::set_output(&m_log);
    m_config.server.port = 0;
    m_config.server.max_body_bytes = max_body_bytes;
    m_server = std::make_unique<Server>(m_deps, std::move(router));
    auto port = m_server->bind();
    REQUIRE(port);
    m_port = *port;
    m_thread = std::thread([this] { (void)m_server->serve(); });
  }
  ~RunningServer() {
    m_server->stop();
    m_thread.join();
    log::set_output(nullptr);
  }
  std::string log() const { return m_log.str(); }
  httplib::Client client() const { return httplib::Client("127.0.0.1", m_port); }
  int port() const { return m_port; }

 private:
  std::ostringstream m_log;
  test::TempDir m_dir;
  Config m_config;
  SystemClock m_clock;
  DbPool m_pool;
  Deps m_deps;
  std::unique_ptr<Server> m_server;
  int m_port = 0;
  std::thread m_thread;
};

Router throwing_router() {
  Router router;
  router.add({"GET", "/std", Access::none, BodyKind::none, [](const httplib::Request&, httplib::Response&, Context&) {
                throw std::runtime_error("secret detail /var/lib/x.db");
              }});
  router.add({"GET", "/other", Access::none, BodyKind::none,
              [](const httplib::Request&, httplib::Response&, Context&) { throw 42; }});
  router.add({"PUT", "/thing", Access::none, BodyKind::none,
              [](const httplib::Request&, httplib::Response& res, Context&) { res.status = 204; }});
  router.add({"POST", "/echo", Access::none, BodyKind::json,
              [](const httplib::Request& req, httplib::Response& res, Context&) {
                write_json(res, 200, {{"bytes", req.body.size()}});
              },
              Idempotency::none, std::size_t{1} << 20});  // held to max_body_bytes all the same
  return router;
}

}  // namespace

TEST_CASE("Server turns handler exceptions into a 500 problem without details", "[http]") {
  RunningServer server(throwing_router());
  auto client = server.client();
  for (const char* path : {"/std", "/other"}) {
    auto res = client.Get(path);
    REQUIRE(res);
    CHECK(res->status == 500);
    CHECK(res->get_header_value("Content-Type") == "application/problem+json");
    auto body = nlohmann::json::parse(res->body);
    CHECK(body["type"] == "https://mailerd.dev/problems/internal");
    CHECK(res->body.find("secret detail") == std::string::npos);
  }
  // The operator still gets the real reason, under the request's id.
  CHECK(server.log().find("secret detail /var/lib/x.db") != std::string::npos);
  auto after = client.Post("/echo", "{}", "application/json");  // the server lives on
  REQUIRE(after);
  CHECK(after->status == 200);
}

TEST_CASE("Server refuses a chunked body over max_body_bytes", "[http]") {
  RunningServer server(throwing_router(), 1024);
  auto client = server.client();
  std::string big(4096, 'x');
  auto res = client.Post(
      "/echo", big.size(),
      [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
        sink.write(big.data() + offset, length);
        return true;
      },
      "application/json");
  REQUIRE(res);
  CHECK(res->status == 413);
  auto chunked = client.Post(
      "/echo",
      [&](std::size_t offset, httplib::DataSink& sink) {
        if (offset < big.size()) sink.write(big.data() + offset, 512);
        else sink.done();
        return true;
      },
      "application/json");
  REQUIRE(chunked);
  CHECK(chunked->status == 413);
  auto small = client.Post("/echo", "{}", "application/json");
  REQUIRE(small);
  CHECK(small->status == 200);
}

enum class Read { once, until_close };

// Sends `request` on a fresh connection and returns what arrives within 2 s:
// the first piece, or everything until the server closes (for a request with
// "Connection: close"; headers and body may arrive apart).
std::string raw_exchange(int port, const std::string& request, Read read = Read::once) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buffer[4096];
  for (ssize_t n; (n = ::recv(fd, buffer, sizeof buffer, 0)) > 0;) {
    answer.append(buffer, static_cast<std::size_t>(n));
    if (read == Read::once) break;
  }
  ::close(fd);
  return answer;
}

TEST_CASE("Server treats a PUT without Content-Length as bodiless", "[http]") {
  // RFC 9112 6.3; cpp-httplib 0.11 alone would wait for the client to close.
  RunningServer server(throwing_router());
  auto answer = raw_exchange(server.port(), "PUT /thing HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(answer.rfind("HTTP/1.1 204", 0) == 0);
}

TEST_CASE("Server answers a path with invalid UTF-8 with a 404 problem", "[http]") {
  // The 404 detail names the path; serializing its 0xFF used to throw (500).
  RunningServer server(throwing_router());
  auto answer =
      raw_exchange(server.port(), "GET /v1/%FF HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", Read::until_close);
  CHECK(answer.rfind("HTTP/1.1 404", 0) == 0);
  auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4), nullptr, false);
  REQUIRE_FALSE(body.is_discarded());
  CHECK(body["detail"] == "no route for /v1/\xEF\xBF\xBD");
}

TEST_CASE("Server::stop before serve makes serve return at once", "[http]") {
  // mailerd calls stop() when SIGTERM arrives, which can be before its serving
  // thread has entered serve(): that stop must not be lost (a hang until SIGKILL).
  std::ostringstream log_output;
  log::set_output(&log_output);
  test::TempDir dir;
  Config config;
  config.server.port = 0;
  SystemClock clock;
  DbPool pool((dir / "t.db").string());
  Deps deps{config, pool, clock};
  Server server(deps, throwing_router());
  REQUIRE(server.bind());
  server.stop();
  auto served = std::async(std::launch::async, [&server] { return server.serve(); });
  bool returned = served.wait_for(std::chrono::seconds(3)) == std::future_status::ready;
  if (!returned) server.stop();  // the old behaviour: unblock the thread so the test can end
  CHECK(returned);
  CHECK(served.get());
  log::set_output(nullptr);
}

TEST_CASE("Server::bind refuses a port another server listens on", "[http]") {
  // cpp-httplib's default SO_REUSEPORT let a second mailerd (another database)
  // share the port, and the kernel split requests between the two.
  RunningServer first(throwing_router());
  std::ostringstream log_output;
  log::set_output(&log_output);
  test::TempDir dir;
  Config config;
  config.server.port = first.port();
  SystemClock clock;
  DbPool pool((dir / "t.db").string());
  Deps deps{config, pool, clock};
  Server second(deps, throwing_router());
  auto bound = second.bind();
  log::set_output(nullptr);
  REQUIRE_FALSE(bound);
  CHECK(bound.error().detail.find("cannot bind") != std::string::npos);
  // Says why and where, so the operator need not guess (port taken, bad address).
  CHECK(bound.error().detail == fmt::format("cannot bind 127.0.0.1:{}: Address already in use", first.port()));
}
