// mailerd speaks systemd's notify protocol (sd_notify(3)): READY=1 once it
// serves, WATCHDOG=1 pings when WatchdogSec is set, STOPPING=1 on SIGTERM.
// The test plays systemd's part with a datagram socket of its own.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include "support/mailerd_fixture.hpp"
#include "support/temp_dir.hpp"

using mailer::test::MailerdFixture;
using mailer::test::MailerdOptions;

namespace {

class NotifySocket {
 public:
  explicit NotifySocket(std::string path) : m_path(std::move(path)) {
    m_fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    m_path.copy(address.sun_path, sizeof(address.sun_path) - 1);
    REQUIRE(::bind(m_fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0);
    timeval timeout{0, 200'000};
    ::setsockopt(m_fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { ::close(m_fd); }
  const std::string& path() const { return m_path; }

  /// Collects datagrams until one contains `needle` or `timeout` passes.
  bool wait_for(const std::string& needle, std::chrono::seconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char buffer[4096];
      auto n = ::recv(m_fd, buffer, sizeof(buffer), 0);
      if (n > 0) m_seen.append(buffer, static_cast<std::size_t>(n)).push_back('\n');
      if (m_seen.find(needle) != std::string::npos) return true;
    }
    return false;
  }
  const std::string& seen() const { return m_seen; }

 private:
  std::string m_path;
  std::string m_seen;
  int m_fd = -1;
};

}  // namespace

TEST_CASE("mailerd notifies systemd: READY, watchdog pings, STOPPING", "[integration][systemd]") {
  mailer::test::TempDir dir;
  NotifySocket systemd((dir / "notify.sock").string());
  MailerdFixture mailerd(MailerdOptions{.env = {{"NOTIFY_SOCKET", systemd.path()}, {"WATCHDOG_USEC", "400000"}}});
  CHECK(systemd.wait_for("READY=1", std::chrono::seconds(10)));
  CHECK(systemd.wait_for("WATCHDOG=1", std::chrono::seconds(10)));
  REQUIRE(mailerd.process().stop(SIGTERM) == 0);
  CHECK(systemd.wait_for("STOPPING=1", std::chrono::seconds(5)));
  INFO(systemd.seen());
}
