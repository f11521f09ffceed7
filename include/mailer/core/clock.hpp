#pragma once
// Time source, injectable so tests can move time (FakeClock in tests/support).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailer/core/error.hpp"

namespace mailer {

class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// Milliseconds since the Unix epoch: the unit of every *_ms column.
inline std::int64_t to_ms(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
inline Clock::time_point from_ms(std::int64_t ms) { return Clock::time_point(std::chrono::milliseconds(ms)); }

/// RFC 3339 UTC with milliseconds, e.g. "2026-12-01T09:00:00.000Z".
std::string format_rfc3339(std::int64_t ms);

/// Parses RFC 3339 ("2026-12-01T09:00:00Z", fractional seconds and numeric
/// offsets allowed) into ms since the epoch; false when malformed.
bool parse_rfc3339(const std::string& text, std::int64_t& ms);

/// Examples of the age syntax parse_age_ms reads, for help and error texts, so
/// that the API (`older_than`) and mailerctl (`--older-than`) describe it alike.
inline constexpr const char* k_age_examples = "30d, 12h, 15m, 90s or 1h30m";

/// The largest age parse_age_ms reads, for error texts.
inline constexpr const char* k_max_age = "36500d (100 years)";

/// An age ("30d", "1h30m") in milliseconds: one or more parts, each a whole
/// number followed by a unit d (86,400 s), h, m or s, summed. At most 100
/// years in all. nullopt when empty, signed, fractional, of another unit or too large.
std::optional<std::int64_t> parse_age_ms(std::string_view text);

/// parse_age_ms saying why not, in words for a FieldError about the field
/// holding `text`. Errors: too_large "must be at most 36500d (100 years)" when
/// the syntax is right but the sum is over; invalid_input "must be an age such
/// as 30d, 12h, 15m, 90s or 1h30m" otherwise.
Result<std::int64_t> read_age_ms(std::string_view text);

}  // namespace mailer
