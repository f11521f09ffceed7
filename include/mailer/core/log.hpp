#pragma once
// Structured logging: one line per call, written whole under a lock. JSON lines
// ({"time","level","msg",...fields}) when stderr is not a terminal or format is
// "json"; readable "time LEVEL msg key=value" lines on a terminal. Callers must
// never pass secrets; the level is checked before any formatting.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mailer::log {

enum class Level { debug = 0, info = 1, warn = 2, error = 3 };

/// One structured field; the value is any JSON value.
using Field = std::pair<std::string, nlohmann::json>;

/// Sets the threshold and format ("auto" | "json" | "pretty"). Call once from main.
void configure(Level level, std::string_view format);
/// Parses "debug" | "info" | "warn" | "error"; false when unknown.
bool parse_level(std::string_view text, Level& out);
bool enabled(Level level);

void write(Level level, std::string_view msg, const std::vector<Field>& fields);
inline void debug(std::string_view m, const std::vector<Field>& f = {}) { if (enabled(Level::debug)) write(Level::debug, m, f); }
inline void info(std::string_view m, const std::vector<Field>& f = {}) { if (enabled(Level::info)) write(Level::info, m, f); }
inline void warn(std::string_view m, const std::vector<Field>& f = {}) { if (enabled(Level::warn)) write(Level::warn, m, f); }
inline void error(std::string_view m, const std::vector<Field>& f = {}) { if (enabled(Level::error)) write(Level::error, m, f); }

}  // namespace mailer::log
