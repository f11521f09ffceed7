#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace mailer::test {

namespace {

std::vector<std::string> merged_env(const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string> all;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) all[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : extra) all[k] = v;
  std::vector<std::string> out;
  for (const auto& [k, v] : all) out.push_back(k + "=" + v);
  return out;
}

std::vector<char*> c_array(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

int spawn(std::vector<std::string> argv, const std::map<std::string, std::string>& env, int stdin_fd, int stdout_fd,
          int stderr_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  auto env_strings = merged_env(env);
  auto c_argv = c_array(argv);
  auto c_env = c_array(env_strings);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, c_argv[0], &actions, nullptr, c_argv.data(), c_env.data());
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("posix_spawn " + argv[0] + ": " + std::strerror(rc));
  return pid;
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> argv, std::filesystem::path log_path,
                           std::map<std::string, std::string> env)
    : m_log_path(std::move(log_path)) {
  int fd = ::open(m_log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + m_log_path.string());
  int devnull = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  try {
    m_pid = spawn(std::move(argv), env, devnull, fd, fd);
  } catch (...) {
    ::close(fd);
    ::close(devnull);
    throw;
  }
  ::close(fd);
  ::close(devnull);
}

ChildProcess::~ChildProcess() {
  if (m_pid > 0 && !m_exit_code) {
    if (!stop(SIGTERM, std::chrono::seconds(5))) {
      ::kill(m_pid, SIGKILL);
      int status = 0;
      ::waitpid(m_pid, &status, 0);
    }
  }
}

bool ChildProcess::running() {
  if (m_exit_code) return false;
  int status = 0;
  pid_t r = ::waitpid(m_pid, &status, WNOHANG);
  if (r == m_pid) {
    m_exit_code = decode_status(status);
    return false;
  }
  return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return m_exit_code;
}

std::optional<int> ChildProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (running()) ::kill(m_pid, signal);
  return wait(timeout);
}

std::string ChildProcess::log() const { return read_file(m_log_path); }

bool ChildProcess::wait_for_log(const std::string& needle, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (log().find(needle) != std::string::npos) return true;
    if (!running()) return log().find(needle) != std::string::npos;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::optional<int> ChildProcess::wait_for_port(std::chrono::milliseconds timeout) {
  static const std::regex k_port(R"re(listening.*(?:"port":|port=)(\d+))re");
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    std::string text = log();
    std::smatch m;
    if (std::regex_search(text, m, k_port)) return std::stoi(m[1].str());
    if (!running()) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

CommandResult run_command(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env,
                          const std::string& stdin_text) {
  char out_path[] = "/tmp/mailer-cmd-out-XXXXXX";
  char err_path[] = "/tmp/mailer-cmd-err-XXXXXX";
  char in_path[] = "/tmp/mailer-cmd-in-XXXXXX";
  int out_fd = mkstemp(out_path);
  int err_fd = mkstemp(err_path);
  int in_fd = mkstemp(in_path);
  if (out_fd < 0 || err_fd < 0 || in_fd < 0) throw std::runtime_error("mkstemp failed");
  if (!stdin_text.empty() &&
      ::write(in_fd, stdin_text.data(), stdin_text.size()) != static_cast<ssize_t>(stdin_text.size()))
    throw std::runtime_error("cannot write stdin file");
  ::lseek(in_fd, 0, SEEK_SET);
  CommandResult result;
  int pid = spawn(argv, env, in_fd, out_fd, err_fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = decode_status(status);
  ::close(out_fd);
  ::close(err_fd);
  ::close(in_fd);
  result.output = read_file(out_path);
  result.errors = read_file(err_path);
  ::unlink(out_path);
  ::unlink(err_path);
  ::unlink(in_path);
  return result;
}

}  // namespace mailer::test
