#include "mailer/http/auth.hpp"

#include <cctype>

namespace mailer::http {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> parse_bearer(std::string_view header_value) {
  auto value = trim(header_value);
  auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!iequals(value.substr(0, space), "Bearer")) return std::nullopt;
  auto token = trim(value.substr(space + 1));
  if (token.empty() || token.find(' ') != std::string_view::npos) return std::nullopt;
  return std::string(token);
}

std::optional<store::Scope> required_scope(Access access) {
  switch (access) {
    case Access::none: return std::nullopt;
    case Access::read: return store::Scope::read;
    case Access::send: return store::Scope::send;
    case Access::admin: return store::Scope::admin;
  }
  return store::Scope::admin;
}

}  // namespace mailer::http
