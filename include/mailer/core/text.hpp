#pragma once
// Checks on text people type and read back: names of templates and API keys.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailer::text {

/// Why `name` cannot be a name (of a template, an API key), or nullopt when it
/// can. A name is shown in tables and typed on command lines, so it must be 1
/// to `max_length` characters without ASCII controls (C0 and DEL); any other
/// UTF-8 is allowed. Answers, for a FieldError: "must be 1 to N characters",
/// "must not contain control characters (line breaks, tabs, NUL)".
std::optional<std::string> name_problem(std::string_view name, std::size_t max_length);

}  // namespace mailer::text
