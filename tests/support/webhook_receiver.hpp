#pragma once
// A running webhook receiver (tests/webhooks/receiver.js) for integration
// tests: it verifies every delivery with the standardwebhooks npm package,
// an implementation independent of mailerd's, and counts the events that
// arrived. Its pinned dependencies are installed once into the build tree
// (tests/webhooks/install.sh). Stopped on destruction.

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace mailer::test {

class WebhookReceiver {
 public:
  /// Installs (first use) and starts the receiver. Throws std::runtime_error
  /// with the reason when node, npm or the install fails.
  WebhookReceiver();
  int port() const { return m_port; }
  /// "http://127.0.0.1:<port>/hook".
  std::string url() const;
  /// POST /_control with `change` (see receiver.js): "secret", "fail",
  /// "status", "retry_after", "hang".
  void control(const nlohmann::json& change) const;
  /// GET /_stats.
  nlohmann::json stats() const;
  /// The ids of the events received, each once.
  std::vector<std::string> event_ids() const;
  std::string log() const { return m_process->log(); }

 private:
  TempDir m_dir;
  std::unique_ptr<ChildProcess> m_process;
  int m_port = 0;
};

}  // namespace mailer::test
