#pragma once
// Structured logging: one line per call, written whole under a lock. JSON lines
// ({"time","level","msg",...fields}) when stderr is not a terminal or format is
// "json"; readable "time LEVEL msg key=value" lines on a terminal. Callers must
// never pass secrets; the level is checked before any formatting.

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// The full header: callers build Field values, and the default `{}` arguments
// below need a complete type.
#include <nlohmann/json.hpp>

namespace mailer::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

/// One structured field; the value is any JSON value.
using Field = std::pair<std::string, nlohmann::json>;

/// Sets the threshold and format ("auto" | "json" | "pretty"; anything else acts as
/// "auto"). "auto" means pretty when the output is a terminal (isatty on stderr),
/// JSON lines otherwise. Thread-safe; normally called once from main.
void configure(Level level, std::string_view format);
/// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
/// "debug" | "info" | "warn" | "error".
std::string_view to_string(Level level);
bool enabled(Level level);
/// Sends lines to `out` instead of stderr (nullptr: back to stderr). `is_terminal`
/// says how "auto" formats for that stream. For tests and tools; thread-safe.
void set_output(std::ostream* out, bool is_terminal = false);

/// `url` without userinfo, query string and fragment, for logs (ccache
/// get_redacted_url_str_for_logging): "https://u:p@h:8443/a?sig=x" -> "https://h:8443/a".
std::string redact_url(std::string_view url);

void write(Level level, std::string_view msg, const std::vector<Field>& fields);
inline void debug(std::string_view m, const std::vector<Field>& f = {}) {
  if (enabled(Level::debug)) write(Level::debug, m, f);
}
inline void info(std::string_view m, const std::vector<Field>& f = {}) {
  if (enabled(Level::info)) write(Level::info, m, f);
}
inline void warn(std::string_view m, const std::vector<Field>& f = {}) {
  if (enabled(Level::warn)) write(Level::warn, m, f);
}
inline void error(std::string_view m, const std::vector<Field>& f = {}) {
  if (enabled(Level::error)) write(Level::error, m, f);
}

/// One line per `interval` for a warning that outside traffic can repeat at
/// will (a refused SNS post, a connection cut at a deadline): a flood must
/// neither fill the disk nor drown the other lines, while metrics still count
/// every occurrence. One throttle per call site (a function-local static);
/// thread-safe.
class Throttle {
 public:
  explicit Throttle(std::chrono::milliseconds interval = std::chrono::seconds(1)) : m_interval(interval) {}

  /// Whether to write the line at `now`. When it says yes, `held_back` is how
  /// many lines it refused since the last one it let through (0 the first
  /// time), to log as the field "suppressed_since_last".
  bool admit(std::uint64_t& held_back, std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

 private:
  std::mutex m_mutex;
  const std::chrono::milliseconds m_interval;
  std::optional<std::chrono::steady_clock::time_point> m_last;
  std::uint64_t m_held_back = 0;
};

/// warn(m, f) through `throttle`, with "suppressed_since_last" added when
/// lines were held back.
void warn_throttled(Throttle& throttle, std::string_view m, std::vector<Field> f = {});

}  // namespace mailer::log
