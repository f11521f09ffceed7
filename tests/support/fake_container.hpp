#pragma once
// A loopback stand-in for the ECS / EKS Pod Identity credentials endpoint
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html):
// any GET path answers the credentials JSON, with a fresh Token and an
// Expiration `expires_in` from now on each request, or the status and body a
// test set. It records what it received so tests can check the path and the
// Authorization header.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>

#include "support/fake_metadata.hpp"

namespace mailer::test {

class FakeContainerServer {
 public:
  /// Answers with these keys (the ones mailer-fake-ses checks by default).
  FakeContainerServer(std::string access_key_id = "AKIDTESTMAILERD", std::string secret = "test-secret-not-real");
  ~FakeContainerServer();
  FakeContainerServer(const FakeContainerServer&) = delete;
  FakeContainerServer& operator=(const FakeContainerServer&) = delete;
  std::string url() const { return m_http.url(); }

  /// Credentials expire this long after each answer (default 1 hour).
  void set_expires_in(std::chrono::seconds expires_in) { m_expires_in_s = expires_in.count(); }
  /// Every answer after the first waits this long (a slow STS or agent).
  void set_slow_refresh(std::chrono::milliseconds delay) { m_slow_refresh_ms = delay.count(); }
  /// Answers 401 unless Authorization is exactly this; nullopt: no check.
  void require_authorization(std::optional<std::string> token);
  /// The next `count` requests answer `status` with an empty body.
  void fail_next(int count, int status);
  /// Every request answers `status` with `body` (200 included), instead of credentials.
  void set_raw_answer(int status, std::string body);

  /// From now on requests wait in the handler until release_answers();
  /// held() says how many wait. Lets a test keep a fetch in flight.
  void hold_answers();
  void release_answers();
  int held() const { return m_held; }
  /// Polls held() until it reaches `count`; false after 5 s.
  bool wait_until_held(int count) const;

  int requests() const { return m_requests; }
  std::string last_path() const;
  /// Authorization of the last request; nullopt when it had none.
  std::optional<std::string> last_authorization() const;

 private:
  std::string credentials_json(int serial) const;

  const std::string m_access_key_id;
  const std::string m_secret;
  mutable std::mutex m_mutex;
  std::optional<std::string> m_required_token;
  std::optional<std::pair<int, std::string>> m_raw;
  std::condition_variable m_gate;
  bool m_holding = false;
  std::atomic<int> m_held{0};
  int m_fail_count = 0;
  int m_fail_status = 500;
  std::string m_last_path;
  std::optional<std::string> m_last_authorization;
  std::atomic<long long> m_expires_in_s{3600};
  std::atomic<long long> m_slow_refresh_ms{0};
  std::atomic<int> m_requests{0};
  LoopbackServer m_http;  // last: stopped before the state its handlers use is destroyed
};

}  // namespace mailer::test
