#include "support/fake_container.hpp"

#include <ctime>
#include <thread>
#include <nlohmann/json.hpp>

namespace mailer::test {

namespace {

std::string iso8601_in(long long seconds) {
  std::time_t at = std::time(nullptr) + static_cast<std::time_t>(seconds);
  std::tm parts{};
  gmtime_r(&at, &parts);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace

FakeContainerServer::FakeContainerServer(std::string access_key_id, std::string secret)
    : m_access_key_id(std::move(access_key_id)), m_secret(std::move(secret)) {
  m_http.server().Get(R"(/.*)", [this](const httplib::Request& req, httplib::Response& res) {
    int serial = ++m_requests;
    if (serial > 1 && m_slow_refresh_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(m_slow_refresh_ms));
    std::unique_lock lock(m_mutex);
    if (m_holding) {
      ++m_held;
      m_gate.wait(lock, [this] { return !m_holding; });
      --m_held;
    }
    m_last_path = req.path;
    m_last_authorization.reset();
    if (req.has_header("Authorization")) m_last_authorization = req.get_header_value("Authorization");
    if (m_fail_count > 0) {
      --m_fail_count;
      res.status = m_fail_status;
      return;
    }
    if (m_required_token && m_last_authorization != m_required_token) {
      res.status = 401;
      res.set_content(R"({"code":"AccessDenied","message":"bad token"})", "application/json");
      return;
    }
    if (m_raw) {
      res.status = m_raw->first;
      res.set_content(m_raw->second, "application/json");
      return;
    }
    res.set_content(credentials_json(serial), "application/json");
  });
  m_http.start();
}

FakeContainerServer::~FakeContainerServer() { release_answers(); }

void FakeContainerServer::hold_answers() {
  std::scoped_lock lock(m_mutex);
  m_holding = true;
}

void FakeContainerServer::release_answers() {
  {
    std::scoped_lock lock(m_mutex);
    m_holding = false;
  }
  m_gate.notify_all();
}

bool FakeContainerServer::wait_until_held(int count) const {
  for (int i = 0; i < 500 && m_held < count; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  return m_held >= count;
}

void FakeContainerServer::require_authorization(std::optional<std::string> token) {
  std::scoped_lock lock(m_mutex);
  m_required_token = std::move(token);
}

void FakeContainerServer::fail_next(int count, int status) {
  std::scoped_lock lock(m_mutex);
  m_fail_count = count;
  m_fail_status = status;
}

void FakeContainerServer::set_raw_answer(int status, std::string body) {
  std::scoped_lock lock(m_mutex);
  m_raw = std::make_pair(status, std::move(body));
}

std::string FakeContainerServer::last_path() const {
  std::scoped_lock lock(m_mutex);
  return m_last_path;
}

std::optional<std::string> FakeContainerServer::last_authorization() const {
  std::scoped_lock lock(m_mutex);
  return m_last_authorization;
}

std::string FakeContainerServer::credentials_json(int serial) const {
  nlohmann::json body = {{"AccessKeyId", m_access_key_id},
                         {"SecretAccessKey", m_secret},
                         {"Token", "container-session-token-" + std::to_string(serial)},
                         {"Expiration", iso8601_in(m_expires_in_s)},
                         {"RoleArn", "arn:aws:iam::123456789012:role/mailerd"}};
  return body.dump();
}

}  // namespace mailer::test
