// Structured logging. The level and format live in atomics so the hot check
// (`enabled`) takes no lock; only the write of a finished line is serialised, so
// lines from worker threads never interleave (mold's SyncStream).

#include "mailer/core/log.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <ostream>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"

namespace mailer::log {
namespace {

enum class Format { automatic, json, pretty };

std::atomic<int> g_level{static_cast<int>(Level::info)};
// Resolved from the format and the output whenever either changes, so a line
// costs no isatty(2) call.
std::atomic<bool> g_json{::isatty(STDERR_FILENO) != 1};
std::mutex g_settings_mutex;          // serialises configure/set_output against each other
Format g_format = Format::automatic;  // guarded by g_settings_mutex
bool g_output_is_terminal = false;    // guarded by g_settings_mutex; for g_output only
std::mutex g_write_mutex;
std::ostream* g_output = nullptr;  // guarded by g_write_mutex; nullptr = stderr

Format parse_format(std::string_view text) {
  if (text == "json") return Format::json;
  if (text == "pretty") return Format::pretty;
  return Format::automatic;
}

// RFC 3339 in UTC with milliseconds: 2026-11-30T16:00:00.123Z.
std::string now_rfc3339() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday,
                     utc.tm_hour, utc.tm_min, utc.tm_sec, ms);
}

bool reserved_field(const std::string& name) { return name == "time" || name == "level" || name == "msg"; }

std::string json_line(std::string_view time, Level level, std::string_view msg, const std::vector<Field>& fields) {
  nlohmann::ordered_json line;
  line["time"] = time;
  line["level"] = to_string(level);
  line["msg"] = msg;
  for (const auto& [name, value] : fields) {
    // NOTE: a field may not overwrite the envelope; it keeps its value under a prefix.
    line[reserved_field(name) ? "field_" + name : name] = value;
  }
  // Replace invalid UTF-8 rather than throw: a log call must never fail.
  return dump_json(line) + "\n";
}

// Strings print bare unless quoting is needed to read the line back unambiguously.
std::string pretty_value(const nlohmann::json& value) {
  if (!value.is_string()) return dump_json(value);
  const auto& text = value.get_ref<const std::string&>();
  const bool needs_quotes = text.empty() || text.find_first_of(" \t\n\r\"=") != std::string::npos;
  return needs_quotes ? dump_json(value) : text;
}

std::string pretty_line(std::string_view time, Level level, std::string_view msg, const std::vector<Field>& fields) {
  std::string level_name(to_string(level));
  for (auto& c : level_name) c = static_cast<char>(c - 'a' + 'A');
  std::string line = fmt::format("{} {:<5} {}", time, level_name, msg);
  for (const auto& [name, value] : fields) line += fmt::format(" {}={}", name, pretty_value(value));
  return line + "\n";
}

void write_whole_line(const std::string& line) {
  std::scoped_lock lock(g_write_mutex);
  if (g_output != nullptr) {
    *g_output << line << std::flush;
    return;
  }
  // stderr is unbuffered: one fwrite is one write(2) for lines under PIPE_BUF.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

// Called with g_settings_mutex held.
void resolve_format(bool output_is_terminal) {
  switch (g_format) {
    case Format::json: g_json.store(true); return;
    case Format::pretty: g_json.store(false); return;
    case Format::automatic: g_json.store(!output_is_terminal); return;
  }
}

bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

}  // namespace

void configure(Level level, std::string_view format) {
  std::scoped_lock settings(g_settings_mutex);
  g_level.store(static_cast<int>(level));
  g_format = parse_format(format);
  bool custom_output = false;
  {
    std::scoped_lock lock(g_write_mutex);
    custom_output = g_output != nullptr;
  }
  resolve_format(custom_output ? g_output_is_terminal : stderr_is_terminal());
}

bool parse_level(std::string_view text, Level& out) {
  for (Level level : {Level::debug, Level::info, Level::warn, Level::error}) {
    if (text == to_string(level)) {
      out = level;
      return true;
    }
  }
  return false;
}

std::string_view to_string(Level level) {
  switch (level) {
    case Level::debug: return "debug";
    case Level::info: return "info";
    case Level::warn: return "warn";
    case Level::error: return "error";
  }
  return "info";
}

bool enabled(Level level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void set_output(std::ostream* out, bool is_terminal) {
  std::scoped_lock settings(g_settings_mutex);
  {
    std::scoped_lock lock(g_write_mutex);
    g_output = out;
  }
  g_output_is_terminal = is_terminal;
  resolve_format(out != nullptr ? is_terminal : stderr_is_terminal());
}

void write(Level level, std::string_view msg, const std::vector<Field>& fields) {
  if (!enabled(level)) return;
  const std::string time = now_rfc3339();
  write_whole_line(g_json.load() ? json_line(time, level, msg, fields) : pretty_line(time, level, msg, fields));
}

std::string redact_url(std::string_view url) {
  const auto cut = url.find_first_of("?#");
  if (cut != std::string_view::npos) url = url.substr(0, cut);
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return std::string(url);
  const auto authority_start = scheme_end + 3;
  const auto authority_end = std::min(url.find('/', authority_start), url.size());
  const auto at = url.rfind('@', authority_end - 1);
  if (at == std::string_view::npos || at < authority_start) return std::string(url);
  return std::string(url.substr(0, authority_start)) + std::string(url.substr(at + 1));
}

bool Throttle::admit(std::uint64_t& held_back, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(m_mutex);
  if (m_last && now - *m_last < m_interval) {
    ++m_held_back;
    return false;
  }
  m_last = now;
  held_back = std::exchange(m_held_back, 0);
  return true;
}

void warn_throttled(Throttle& throttle, std::string_view m, std::vector<Field> f) {
  if (!enabled(Level::warn)) return;
  std::uint64_t held_back = 0;
  if (!throttle.admit(held_back)) return;
  if (held_back > 0) f.push_back({"suppressed_since_last", held_back});
  write(Level::warn, m, f);
}

}  // namespace mailer::log
