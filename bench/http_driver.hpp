#pragma once
// What the HTTP benchmark drivers (drain.cpp, rate.cpp) share: the batch they
// post and their clock arithmetic. Header-only: each driver is its own
// executable and links no mailerd library.

#include <chrono>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mailer::bench {

using Clock = std::chrono::steady_clock;

/// The POST /v1/batches body of `count` recipients user0@example.com ...:
/// inline content with a subject, HTML and text part, one batch variable,
/// one variable per recipient and {{unsubscribe_url}} (so bulk headers are
/// added), as a sending newsletter would post it.
inline std::string batch_body(int count) {
  nlohmann::json body = {
      {"from", "Shop <news@example.com>"},
      {"content",
       {{"subject", "Hello {{first_name}}"},
        {"html", "<p>Hi {{first_name}} from {{city}}</p><a href=\"{{unsubscribe_url}}\">unsubscribe</a>"},
        {"text", "Hi {{first_name}} from {{city}}\n{{unsubscribe_url}}"}}},
      {"variables", {{"city", "Lisbon"}}}};
  auto& recipients = body["recipients"] = nlohmann::json::array();
  for (int i = 0; i < count; ++i) {
    recipients.push_back(
        {{"email", fmt::format("user{}@example.com", i)}, {"variables", {{"first_name", fmt::format("Name{}", i)}}}});
  }
  return body.dump();
}

/// Seconds from `a` to `b` (negative when b is earlier).
inline double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace mailer::bench
