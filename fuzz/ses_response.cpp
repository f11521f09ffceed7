// What SES and the instance metadata service answer (src/aws/ses_client.cpp,
// src/aws/credentials.cpp): a network path we do not control. The answers are
// read inside SesClient and credentials_from_imds, so this target serves the
// input from an HTTP server on 127.0.0.1 and makes the real calls: GetAccount,
// SendEmail, the IMDSv2 role credentials, plus the pure readers (SES error
// bodies, the shared credentials file, IMDS expiration times).
//
// Input: one byte choosing the HTTP status (see k_statuses), then the body.

#include <httplib.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "mailer/aws/credentials.hpp"
#include "mailer/aws/ses_client.hpp"
#include "mailer/core/log.hpp"
#include "mailer/net/http_client.hpp"

namespace {

using namespace mailer;

constexpr std::array<int, 6> k_statuses{200, 200, 400, 429, 500, 503};

// One answer for every path, replaced by each input; the IMDS token and role
// name paths answer fixed values so the credentials call reaches the body.
class AnswerServer {
 public:
  AnswerServer() {
    m_server.Put("/latest/api/token", [](const httplib::Request&, httplib::Response& res) {
      res.set_content("token", "text/plain");
    });
    m_server.Get("/latest/meta-data/iam/security-credentials/",
                 [](const httplib::Request&, httplib::Response& res) { res.set_content("role", "text/plain"); });
    auto answer = [this](const httplib::Request&, httplib::Response& res) {
      std::scoped_lock lock(m_mutex);
      res.status = m_status;
      res.set_content(m_body, "application/json");
    };
    m_server.Get(".*", answer);
    m_server.Post(".*", answer);
    m_port = m_server.bind_to_any_port("127.0.0.1");
    // Bound already: connections wait in the backlog until the thread accepts.
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
  }
  void set(int status, std::string body) {
    std::scoped_lock lock(m_mutex);
    m_status = status;
    m_body = std::move(body);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(m_port); }

 private:
  httplib::Server m_server;
  std::thread m_thread;  // runs until the process exits, as libFuzzer ends with exit()
  int m_port = 0;
  std::mutex m_mutex;
  int m_status = 200;
  std::string m_body;
};

struct Fixture {
  net::CurlGlobal curl;
  AnswerServer server;
  aws::SesClient client;
  aws::ImdsOptions imds;

  Fixture() : client(options(server.url()), credentials()) {
    imds.endpoint = server.url();
    log::configure(log::Level::error, "json");
  }
  static aws::SesClientOptions options(const std::string& url) {
    aws::SesClientOptions out;
    out.endpoint = url;
    return out;
  }
  static std::shared_ptr<aws::CredentialsProvider> credentials() {
    aws::CredentialsProvider::Options options;
    options.explicit_config.access_key_id = "AKIDEXAMPLE";
    options.explicit_config.secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    return std::make_shared<aws::CredentialsProvider>(std::move(options));
  }
};

Fixture& fixture() {
  static auto* instance = new Fixture;  // never destroyed: the server thread outlives main
  return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int status = k_statuses[data[0] % k_statuses.size()];
  const std::string body(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto& f = fixture();
  f.server.set(status, body);
  (void)f.client.get_account();
  (void)f.client.send_email({"a@example.com", {"b@example.com"}, {}, "s", "", "t", {}, {}, ""});
  (void)aws::credentials_from_imds(f.imds);
  (void)aws::classify_ses_error(status, "", body);
  (void)aws::parse_ini(body);
  Clock::time_point when;
  (void)aws::parse_iso8601_utc(body, when);
  return 0;
}
