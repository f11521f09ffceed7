#pragma once
// In-process loopback HTTP servers for the net/aws tests: LoopbackServer runs
// an httplib::Server on 127.0.0.1 with an ephemeral port in a thread (joined on
// destruction), and FakeMetadataServer plays the EC2 instance metadata service
// (IMDSv2 token flow) on top of it.

#include <httplib.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>

namespace mailer::test {

class LoopbackServer {
 public:
  LoopbackServer() = default;
  ~LoopbackServer() { stop(); }
  LoopbackServer(const LoopbackServer&) = delete;
  LoopbackServer& operator=(const LoopbackServer&) = delete;

  httplib::Server& server() { return m_server; }
  /// Binds 127.0.0.1:0 and serves in a thread. The socket listens once this
  /// returns, so clients may connect at once. Throws when binding fails.
  int start();
  void stop();
  int port() const { return m_port; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

 private:
  httplib::Server m_server;
  std::thread m_thread;
  int m_port = 0;
};

/// IMDSv2: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds),
/// GET /latest/meta-data/iam/security-credentials/ (role name) and
/// GET .../<role> (credentials JSON); GETs need the token header, else 401.
class FakeMetadataServer {
 public:
  FakeMetadataServer();
  std::string url() const { return m_http.url(); }

  /// Credentials served next; `expiration` is RFC 3339 ("2026-01-01T00:00:00Z").
  void set_credentials(const std::string& access_key_id, const std::string& secret, const std::string& token,
                       const std::string& expiration);
  void set_fail_token(bool fail) { m_fail_token = fail; }
  int token_requests() const { return m_token_requests; }
  int credential_requests() const { return m_credential_requests; }

 private:
  std::mutex m_mutex;
  std::string m_credentials_json;
  std::atomic<bool> m_fail_token{false};
  std::atomic<int> m_token_requests{0};
  std::atomic<int> m_credential_requests{0};
  LoopbackServer m_http;  // last: stopped before the state its handlers use is destroyed
};

}  // namespace mailer::test
