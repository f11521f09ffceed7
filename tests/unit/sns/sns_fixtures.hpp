#pragma once
// Helpers for the SNS fixtures in shared/testdata/sns: the manifest, fixture
// bodies with the certificate URL pointing at a loopback server, and that
// server (serves test-signing-cert.pem at /cert.pem and counts every request).
// Header-only so unit and integration tests share it.

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/sns/verify.hpp"

namespace mailer::test::sns_fixtures {

inline std::string sns_dir() { return std::string(MAILER_SHARED_DIR) + "/testdata/sns"; }

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

inline nlohmann::json manifest() { return nlohmann::json::parse(read_text(sns_dir() + "/manifest.json")); }

inline std::vector<std::string> topic_allowlist() {
  return manifest()["topic_allowlist"].get<std::vector<std::string>>();
}

/// The fixture body with every literal "PORT" in the cert URL replaced by `port`.
inline std::string body(const std::string& file, int port) {
  auto text = read_text(sns_dir() + "/" + file);
  const std::string placeholder = "http://127.0.0.1:PORT/";
  const std::string actual = "http://127.0.0.1:" + std::to_string(port) + "/";
  for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at)) {
    text.replace(at, placeholder.size(), actual);
    at += actual.size();
  }
  return text;
}

/// A loopback HTTP server on a free port serving the test certificate.
class CertServer {
 public:
  CertServer() : m_cert(read_text(sns_dir() + "/test-signing-cert.pem")) {
    m_server.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::scoped_lock lock(m_mutex);
        m_paths.push_back(req.path);
      }
      if (req.path == "/cert.pem") {
        res.set_content(m_cert, "application/x-pem-file");
      } else {
        res.status = 404;
      }
    });
    m_port = m_server.bind_to_any_port("127.0.0.1");
    if (m_port <= 0) throw std::runtime_error("cannot bind the certificate server");
    m_thread = std::thread([this] { m_server.listen_after_bind(); });
    // Bounded poll of the server's own state (httplib 0.11 has no wait_until_ready).
    for (int i = 0; i < 500 && !m_server.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~CertServer() {
    m_server.stop();
    m_thread.join();
  }
  CertServer(const CertServer&) = delete;
  CertServer& operator=(const CertServer&) = delete;

  int port() const { return m_port; }
  std::vector<std::string> paths() const {
    std::scoped_lock lock(m_mutex);
    return m_paths;
  }
  std::size_t request_count() const { return paths().size(); }

 private:
  std::string m_cert;
  httplib::Server m_server;
  int m_port = 0;
  std::thread m_thread;
  mutable std::mutex m_mutex;
  std::vector<std::string> m_paths;
};

/// A fetcher that fetches loopback URLs for real (the certificate) and records
/// every URL; other hosts (SubscribeURL) get a canned 200 without a request.
class RecordingFetcher final : public sns::UrlFetcher {
 public:
  Result<Response> get(const std::string& url) override {
    {
      std::scoped_lock lock(m_mutex);
      m_urls.push_back(url);
    }
    if (url.starts_with("http://127.0.0.1:")) return m_real->get(url);
    return Response{200, "<ConfirmSubscriptionResponse/>"};
  }
  std::vector<std::string> urls() const {
    std::scoped_lock lock(m_mutex);
    return m_urls;
  }

 private:
  std::shared_ptr<sns::UrlFetcher> m_real = sns::make_curl_fetcher();
  mutable std::mutex m_mutex;
  std::vector<std::string> m_urls;
};

/// Config the fixtures expect: the manifest's topics, certificates from the
/// loopback server and SubscribeURLs from the real SNS host shape.
inline SnsConfig test_sns_config() {
  SnsConfig config;
  config.topic_arns = topic_allowlist();
  config.cert_host_pattern = R"(^(127\.0\.0\.1|sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?)$)";
  config.allow_http = true;
  return config;
}

}  // namespace mailer::test::sns_fixtures
