// http::Connection deadlines and limits, over a socketpair (no server).
#include <catch2/catch.hpp>

#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "http/connection.hpp"

using namespace mailer::http;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

namespace {

struct Pair {
  Pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0); }
  ~Pair() {
    for (int fd : fds) ::close(fd);
  }
  int server() const { return fds[0]; }
  int client() const { return fds[1]; }
  int fds[2] = {-1, -1};
};

ConnectionLimits short_limits() { return {milliseconds(300), milliseconds(300), milliseconds(300), 4096}; }

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

// Reads one byte at a time, as cpp-httplib's line reader does, until read fails.
std::size_t read_until_failure(Connection& connection) {
  std::size_t bytes = 0;
  char byte;
  while (connection.read(&byte, 1) == 1) ++bytes;
  return bytes;
}

}  // namespace

TEST_CASE("Connection cuts headers that trickle past the header deadline", "[http]") {
  Pair pair;
  Connection connection(pair.server(), nullptr, short_limits(), -1);
  auto started = steady_clock::now();
  std::thread trickler([&] {
    for (int i = 0; i < 40; ++i) {  // 2 s of trickle, far past the 0.3 s deadline
      (void)::send(pair.client(), "x", 1, MSG_NOSIGNAL);
      std::this_thread::sleep_for(milliseconds(50));
    }
  });
  auto bytes = read_until_failure(connection);
  double elapsed = seconds_since(started);
  trickler.join();
  CHECK(connection.cut() == Cut::header_timeout);
  CHECK(bytes >= 4);
  CHECK(elapsed >= 0.25);
  CHECK(elapsed < 1.5);  // cut before the trickle ended, with room for a loaded machine
}

TEST_CASE("Connection refuses more than k_max_header_bytes of headers", "[http]") {
  Pair pair;
  Connection connection(pair.server(), nullptr, {milliseconds(5000), milliseconds(5000), milliseconds(5000), 4096}, -1);
  std::thread flood([&] {
    std::string line(k_max_header_bytes + 1024, 'a');
    (void)::send(pair.client(), line.data(), line.size(), MSG_NOSIGNAL);
  });
  CHECK(read_until_failure(connection) == k_max_header_bytes);
  CHECK(connection.cut() == Cut::header_too_large);
  ::shutdown(pair.server(), SHUT_RDWR);
  flood.join();
}

TEST_CASE("Connection holds the body phase to its wire limit", "[http]") {
  Pair pair;
  Connection connection(pair.server(), nullptr, short_limits(), -1);
  connection.begin_body();
  std::string body(5000, 'b');
  REQUIRE(::send(pair.client(), body.data(), body.size(), MSG_NOSIGNAL) == 5000);
  std::size_t bytes = 0;
  char buffer[1000];
  for (ssize_t got; (got = connection.read(buffer, sizeof buffer)) > 0;) bytes += static_cast<std::size_t>(got);
  CHECK(bytes == 4000);
  CHECK(connection.cut() == Cut::body_too_large);
}

TEST_CASE("Connection::wait_for_next_request ends idle connections", "[http]") {
  Pair pair;
  int stop = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  REQUIRE(stop >= 0);
  Connection connection(pair.server(), nullptr, short_limits(), stop);
  SECTION("after the keep-alive timeout, as an ordinary close") {
    auto started = steady_clock::now();
    CHECK_FALSE(connection.wait_for_next_request());
    CHECK(seconds_since(started) >= 0.25);
    CHECK(connection.cut() == Cut::none);
  }
  SECTION("at once when the server stops") {
    std::uint64_t one = 1;
    REQUIRE(::write(stop, &one, sizeof one) == sizeof one);
    CHECK_FALSE(connection.wait_for_next_request());
    CHECK(connection.cut() == Cut::shutdown);  // not the keep-alive timeout
  }
  SECTION("when the next request starts, with a fresh header deadline") {
    REQUIRE(::send(pair.client(), "GET", 3, MSG_NOSIGNAL) == 3);
    CHECK(connection.wait_for_next_request());
    char buffer[3];
    CHECK(connection.read(buffer, 3) == 3);
  }
  ::close(stop);
}

TEST_CASE("RangeHeaderFilter hides Range header lines and nothing else", "[http]") {
  auto filtered = [](std::string text, std::size_t piece) {
    RangeHeaderFilter filter;
    filter.reset();
    for (std::size_t at = 0; at < text.size(); at += piece) {
      filter.apply(text.data() + at, std::min(piece, text.size() - at));
    }
    return text;
  };
  const std::string request =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nRANGE: bytes=0-,0-\r\nX-Range: 1\r\nRanges: 2\r\n"
      "If-Range: 3\r\nrange:bytes=1-2\r\n\r\n";
  const std::string expected =
      "GET /metrics HTTP/1.1\r\nHost: x\r\nRANGE  bytes=0-,0-\r\nX-Range: 1\r\nRanges: 2\r\n"
      "If-Range: 3\r\nrange bytes=1-2\r\n\r\n";
  SECTION("one byte at a time, as cpp-httplib reads") { CHECK(filtered(request, 1) == expected); }
  SECTION("in pieces that split the name") { CHECK(filtered(request, 7) == expected); }
  SECTION("whole") { CHECK(filtered(request, request.size()) == expected); }
}
