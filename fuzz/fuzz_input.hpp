#pragma once
// Shared by the fuzz targets: one input often feeds several arguments, so it
// is cut into parts at a separator line. Seeds stay readable text files, and
// each target's dictionary holds the separator so libFuzzer can add parts.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace mailer::fuzz {

inline constexpr std::string_view k_separator = "\n@@@@\n";

/// `data` cut at each k_separator into at most `max_parts` parts (the last part
/// keeps any further separators); missing parts are empty strings.
inline std::vector<std::string> split_input(const std::uint8_t* data, std::size_t size, std::size_t max_parts) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  std::vector<std::string> parts;
  while (parts.size() + 1 < max_parts) {
    const auto at = rest.find(k_separator);
    if (at == std::string_view::npos) break;
    parts.emplace_back(rest.substr(0, at));
    rest.remove_prefix(at + k_separator.size());
  }
  parts.emplace_back(rest);
  parts.resize(max_parts);
  return parts;
}

}  // namespace mailer::fuzz
