#pragma once
// Runs one of the project's binaries as a child process for integration tests:
// stdout and stderr go to a log file, the port a server bound (port 0) is read
// from its "listening" log line, and the destructor always stops the child
// (SIGTERM, then SIGKILL after 5 s) so no test leaves a server behind.

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mailer::test {

class ChildProcess {
 public:
  /// Starts `argv[0]` with `argv` and the current environment plus `env`
  /// (overriding same names). Output goes to `log_path`. Throws on spawn failure.
  ChildProcess(std::vector<std::string> argv, std::filesystem::path log_path,
               std::map<std::string, std::string> env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  int pid() const { return m_pid; }
  /// Waits until the log has a line with `"port":N` or `port=N` (the server's
  /// "listening" line) and returns N; nullopt if the child exits or time runs out.
  std::optional<int> wait_for_port(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// Waits until the log contains `needle`; false on timeout.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// Sends `signal` and waits for exit; returns the exit code (128+N when killed by N),
  /// or nullopt on timeout.
  std::optional<int> stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(20));
  /// Waits for the child to exit by itself; exit code as in stop().
  std::optional<int> wait(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  bool running();
  std::string log() const;

 private:
  int m_pid = -1;
  std::optional<int> m_exit_code;
  std::filesystem::path m_log_path;
};

/// Runs a command to completion, returning its exit code and combined output.
struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout
  std::string errors;  // stderr
};
CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
                          const std::string& stdin_text = "");

}  // namespace mailer::test
