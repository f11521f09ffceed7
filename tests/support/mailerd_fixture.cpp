#include "support/mailerd_fixture.hpp"

// The listener base classes are only declared with external interfaces on.
#define CATCH_CONFIG_EXTERNAL_INTERFACES
#include <catch2/catch.hpp>

#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

namespace mailer::test {

namespace {

// Live fixtures, so the listener below can show their logs when a check fails.
std::mutex g_live_mutex;
std::set<const MailerdFixture*> g_live;

class PrintMailerdLogOnFailure : public Catch::TestEventListenerBase {
 public:
  using TestEventListenerBase::TestEventListenerBase;
  bool assertionEnded(const Catch::AssertionStats& stats) override {
    if (stats.assertionResult.isOk()) return true;
    std::scoped_lock lock(g_live_mutex);
    for (const auto* fixture : g_live) {
      Catch::cerr() << "---- mailerd log (port " << fixture->port() << ") ----\n"
                    << fixture->log() << "---- end of mailerd log ----\n";
    }
    return true;
  }
};

}  // namespace

CATCH_REGISTER_LISTENER(PrintMailerdLogOnFailure)

std::map<std::string, std::string> mailerd_env(const TempDir& dir) {
  return {{"MAILER_SERVER_PORT", "0"},
          {"MAILER_SERVER_LISTEN", "127.0.0.1"},
          {"MAILER_DB_PATH", (dir / "mailer.db").string()},
          {"MAILER_LOG_FORMAT", "json"},
          {"MAILER_LOG_LEVEL", "info"},
          // Never reach AWS from a test: SES goes to a closed loopback port unless
          // a test points it at mailer-fake-ses, and the IMDS lookup is off.
          {"MAILER_SES_ENDPOINT", "http://127.0.0.1:9"},
          {"MAILER_SES_ACCESS_KEY_ID", "AKIDTESTMAILERD"},
          {"MAILER_SES_SECRET_ACCESS_KEY", "test-secret-not-real"},
          {"AWS_EC2_METADATA_DISABLED", "true"}};
}

MailerdFixture::MailerdFixture(MailerdOptions options) : m_env(mailerd_env(m_dir)) {
  for (auto& [name, value] : options.env) m_env[name] = value;
  std::vector<std::string> argv{MAILERD_BIN};
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  m_process = std::make_unique<ChildProcess>(argv, m_dir / "mailerd.log", m_env);
  auto port = m_process->wait_for_port();
  if (!port) throw std::runtime_error("mailerd reported no port; its log:\n" + m_process->log());
  m_port = *port;
  std::scoped_lock lock(g_live_mutex);
  g_live.insert(this);
}

MailerdFixture::~MailerdFixture() {
  std::scoped_lock lock(g_live_mutex);
  g_live.erase(this);
}

std::unique_ptr<httplib::Client> MailerdFixture::client() const {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", m_port);
  client->set_connection_timeout(std::chrono::seconds(10));
  client->set_read_timeout(std::chrono::seconds(10));
  client->set_write_timeout(std::chrono::seconds(10));
  return client;
}

CommandResult MailerdFixture::mailerctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{MAILERCTL_BIN, "--db", db_path().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  return run_command(argv, {{"MAILER_LOG_FORMAT", "json"}});
}

KeyInfo MailerdFixture::create_key(const std::string& name, const std::string& scope) const {
  auto result = mailerctl({"keys", "create", "--name", name, "--scope", scope, "--json"});
  if (result.exit_code != 0) {
    throw std::runtime_error("mailerctl keys create failed (" + std::to_string(result.exit_code) +
                             "): " + result.output + result.errors);
  }
  auto json = nlohmann::json::parse(result.output);
  return KeyInfo{json.at("id"), json.at("name"), json.at("scope"), json.at("prefix"), json.at("key")};
}

httplib::Headers bearer(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

std::vector<std::string> json_log_lines(const std::string& log, const std::string& msg) {
  std::vector<std::string> lines;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_object() && json.value("msg", "") == msg) lines.push_back(line);
  }
  return lines;
}

}  // namespace mailer::test
