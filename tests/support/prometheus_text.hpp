#pragma once
// Reading Prometheus text exposition output in tests: one sample's value, and
// `promtool check metrics` (Debian package prometheus) as the format's judge.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailer::test {

/// The value of the sample line `series` (name plus labels exactly as
/// rendered, e.g. `mailer_messages_total{outcome="sent"}`), or nullopt when
/// `text` has no such line.
std::optional<double> sample_value(const std::string& text, const std::string& series);

/// How many sample lines of `text` start with `prefix` (every sample line
/// when empty); comment lines never count.
std::size_t sample_count(const std::string& text, std::string_view prefix = "");

/// What `promtool check metrics` said about `text`.
struct PromtoolVerdict {
  bool found = false;  // false: promtool is not installed
  int exit_code = -1;  // 0: valid and lint-clean
  std::string output;  // its complaints
};
PromtoolVerdict promtool_check(const std::string& text);

}  // namespace mailer::test
