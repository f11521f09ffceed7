#include "support/raw_socket.hpp"

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <utility>

namespace mailer::test {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

RawSocket::RawSocket(int port) : m_fd(::socket(AF_INET, SOCK_STREAM, 0)) {
  REQUIRE(m_fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(m_fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
}

RawSocket::RawSocket(RawSocket&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}

void RawSocket::close() {
  if (m_fd >= 0) ::close(std::exchange(m_fd, -1));
}

bool RawSocket::send(const std::string& data) const {
  return ::send(m_fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

std::string RawSocket::receive(milliseconds timeout, const std::string& until) const {
  std::string got;
  auto deadline = steady_clock::now() + timeout;
  while (until.empty() || got.find(until) == std::string::npos) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    pollfd fd{m_fd, POLLIN, 0};
    if (left <= 0 || ::poll(&fd, 1, static_cast<int>(left)) <= 0) break;
    char buffer[4096];
    auto n = ::recv(m_fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    got.append(buffer, static_cast<std::size_t>(n));
  }
  return got;
}

bool RawSocket::closed_by(steady_clock::time_point deadline) const {
  for (;;) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now()).count();
    pollfd fd{m_fd, POLLIN, 0};
    if (left <= 0 || ::poll(&fd, 1, static_cast<int>(left)) <= 0) return false;
    char buffer[4096];
    if (::recv(m_fd, buffer, sizeof buffer, MSG_DONTWAIT) <= 0) return true;
  }
}

}  // namespace mailer::test
