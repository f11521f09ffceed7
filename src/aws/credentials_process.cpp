// credential_process without a shell. The child gets its own process group,
// so a timeout kills whatever the command started too (a script's `sleep`
// would otherwise keep the pipe open), and a clean signal mask: mailerd blocks
// SIGTERM/SIGINT/SIGHUP in every thread for sigwait, and a blocked mask is
// inherited across exec.
#include "mailer/aws/credentials_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "mailer/core/json.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

extern char** environ;

namespace mailer::aws {

namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::size_t k_kept_stderr_bytes = 4096;
constexpr std::size_t k_stderr_line_chars = 200;
// How often a running process's wait looks at ProcessLimits::stop.
constexpr milliseconds k_stop_poll{50};

class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const noexcept { return m_fd; }
  void reset(int fd = -1) noexcept {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
  }

 private:
  int m_fd;
};

struct Pipe {
  Fd read;
  Fd write;
};

bool open_pipe(Pipe& pipe) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
  return true;
}

// Posix spawn attributes and file actions, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_t actions;
  SpawnSetup(int out, int err) {
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal_number : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) sigaddset(&defaults, signal_number);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, out, 1);
    posix_spawn_file_actions_adddup2(&actions, err, 2);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

Error process_error(std::string_view what, const std::string& detail) {
  return make_error(ErrorCode::unauthorized, std::string(what) + ": " + detail);
}

void kill_and_reap(pid_t pid) {
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

struct Output {
  std::string out;
  std::string err;
};

// Reads both pipes until both close. Returns a problem text (the process still
// runs then) or nullopt.
std::optional<std::string> read_output(int out_fd, int err_fd, const ProcessLimits& limits,
                                       steady_clock::time_point deadline, const std::string& program, Output& output) {
  pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
  char buffer[4096];
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    if (limits.stop.stop_requested()) return std::string(k_cancelled_detail);
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady_clock::now());
    if (left.count() <= 0) {
      return program + " did not finish within " + std::to_string(limits.timeout.count()) + " ms";
    }
    int ready = ::poll(fds, 2, static_cast<int>(std::min(left, k_stop_poll).count()));
    if (ready < 0 && errno != EINTR) return "cannot read the output of " + program;
    for (int i = 0; ready > 0 && i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      ssize_t n = ::read(fds[i].fd, buffer, sizeof buffer);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        fds[i].fd = -1;
        continue;
      }
      std::string& target = i == 0 ? output.out : output.err;
      std::size_t keep = i == 0 ? static_cast<std::size_t>(n)
                                : std::min(static_cast<std::size_t>(n),
                                           k_kept_stderr_bytes - std::min(k_kept_stderr_bytes, target.size()));
      target.append(buffer, keep);
      if (output.out.size() > limits.max_output_bytes) {
        return program + " wrote more than " + std::to_string(limits.max_output_bytes) + " bytes";
      }
    }
  }
  return std::nullopt;
}

// Waits for the exit after the pipes closed; a process that closed them but
// keeps running is killed at the deadline, or at a stop request, like any other.
std::optional<int> wait_until(pid_t pid, steady_clock::time_point deadline, const std::stop_token& stop) {
  while (true) {
    int status = 0;
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return 0;
    if (steady_clock::now() >= deadline || stop.stop_requested()) return std::nullopt;
    ::usleep(5000);
  }
}

std::string first_line(const std::string& text) {
  std::string line(text::trim(text));
  line = line.substr(0, line.find('\n'));
  return text::shorten(text::trim(line), k_stderr_line_chars);
}

// Its standard error is the operator's own tool talking and may quote what
// it fetched: its first line goes to the log, never into the error, which the
// unauthenticated /ready repeats. Appends a pointer to the log to `detail`
// when there was a line to log.
void log_stderr(const std::string& program, const std::string& err, std::string& detail) {
  if (auto line = first_line(err); !line.empty()) {
    log::warn("credential_process wrote to its standard error", {{"program", program}, {"line", line}});
    detail += " (its standard error is in the log)";
  }
}

std::string exit_problem(const std::string& program, int status, const std::string& err) {
  if (WIFSIGNALED(status)) return program + " was killed by signal " + std::to_string(WTERMSIG(status));
  std::string detail = program + " exited with status " + std::to_string(WEXITSTATUS(status));
  log_stderr(program, err, detail);
  return detail;
}

