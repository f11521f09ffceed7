#pragma once
// credential_process: a profile names a command whose standard output is a
// JSON document with credentials.
//   https://docs.aws.amazon.com/sdkref/latest/guide/feature-process-credentials.html
// The command runs without a shell: its text is split into words as
// botocore does (Python's shlex.split, POSIX mode), the first word is looked up
// in PATH, and the process gets /dev/null as input, a time limit and a bounded
// output. Error details name the profile and the program (the first word),
// never the other words (they may hold a secret) or the output.

#include <chrono>
#include <cstddef>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/error.hpp"

namespace mailer::aws {

/// `command` split into words with POSIX shell quoting, as Python's shlex.split:
/// blanks separate words; '...' keeps everything literally; "..." keeps
/// everything but a backslash before '"' or '\'; outside quotes a backslash keeps
/// the next character. No variables, globs, pipes or comments. Example:
/// `/opt/get\ creds "--profile" 'a b'` -> {"/opt/get creds", "--profile", "a b"}.
/// Errors (invalid_input): "no closing quotation", "ends with a backslash",
/// "is empty".
Result<std::vector<std::string>> split_command_line(std::string_view command);

struct ProcessLimits {
  std::chrono::milliseconds timeout{30000};  // then the process group gets SIGKILL
  std::size_t max_output_bytes = 64 * 1024;  // of standard output
  /// Checked while the process runs (about every 50 ms): a stop request kills
  /// the process group at once (mailerd's shutdown must not wait for it).
  std::stop_token stop;
};

/// Runs `argv` (argv[0] looked up in PATH) in its own process group with
/// stdin /dev/null and default signal handling, and returns its standard output
/// when it exits with status 0. Standard error is read too, and only its first
/// line (at most 200 characters) reaches an error detail. Errors
/// (unauthorized; "<what>" leads each detail): "cannot run <argv[0]>: <reason>",
/// "<argv[0]> did not finish within N ms" (killed), "cancelled: mailerd is
/// stopping" (limits.stop was requested; killed), "<argv[0]> wrote more than N
/// bytes" (killed), "<argv[0]> exited with status N[: <stderr line>]",
/// "<argv[0]> was killed by signal N". Never throws but std::bad_alloc.
Result<std::string> run_credential_process(const std::vector<std::string>& argv, const ProcessLimits& limits,
                                           std::string_view what);

/// The process's JSON (parse_json, at most 64 KB): Version the number 1,
/// AccessKeyId and SecretAccessKey non-empty strings, SessionToken an optional
/// string, Expiration an optional ISO 8601 UTC time (absent: never expires).
/// Errors (unauthorized): "<what>: output <field>: missing|must be a string|
/// empty|must be 1|not an ISO 8601 UTC time" or "... is not valid JSON (at byte N)".
Result<Credentials> parse_process_credentials(std::string_view output, std::string_view what, std::string source);

/// split_command_line (its errors as "<what>: command: <reason>") +
/// run_credential_process + parse_process_credentials, for
/// profile `profile`; source "process:<profile>", what "credential_process of
/// profile [<profile>]". When the process exits 0 but its output cannot be used,
/// the first line of its standard error is logged as for a non-zero exit, and
/// the detail ends with " (its standard error is in the log)"; the detail never
/// holds the standard error itself.
Result<Credentials> credentials_from_process(const std::string& command, const std::string& profile,
                                             const ProcessLimits& limits = {});

}  // namespace mailer::aws
