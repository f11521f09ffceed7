#include "support/fake_metadata.hpp"

#include <chrono>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace mailer::test {

namespace {
constexpr const char* k_token = "fake-imds-session-token";
constexpr const char* k_role = "mailerd-role";
}  // namespace

int LoopbackServer::start() {
  m_port = m_server.bind_to_any_port("127.0.0.1");
  if (m_port <= 0) throw std::runtime_error("LoopbackServer: cannot bind 127.0.0.1");
  m_thread = std::thread([this] { m_server.listen_after_bind(); });
  // stop() before the accept loop has started would be lost (httplib sets
  // is_running inside listen), so wait until it runs; bounded at 5 s.
  for (int i = 0; i < 5000 && !m_server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!m_server.is_running()) throw std::runtime_error("LoopbackServer: did not start");
  return m_port;
}

void LoopbackServer::stop() {
  if (!m_thread.joinable()) return;
  m_server.stop();
  m_thread.join();
}

FakeMetadataServer::FakeMetadataServer() {
  auto& server = m_http.server();
  server.Put("/latest/api/token", [this](const httplib::Request& req, httplib::Response& res) {
    ++m_token_requests;
    if (m_fail_token || !req.has_header("X-aws-ec2-metadata-token-ttl-seconds")) {
      res.status = m_fail_token ? 403 : 400;
      return;
    }
    res.set_content(k_token, "text/plain");
  });
  auto authorised = [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("X-aws-ec2-metadata-token") == k_token) return true;
    res.status = 401;
    return false;
  };
  server.Get("/latest/meta-data/iam/security-credentials/",
             [authorised](const httplib::Request& req, httplib::Response& res) {
               if (authorised(req, res)) res.set_content(k_role, "text/plain");
             });
  server.Get(std::string("/latest/meta-data/iam/security-credentials/") + k_role,
             [this, authorised](const httplib::Request& req, httplib::Response& res) {
               if (!authorised(req, res)) return;
               ++m_credential_requests;
               std::scoped_lock lock(m_mutex);
               res.set_content(m_credentials_json, "text/plain");
             });
  m_http.start();
}

void FakeMetadataServer::set_credentials(const std::string& access_key_id, const std::string& secret,
                                         const std::string& token, const std::string& expiration) {
  nlohmann::json body = {{"Code", "Success"},         {"LastUpdated", "2026-01-01T00:00:00Z"},
                         {"Type", "AWS-HMAC"},        {"AccessKeyId", access_key_id},
                         {"SecretAccessKey", secret}, {"Token", token},
                         {"Expiration", expiration}};
  std::scoped_lock lock(m_mutex);
  m_credentials_json = body.dump();
}

}  // namespace mailer::test
