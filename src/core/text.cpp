#include "mailer/core/text.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mailer::text {
namespace {

// ASCII C0 controls and DEL; UTF-8 multibyte sequences never contain them.
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

}  // namespace

std::optional<std::string> name_problem(std::string_view name, std::size_t max_length) {
  if (name.empty() || name.size() > max_length) return fmt::format("must be 1 to {} characters", max_length);
  if (std::any_of(name.begin(), name.end(), is_control))
    return "must not contain control characters (line breaks, tabs, NUL)";
  return std::nullopt;
}

}  // namespace mailer::text
