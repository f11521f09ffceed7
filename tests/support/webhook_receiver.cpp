#include "support/webhook_receiver.hpp"

#include <httplib.h>

#include <mutex>
#include <stdexcept>

namespace mailer::test {
namespace {

// npm ci runs once per test process (install.sh itself serialises processes).
// Absolute paths: ChildProcess and run_command do not search PATH (env does).
void install_once() {
  static std::once_flag once;
  static std::string failure;
  std::call_once(once, [] {
    auto result = run_command(
        {"/bin/sh", std::string(MAILER_SOURCE_DIR) + "/tests/webhooks/install.sh", MAILER_WEBHOOK_RECEIVER_DIR});
    if (result.exit_code != 0) failure = "installing the webhook receiver failed:\n" + result.output + result.errors;
  });
  if (!failure.empty()) throw std::runtime_error(failure);
}

httplib::Client client_for(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client;
}

}  // namespace

WebhookReceiver::WebhookReceiver() {
  install_once();
  m_process = std::make_unique<ChildProcess>(
      std::vector<std::string>{"/usr/bin/env", "node", std::string(MAILER_WEBHOOK_RECEIVER_DIR) + "/receiver.js"},
      m_dir / "receiver.log");
  auto port = m_process->wait_for_port();
  if (!port) throw std::runtime_error("the webhook receiver reported no port; its log:\n" + m_process->log());
  m_port = *port;
}

std::string WebhookReceiver::url() const { return "http://127.0.0.1:" + std::to_string(m_port) + "/hook"; }

void WebhookReceiver::control(const nlohmann::json& change) const {
  auto client = client_for(m_port);
  auto res = client.Post("/_control", change.dump(), "application/json");
  if (!res || res->status != 200) throw std::runtime_error("webhook receiver /_control failed");
}

nlohmann::json WebhookReceiver::stats() const {
  auto client = client_for(m_port);
  auto res = client.Get("/_stats");
  if (!res || res->status != 200) throw std::runtime_error("webhook receiver /_stats failed");
  return nlohmann::json::parse(res->body);
}

std::vector<std::string> WebhookReceiver::event_ids() const {
  auto client = client_for(m_port);
  auto res = client.Get("/_events");
  if (!res || res->status != 200) throw std::runtime_error("webhook receiver /_events failed");
  return nlohmann::json::parse(res->body)["ids"].get<std::vector<std::string>>();
}

}  // namespace mailer::test
