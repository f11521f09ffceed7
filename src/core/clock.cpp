#include "mailer/core/clock.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string_view>

#include <fmt/format.h>

// RFC 3339 §5.6 timestamps. The calendar is the C library's (timegm/gmtime_r);
// this file only reads and writes the fixed-width fields around it.

namespace mailer {
namespace {

constexpr std::int64_t k_ms_per_second = 1000;

// `count` ASCII digits at text[pos...] as a number; false when any is not a digit.
bool read_digits(std::string_view text, std::size_t pos, std::size_t count, int& out) {
  if (pos + count > text.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool expect(std::string_view text, std::size_t pos, char c) { return pos < text.size() && text[pos] == c; }

// Reads "YYYY-MM-DDTHH:MM:SS" (T or t, RFC 3339 §5.6 NOTE) into `tm`.
bool read_date_time(std::string_view text, std::tm& tm) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  bool ok = read_digits(text, 0, 4, year) && expect(text, 4, '-') && read_digits(text, 5, 2, month) &&
            expect(text, 7, '-') && read_digits(text, 8, 2, day) && (expect(text, 10, 'T') || expect(text, 10, 't')) &&
            read_digits(text, 11, 2, hour) && expect(text, 13, ':') && read_digits(text, 14, 2, minute) &&
            expect(text, 16, ':') && read_digits(text, 17, 2, second);
  if (!ok) return false;
  tm = std::tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return true;
}

// Reads ".digits" at `pos` (any count, truncated to ms); advances `pos`.
bool read_fraction(std::string_view text, std::size_t& pos, std::int64_t& ms) {
  ms = 0;
  if (!expect(text, pos, '.')) return true;
  std::size_t start = ++pos;
  std::int64_t scale = 100;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    ms += (text[pos] - '0') * scale;
    scale /= 10;
    ++pos;
  }
  return pos > start;  // "12:00:00.Z" is malformed
}

// Reads "Z" or "+HH:MM"/"-HH:MM", which must end the text; offset in seconds east of UTC.
bool read_offset(std::string_view text, std::size_t pos, std::int64_t& offset_seconds) {
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    offset_seconds = 0;
    return true;
  }
  int hours = 0, minutes = 0;
  if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || !read_digits(text, pos + 1, 2, hours) ||
      !expect(text, pos + 3, ':') || !read_digits(text, pos + 4, 2, minutes) || hours > 23 || minutes > 59)
    return false;
  offset_seconds = (hours * 3600 + minutes * 60) * (text[pos] == '-' ? -1 : 1);
  return true;
}

// timegm normalises out-of-range fields (Feb 30 -> Mar 2); a date that does not
// come back unchanged from gmtime_r did not exist.
bool to_epoch_seconds(std::tm tm, std::int64_t& seconds) {
  std::tm wanted = tm;
  std::time_t t = timegm(&tm);
  std::tm back{};
  if (gmtime_r(&t, &back) == nullptr) return false;
  if (back.tm_year != wanted.tm_year || back.tm_mon != wanted.tm_mon || back.tm_mday != wanted.tm_mday ||
      back.tm_hour != wanted.tm_hour || back.tm_min != wanted.tm_min || back.tm_sec != wanted.tm_sec)
    return false;
  seconds = static_cast<std::int64_t>(t);
  return true;
}

}  // namespace

std::string format_rfc3339(std::int64_t ms) {
  // Floor division, so times before 1970 keep a positive millisecond part.
  std::int64_t seconds = ms / k_ms_per_second;
  std::int64_t millis = ms % k_ms_per_second;
  if (millis < 0) {
    millis += k_ms_per_second;
    --seconds;
  }
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

bool parse_rfc3339(const std::string& text, std::int64_t& ms) {
  std::tm tm{};
  std::size_t pos = 19;  // after "YYYY-MM-DDTHH:MM:SS"
  std::int64_t fraction_ms = 0;
  std::int64_t offset_seconds = 0;
  std::int64_t seconds = 0;
  // NOTE: leap seconds (":60") are rejected: they cannot be represented as
  // Unix time, and no client of ours sends them.
  if (!read_date_time(text, tm) || !read_fraction(text, pos, fraction_ms) || !read_offset(text, pos, offset_seconds) ||
      !to_epoch_seconds(tm, seconds))
    return false;
  ms = (seconds - offset_seconds) * k_ms_per_second + fraction_ms;
  return true;
}

Result<std::int64_t> read_age_ms(std::string_view text) {
  // NOTE: the bound keeps every sum far from int64 overflow.
  constexpr std::int64_t k_max_ms = 100LL * 365 * 86'400'000;
  const auto malformed = make_error(ErrorCode::invalid_input, fmt::format("must be an age such as {}", k_age_examples));
  if (text.empty()) return malformed;
  std::int64_t total = 0;
  bool over = false;
  const char* p = text.data();
  const char* end = text.data() + text.size();
  while (p != end) {
    if (*p < '0' || *p > '9') return malformed;  // from_chars would take a '-'
    std::int64_t amount = 0;
    auto [next, ec] = std::from_chars(p, end, amount);
    if (ec == std::errc::result_out_of_range) {
      over = true;
      next = std::find_if(p, end, [](char c) { return c < '0' || c > '9'; });
    } else if (ec != std::errc()) {
      return malformed;
    }
    if (next == end) return malformed;
    std::int64_t unit_ms = *next == 'd'   ? 86'400'000
                           : *next == 'h' ? 3'600'000
                           : *next == 'm' ? 60'000
                           : *next == 's' ? k_ms_per_second
                                          : 0;
    if (unit_ms == 0) return malformed;
    // Once over, later parts are still read, so "99999d junk" stays malformed.
    if (over || amount > (k_max_ms - total) / unit_ms) over = true;
    else total += amount * unit_ms;
    p = next + 1;
  }
  if (over) return make_error(ErrorCode::too_large, fmt::format("must be at most {}", k_max_age));
  return total;
}

std::optional<std::int64_t> parse_age_ms(std::string_view text) {
  auto age = read_age_ms(text);
  if (!age) return std::nullopt;
  return *age;
}

}  // namespace mailer
