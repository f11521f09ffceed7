#include "mailer/jobs/webhook_retry.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <string>

namespace mailer::jobs {

std::chrono::milliseconds webhook_retry_delay(int attempt, std::chrono::milliseconds base,
                                              std::chrono::milliseconds max,
                                              std::optional<std::chrono::milliseconds> retry_after, double random01) {
  using std::chrono::milliseconds;
  // Doubling stops at the cap (and before 2^62 could overflow).
  milliseconds delay = base;
  for (int i = 1; i < attempt && delay < max; ++i) delay *= 2;
  delay = std::min(delay, max);
  random01 = std::clamp(random01, 0.0, 1.0);
  auto jittered =
      milliseconds(delay.count() / 2 + static_cast<long long>(static_cast<double>(delay.count() / 2) * random01));
  if (retry_after) jittered = std::max(jittered, std::min(*retry_after, max));
  return std::max(jittered, milliseconds(1));
}

std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value, Clock::time_point now) {
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (value.find_first_not_of("0123456789") == std::string_view::npos) {
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc::result_out_of_range) return std::chrono::milliseconds::max();
    if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
    if (seconds > 365LL * 86400) seconds = 365LL * 86400;  // far past any cap; no overflow
    return std::chrono::seconds(seconds);
  }
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (29 characters).
  if (value.size() != 29 || !value.ends_with(" GMT")) return std::nullopt;
  std::tm parts{};
  std::string text(value);
  const char* end = strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parts);
  if (end == nullptr || *end != '\0') return std::nullopt;
  std::time_t at = timegm(&parts);
  if (at == static_cast<std::time_t>(-1)) return std::nullopt;
  auto wait = Clock::time_point(std::chrono::seconds(at)) - now;
  if (wait.count() < 0) return std::chrono::milliseconds(0);
  return std::chrono::duration_cast<std::chrono::milliseconds>(wait);
}

}  // namespace mailer::jobs
