#pragma once
// A plain TCP connection to a loopback port, for tests that must send bytes
// no HTTP client library would (hostile framing, "..", stalled requests).

#include <chrono>
#include <string>

namespace mailer::test {

class RawSocket {
 public:
  /// Connects to 127.0.0.1:`port`; REQUIREs success.
  explicit RawSocket(int port);
  ~RawSocket() { close(); }
  RawSocket(RawSocket&& other) noexcept;
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;

  int fd() const { return m_fd; }
  void close();
  /// False once the peer is gone.
  bool send(const std::string& data) const;
  /// What arrives until the peer closes, `until` appears, or `timeout` passes.
  std::string receive(std::chrono::milliseconds timeout, const std::string& until = "") const;
  /// Whether the peer closed (EOF or reset) before `deadline`, reading and
  /// dropping anything it sends first.
  bool closed_by(std::chrono::steady_clock::time_point deadline) const;

 private:
  int m_fd;
};

}  // namespace mailer::test
