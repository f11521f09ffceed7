#pragma once
// Following a batch to completion (`mailerctl send` unless --detach, and
// `mailerctl batches watch`): the batch is read from the database every
// quarter second and its progress shown. On a terminal that is one line
// redrawn in place (bar, counts, rate, ETA); elsewhere (a pipe, a log file,
// CI) a plain line every --interval seconds, so logs stay readable.

#include <chrono>
#include <cstdint>
#include <deque>
#include <iosfwd>
#include <optional>
#include <string>

#include "cli/ctl_common.hpp"
#include "mailer/store/batches.hpp"

namespace CLI {
class App;
}

namespace mailer::cli {

/// A batch's messages by outcome; done = sent + failed + suppressed + cancelled.
struct BatchProgress {
  std::string id;
  std::string status;  // the batch status ("sending", "paused (reason)", ...)
  std::int64_t total = 0;
  std::int64_t sent = 0;
  std::int64_t failed = 0;
  std::int64_t suppressed = 0;
  std::int64_t cancelled = 0;
  std::int64_t done() const { return sent + failed + suppressed + cancelled; }
};
BatchProgress progress_of(const store::Batch& batch);

/// The send rate over the last `window` of samples, in messages per second.
class RateMeter {
 public:
  explicit RateMeter(std::chrono::milliseconds window = std::chrono::seconds(10)) : m_window(window) {}
  void add(std::chrono::steady_clock::time_point at, std::int64_t done);
  /// nullopt until two samples a second apart exist.
  std::optional<double> per_second() const;

 private:
  std::chrono::milliseconds m_window;
  std::deque<std::pair<std::chrono::steady_clock::time_point, std::int64_t>> m_samples;
};

/// "1h02m", "3m05s", "12s".
std::string format_duration(std::chrono::seconds duration);
/// The terminal line: "[#########...............]  37%  370/1000  sent 360
/// failed 5 suppressed 5  120.0/s  ETA 5s  sending".
std::string bar_line(const BatchProgress& p, std::optional<double> rate);
/// The plain line: "bat_... sending: 370/1000 done (37%): sent 360, failed 5,
/// suppressed 5, cancelled 0; 120.0/s, ETA 5s".
std::string plain_line(const BatchProgress& p, std::optional<double> rate);

enum class Display { terminal, plain };

struct FollowOptions {
  Display display = Display::plain;
  std::chrono::seconds interval{5};  // between plain lines
};

/// Reads batch `id` until it is completed or cancelled, writing progress to
/// `out`. Returns the batch as last read. Errors: not_found, storage_unavailable.
/// A batch that shows no progress for 30 s while messages wait gets one note
/// on stderr asking whether mailerd runs (mailerctl only reads the queue).
Result<store::Batch> follow_batch(store::Database& db, const std::string& id, const FollowOptions& options,
                                  std::ostream& out);

struct WatchOptions {
  int interval_seconds = 5;       // --interval
  bool print_batch_json = false;  // under --json, print the batch (the API's object) once it ends
};
/// --interval on `command`.
void add_watch_options(CLI::App& command, WatchOptions& watch);

/// follow_batch for a command: progress on stdout (on stderr under --json,
/// whose stdout holds one document), redrawn when that stream is a terminal.
/// Exit code in ctx: 0 once completed; 1 when cancelled (the batch ended with
/// messages never sent) or when the batch cannot be read.
void follow_to_end(CtlContext& ctx, store::Database& db, const std::string& id, const WatchOptions& watch);

}  // namespace mailer::cli
