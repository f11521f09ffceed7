#include "mailer/http/auth.hpp"

#include "mailer/core/text.hpp"

namespace mailer::http {

std::optional<std::string> parse_bearer(std::string_view header_value) {
  auto value = text::trim_blanks(header_value);
  auto space = value.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  if (!text::ascii_iequals(value.substr(0, space), "Bearer")) return std::nullopt;
  auto token = text::trim_blanks(value.substr(space + 1));
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
