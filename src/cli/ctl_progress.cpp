#include "cli/ctl_progress.hpp"

#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "mailer/service/api_json.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/store/metrics_queries.hpp"

namespace mailer::cli {

namespace {

using std::chrono::steady_clock;

constexpr auto k_poll = std::chrono::milliseconds(250);
constexpr auto k_stall_note_after = std::chrono::seconds(30);
constexpr int k_bar_width = 24;

// Events ever recorded in the database, O(event types); 0 when unreadable
// (the stall note is a hint, never a reason to fail).
std::int64_t events_recorded(store::Database& db) {
  auto totals = store::event_totals(db);
  std::int64_t sum = 0;
  if (totals) {
    for (const auto& [type, n] : *totals) sum += n;
  }
  return sum;
}

bool finished(store::BatchStatus status) {
  return status == store::BatchStatus::completed || status == store::BatchStatus::cancelled;
}

std::string percent(const BatchProgress& p) {
  return p.total == 0 ? std::string("100%") : fmt::format("{}%", p.done() * 100 / p.total);
}

std::string rate_and_eta(const BatchProgress& p, std::optional<double> rate, const char* separator) {
  if (!rate) return "-/s";
  std::string text = fmt::format("{:.1f}/s", *rate);
  std::int64_t remaining = p.total - p.done();
  if (remaining > 0 && *rate > 0)
    text += separator + std::string("ETA ") +
            format_duration(std::chrono::seconds(static_cast<std::int64_t>(static_cast<double>(remaining) / *rate)));
  return text;
}

}  // namespace

BatchProgress progress_of(const store::Batch& b) {
  BatchProgress p;
  p.id = b.id;
  p.status = store::to_string(b.status);
  if (b.status == store::BatchStatus::paused && b.pause_reason && !b.pause_reason->empty())
    p.status += " (" + printable(*b.pause_reason, 40) + ")";
  for (const auto& [state, count] : b.state_counts) p.total += count;
  p.sent = store::count_of(b.state_counts, store::MessageState::sent);
  p.failed = store::count_of(b.state_counts, store::MessageState::failed);
  p.suppressed = store::count_of(b.state_counts, store::MessageState::suppressed);
  p.cancelled = store::count_of(b.state_counts, store::MessageState::cancelled);
  return p;
}

void RateMeter::add(steady_clock::time_point at, std::int64_t done) {
  m_samples.emplace_back(at, done);
  while (m_samples.size() > 2 && at - m_samples[1].first >= m_window) m_samples.pop_front();
}

std::optional<double> RateMeter::per_second() const {
  if (m_samples.size() < 2) return std::nullopt;
  auto elapsed = std::chrono::duration<double>(m_samples.back().first - m_samples.front().first).count();
  if (elapsed < 1.0) return std::nullopt;
  return static_cast<double>(m_samples.back().second - m_samples.front().second) / elapsed;
}

std::string format_duration(std::chrono::seconds duration) {
  auto s = duration.count();
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, s % 3600 / 60);
  if (s >= 60) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}s", s);
}

std::string bar_line(const BatchProgress& p, std::optional<double> rate) {
  int filled = p.total == 0 ? k_bar_width : static_cast<int>(p.done() * k_bar_width / p.total);
  std::string bar = std::string(static_cast<std::size_t>(filled), '#') +
                    std::string(static_cast<std::size_t>(k_bar_width - filled), '.');
  return fmt::format("[{}] {:>4}  {}/{}  sent {} failed {} suppressed {}{}  {}  {}", bar, percent(p), p.done(), p.total,
                     p.sent, p.failed, p.suppressed,
                     p.cancelled > 0 ? fmt::format(" cancelled {}", p.cancelled) : std::string(),
                     rate_and_eta(p, rate, "  "), p.status);
}

std::string plain_line(const BatchProgress& p, std::optional<double> rate) {
  return fmt::format("{} {}: {}/{} done ({}): sent {}, failed {}, suppressed {}, cancelled {}; {}", p.id, p.status,
                     p.done(), p.total, percent(p), p.sent, p.failed, p.suppressed, p.cancelled,
                     rate_and_eta(p, rate, ", "));
}

Result<store::Batch> follow_batch(store::Database& db, const std::string& id, const FollowOptions& options,
                                  std::ostream& out) {
  SystemClock clock;
  service::BatchService batches(db, clock);
  RateMeter meter;
  std::optional<steady_clock::time_point> last_line;  // none printed yet
  auto last_change = steady_clock::now();
  std::int64_t last_activity = -1;
  bool noted_stall = false;
  while (true) {
    auto batch = batches.get(id);
    if (!batch) return batch;
    auto now = steady_clock::now();
    auto progress = progress_of(*batch);
    meter.add(now, progress.done());
    // Any event anywhere means mailerd is at work, e.g. on batches queued
    // ahead of this one: only a database standing still earns the note.
    auto activity = progress.done() + events_recorded(db);
    if (activity != last_activity) {
      last_activity = activity;
      last_change = now;
    }
    bool done = finished(batch->status);
    if (options.display == Display::terminal) {
      out << "\r" << bar_line(progress, meter.per_second()) << "\x1b[K" << (done ? "\n" : "") << std::flush;
    } else if (done || !last_line || now - *last_line >= options.interval) {
      out << plain_line(progress, meter.per_second()) << "\n" << std::flush;
      last_line = now;
    }
    if (done) return batch;
    // A scheduled batch stands still by design: say until when, not "is mailerd running?".
    if (!noted_stall && batch->status == store::BatchStatus::scheduled) {
      noted_stall = true;
      if (options.display == Display::terminal) out << "\n";
      std::cerr << "mailerctl: the batch is scheduled for " << format_time(batch->send_at_ms)
                << "; watching until it completes (Ctrl-C stops watching, the batch goes on)\n";
    }
    if (!noted_stall && now - last_change >= k_stall_note_after && batch->status != store::BatchStatus::paused) {
      noted_stall = true;
      if (options.display == Display::terminal) out << "\n";
      std::cerr << "mailerctl: no progress for " << format_duration(k_stall_note_after)
                << "; is mailerd running on this database? (mailerctl only reads it; Ctrl-C stops watching, the "
                   "batch goes on)\n";
    }
    std::this_thread::sleep_for(k_poll);
  }
}

void follow_to_end(CtlContext& ctx, store::Database& db, const std::string& id, const WatchOptions& watch) {
  bool to_stdout = !ctx.json;  // --json keeps stdout for its one document
  FollowOptions options{
      .display = (to_stdout ? stdout_is_terminal() : stderr_is_terminal()) ? Display::terminal : Display::plain,
      .interval = std::chrono::seconds(watch.interval_seconds)};
  auto batch = follow_batch(db, id, options, to_stdout ? std::cout : std::cerr);
  if (!batch) return ctx.fail(batch.error());
  if (watch.print_batch_json && ctx.json) print_json(service::to_json(*batch));
  if (batch->status == store::BatchStatus::cancelled)
    ctx.fail(make_error(ErrorCode::conflict, fmt::format("batch {} was cancelled before it completed", batch->id)));
}

void add_watch_options(CLI::App& command, WatchOptions& watch) {
  command.add_option("--interval", watch.interval_seconds, "Seconds between progress lines when not on a terminal")
      ->check(CLI::Range(1, 3600));
}

}  // namespace mailer::cli
