#pragma once
// A running mailerd for integration tests: a fresh temporary directory and
// database, port 0 (the bound port is read from the "listening" log line),
// JSON logs, and helpers to create keys with the real mailerctl. The child is
// always stopped on destruction; when an assertion fails while a fixture is
// alive, its log is printed (a Catch2 listener in mailerd_fixture.cpp).

#include <httplib.h>

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace mailer::test {

/// What `mailerctl keys create --json` printed.
struct KeyInfo {
  std::string id;
  std::string name;
  std::string scope;
  std::string prefix;
  std::string key;  // the secret
};

struct MailerdOptions {
  std::map<std::string, std::string> env;  // added to (and overriding) the defaults
  std::vector<std::string> args;           // after the binary, e.g. {"--config", path}
};

class MailerdFixture {
 public:
  /// Starts mailerd and waits for its port. Throws std::runtime_error (with the
  /// log) when it exits or reports no port within 20 s.
  explicit MailerdFixture(MailerdOptions options = {});
  ~MailerdFixture();
  MailerdFixture(const MailerdFixture&) = delete;
  MailerdFixture& operator=(const MailerdFixture&) = delete;

  int port() const { return m_port; }
  /// A client for 127.0.0.1:port with 10 s timeouts.
  std::unique_ptr<httplib::Client> client() const;
  /// Runs `mailerctl --db <db> keys create --name N --scope S --json`; throws on failure.
  KeyInfo create_key(const std::string& name, const std::string& scope) const;
  /// Runs mailerctl with `--db <db>` prepended to `args`.
  CommandResult mailerctl(const std::vector<std::string>& args) const;

  const TempDir& dir() const { return m_dir; }
  std::filesystem::path db_path() const { return m_dir / "mailer.db"; }
  /// The environment mailerd was started with (to start a second one alike).
  const std::map<std::string, std::string>& env() const { return m_env; }
  ChildProcess& process() { return *m_process; }
  std::string log() const { return m_process->log(); }

 private:
  TempDir m_dir;
  std::map<std::string, std::string> m_env;
  std::unique_ptr<ChildProcess> m_process;
  int m_port = 0;
};

/// The default environment for a mailerd on `dir`: port 0, db in `dir`, JSON logs.
std::map<std::string, std::string> mailerd_env(const TempDir& dir);

/// {"Authorization": "Bearer <key>"}.
httplib::Headers bearer(const std::string& key);

/// Log lines of `log` that parse as JSON objects with "msg" == `msg`.
std::vector<std::string> json_log_lines(const std::string& log, const std::string& msg);

}  // namespace mailer::test