// run_credential_process, keeping standard error (at most k_kept_stderr_bytes)
// for a caller that finds the output unusable.
Result<Output> run_keeping_stderr(const std::vector<std::string>& argv, const ProcessLimits& limits,
                                  std::string_view what) {
  if (argv.empty()) return process_error(what, "no command");
  if (limits.stop.stop_requested()) return process_error(what, std::string(k_cancelled_detail));
  const std::string& program = argv.front();
  Pipe out;
  Pipe err;
  if (!open_pipe(out) || !open_pipe(err)) return process_error(what, "cannot create a pipe");
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int spawned = 0;
  {
    SpawnSetup setup(out.write.get(), err.write.get());
    spawned = posix_spawnp(&pid, program.c_str(), &setup.actions, &setup.attributes, args.data(), environ);
  }
  out.write.reset();
  err.write.reset();
  if (spawned != 0) return process_error(what, "cannot run " + program + ": " + std::strerror(spawned));
  auto deadline = steady_clock::now() + limits.timeout;
  Output output;
  if (auto problem = read_output(out.read.get(), err.read.get(), limits, deadline, program, output)) {
    kill_and_reap(pid);
    return process_error(what, *problem);
  }
  auto status = wait_until(pid, deadline, limits.stop);
  if (!status) {
    kill_and_reap(pid);
    if (limits.stop.stop_requested()) return process_error(what, std::string(k_cancelled_detail));
    return process_error(what, program + " did not finish within " + std::to_string(limits.timeout.count()) + " ms");
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return process_error(what, exit_problem(program, *status, output.err));
  return output;
}

}  // namespace

Result<std::vector<std::string>> split_command_line(std::string_view command) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  for (std::size_t i = 0; i < command.size(); ++i) {
    char c = command[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word) words.push_back(std::move(word));
      word.clear();
      in_word = false;
    } else if (c == '\'') {
      auto end = command.find('\'', i + 1);
      if (end == std::string_view::npos) return make_error(ErrorCode::invalid_input, "no closing quotation");
      word.append(command.substr(i + 1, end - i - 1));
      i = end;
      in_word = true;
    } else if (c == '"') {
      std::size_t j = i + 1;
      for (; j < command.size() && command[j] != '"'; ++j) {
        // shlex: inside double quotes a backslash escapes only '"' and '\'.
        if (command[j] == '\\' && j + 1 < command.size() && (command[j + 1] == '"' || command[j + 1] == '\\')) ++j;
        word += command[j];
      }
      if (j >= command.size()) return make_error(ErrorCode::invalid_input, "no closing quotation");
      i = j;
      in_word = true;
    } else if (c == '\\') {
      if (i + 1 >= command.size()) return make_error(ErrorCode::invalid_input, "ends with a backslash");
      word += command[++i];
      in_word = true;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(std::move(word));
  if (words.empty()) return make_error(ErrorCode::invalid_input, "is empty");
  return words;
}

Result<std::string> run_credential_process(const std::vector<std::string>& argv, const ProcessLimits& limits,
                                           std::string_view what) {
  auto output = run_keeping_stderr(argv, limits, what);
  if (!output) return std::move(output).error();
  return std::move(output->out);
}

Result<Credentials> parse_process_credentials(std::string_view output, std::string_view what, std::string source) {
  auto fail = [&](const std::string& detail) { return process_error(what, "output " + detail); };
  auto json = parse_json(output, "", {.max_bytes = 64 * 1024});
  if (!json) return fail(std::string(text::trim(json.error().detail)));
  auto version = number_member(*json, "Version");
  if (!version) return fail(version.error().detail);
  if (*version != 1) return fail("Version: must be 1");
  Credentials out;
  out.source = std::move(source);
  for (const auto& [name, target] :
       {std::pair{"AccessKeyId", &out.access_key_id}, std::pair{"SecretAccessKey", &out.secret_access_key}}) {
    auto value = string_member(*json, name);
    if (!value) return fail(value.error().detail);
    if (value->empty()) return fail(std::string(name) + ": empty");
    *target = std::move(*value);
  }
  if (json->contains("SessionToken")) {
    auto token = string_member(*json, "SessionToken");
    if (!token) return fail(token.error().detail);
    out.session_token = std::move(*token);
  }
  if (json->contains("Expiration")) {
    auto expiration = string_member(*json, "Expiration");
    Clock::time_point at;
    if (!expiration) return fail(expiration.error().detail);
    if (!parse_iso8601_utc(*expiration, at)) return fail("Expiration: not an ISO 8601 UTC time");
    out.expiration = at;
  }
  return out;
}

Result<Credentials> credentials_from_process(const std::string& command, const std::string& profile,
                                             const ProcessLimits& limits) {
  const std::string what = "credential_process of profile [" + profile + "]";
  auto argv = split_command_line(command);
  if (!argv) return make_error(ErrorCode::invalid_input, what + ": command: " + argv.error().detail);
  auto output = run_keeping_stderr(*argv, limits, what);
  if (!output) return std::move(output).error();
  auto credentials = parse_process_credentials(output->out, what, "process:" + profile);
  crypto::wipe(output->out);
  // A process that exits 0 with unusable output often says why on its
  // standard error: log it as for a non-zero exit.
  if (!credentials) {
    Error error = std::move(credentials).error();
    log_stderr(argv->front(), output->err, error.detail);
    return error;
  }
  return credentials;
}

}  // namespace mailer::aws
