#include "support/fake_ses_fixture.hpp"

#include <httplib.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <tuple>

namespace mailer::test {

namespace {

// The credentials mailerd_env() gives mailerd; the fake must check with the same.
constexpr const char* k_access_key_id = "AKIDTESTMAILERD";
constexpr const char* k_secret_access_key = "test-secret-not-real";

httplib::Client make_client(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(std::chrono::seconds(5));
  client.set_read_timeout(std::chrono::seconds(10));
  return client;
}

// The fake's MessageIds start "0100" + 12 hex digits of ms since the epoch.
std::int64_t received_ms_of(const std::string& id) {
  if (id.size() < 16) return 0;
  return static_cast<std::int64_t>(std::stoull(id.substr(4, 12), nullptr, 16));
}

std::optional<StoredMessage> read_stored(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  auto record = nlohmann::json::parse(text.str(), nullptr, false);
  if (!record.is_object() || !record.contains("Request")) return std::nullopt;  // being written
  StoredMessage m;
  m.ses_message_id = record.value("MessageId", "");
  m.received_ms = received_ms_of(m.ses_message_id);
  m.request = record["Request"];
  const auto& simple = m.request["Content"]["Simple"];
  m.subject = simple["Subject"].value("Data", "");
  for (const auto& to : m.request["Destination"].value("ToAddresses", nlohmann::json::array())) {
    m.to.push_back(to.get<std::string>());
  }
  if (simple.contains("Headers")) {
    for (const auto& h : simple["Headers"]) m.headers[h.value("Name", "")] = h.value("Value", "");
  }
  return m;
}

}  // namespace

FakeSesFixture::FakeSesFixture(FakeSesOptions options) : m_out_dir(m_dir / "out") {
  std::filesystem::create_directories(m_out_dir);
  std::vector<std::string> argv{FAKE_SES_BIN,
                                "--port",
                                "0",
                                "--out-dir",
                                m_out_dir.string(),
                                "--access-key-id",
                                k_access_key_id,
                                "--secret-access-key",
                                k_secret_access_key};
  // NOTE: the fake serves each keep-alive connection on one thread while it
  // stays busy; mailerd holds worker.concurrency + 1 of them, so fewer threads
  // would starve its GetAccount and this fixture's own /_fake calls.
  argv.insert(argv.end(), {"--threads", "80"});
  if (!options.store) argv.emplace_back("--no-store");
  argv.insert(argv.end(), options.args.begin(), options.args.end());
  m_process = std::make_unique<ChildProcess>(argv, m_dir / "fake-ses.log");
  auto port = m_process->wait_for_port();
  if (!port) throw std::runtime_error("mailer-fake-ses reported no port; its log:\n" + m_process->log());
  m_port = *port;
}

std::string FakeSesFixture::endpoint() const { return "http://127.0.0.1:" + std::to_string(m_port); }

std::map<std::string, std::string> FakeSesFixture::mailerd_env() const {
  return {{"MAILER_SES_ENDPOINT", endpoint()},
          {"MAILER_SES_ACCESS_KEY_ID", k_access_key_id},
          {"MAILER_SES_SECRET_ACCESS_KEY", k_secret_access_key}};
}

FakeSesStats FakeSesFixture::stats() const {
  auto client = make_client(m_port);
  auto res = client.Get("/_fake/stats");
  if (!res || res->status != 200) throw std::runtime_error("GET /_fake/stats failed");
  auto json = nlohmann::json::parse(res->body);
  return FakeSesStats{json.value("accepted", std::uint64_t{0}),
                      json.value("rejected", std::uint64_t{0}),
                      json.value("throttled", std::uint64_t{0}),
                      json.value("errors", std::uint64_t{0}),
                      json.value("total_requests", std::uint64_t{0}),
                      json.value("max_accepted_in_any_second", std::uint64_t{0}),
                      json.value("accepted_per_second", std::vector<std::uint64_t>{})};
}

void FakeSesFixture::set_faults(const nlohmann::json& patch) const {
  auto client = make_client(m_port);
  auto res = client.Post("/_fake/faults", patch.dump(), "application/json");
  if (!res || res->status != 200) {
    throw std::runtime_error("POST /_fake/faults failed: " + (res ? res->body : std::string("no answer")));
  }
}

void FakeSesFixture::set_sns(const nlohmann::json& patch) const {
  auto client = make_client(m_port);
  auto res = client.Post("/_fake/sns", patch.dump(), "application/json");
  if (!res || res->status != 200) {
    throw std::runtime_error("POST /_fake/sns failed: " + (res ? res->body : std::string("no answer")));
  }
}

nlohmann::json FakeSesFixture::sns_stats() const {
  auto client = make_client(m_port);
  auto res = client.Get("/_fake/stats");
  if (!res || res->status != 200) throw std::runtime_error("GET /_fake/stats failed");
  return nlohmann::json::parse(res->body).value("sns", nlohmann::json::object());
}

std::vector<StoredMessage> FakeSesFixture::stored_messages() const {
  std::vector<StoredMessage> messages;
  for (const auto& entry : std::filesystem::directory_iterator(m_out_dir)) {
    if (entry.path().extension() != ".json") continue;
    if (auto m = read_stored(entry.path())) messages.push_back(std::move(*m));
  }
  std::sort(messages.begin(), messages.end(), [](const StoredMessage& a, const StoredMessage& b) {
    return std::tie(a.received_ms, a.ses_message_id) < std::tie(b.received_ms, b.ses_message_id);
  });
  return messages;
}

std::map<std::string, int> count_by_recipient(const std::vector<StoredMessage>& messages) {
  std::map<std::string, int> counts;
  for (const auto& m : messages) {
    for (const auto& to : m.to) ++counts[to];
  }
  return counts;
}

}  // namespace mailer::test
