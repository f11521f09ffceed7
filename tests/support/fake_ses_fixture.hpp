#pragma once
// A running mailer-fake-ses (docs/FAKE_SES.md) for end-to-end tests: port 0,
// a temporary out dir, the credentials mailerd_env() gives mailerd, and
// helpers to read /_fake/stats, patch /_fake/faults and list the stored
// messages. The child is stopped on destruction (ChildProcess).

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace mailer::test {

/// GET /_fake/stats.
struct FakeSesStats {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
  std::uint64_t throttled = 0;
  std::uint64_t errors = 0;
  std::uint64_t total_requests = 0;
  std::uint64_t max_accepted_in_any_second = 0;    // recipients, sliding window
  std::vector<std::uint64_t> accepted_per_second;  // recipients in each second from the first accept
};

/// One accepted SendEmail, read back from `<out>/<MessageId>.json`.
struct StoredMessage {
  std::string ses_message_id;
  std::int64_t received_ms = 0;  // from the MessageId (ms since the epoch)
  std::vector<std::string> to;   // Destination.ToAddresses as sent
  std::string subject;
  std::map<std::string, std::string> headers;  // Content.Simple.Headers, Name -> Value
  nlohmann::json request;                      // the exact SendEmail body
};

struct FakeSesOptions {
  bool store = true;              // false: --no-store
  std::vector<std::string> args;  // more flags, e.g. {"--latency-ms", "20"}
};

class FakeSesFixture {
 public:
  /// Starts mailer-fake-ses and waits for its port; throws std::runtime_error
  /// (with the log) when it exits or reports no port within 20 s.
  explicit FakeSesFixture(FakeSesOptions options = {});

  int port() const { return m_port; }
  /// "http://127.0.0.1:<port>", for MAILER_SES_ENDPOINT.
  std::string endpoint() const;
  /// What to add to mailerd's environment to send here: endpoint and the
  /// credentials the fake checks signatures with.
  std::map<std::string, std::string> mailerd_env() const;

  /// GET /_fake/stats; throws std::runtime_error when the fake does not answer.
  FakeSesStats stats() const;
  /// POST /_fake/faults with `patch` (e.g. {"error_rate": 0.3}); throws
  /// std::runtime_error unless the fake answers 200.
  void set_faults(const nlohmann::json& patch) const;
  /// POST /_fake/sns with `patch` (e.g. {"endpoint": "http://127.0.0.1:N/webhooks/ses"});
  /// throws std::runtime_error unless the fake answers 200.
  void set_sns(const nlohmann::json& patch) const;
  /// The "sns" object of GET /_fake/stats (published, publish_failed, dropped,
  /// retried, pending, subscription).
  nlohmann::json sns_stats() const;
  /// Every stored message, oldest first (by MessageId time, then name). Files
  /// being written at the moment of the call are skipped, not half-read.
  std::vector<StoredMessage> stored_messages() const;

  const std::filesystem::path& out_dir() const { return m_out_dir; }
  ChildProcess& process() { return *m_process; }
  std::string log() const { return m_process->log(); }

 private:
  TempDir m_dir;
  std::filesystem::path m_out_dir;
  std::unique_ptr<ChildProcess> m_process;
  int m_port = 0;
};

/// To address -> how many stored messages went to it (each message's To list).
std::map<std::string, int> count_by_recipient(const std::vector<StoredMessage>& messages);

}  // namespace mailer::test
