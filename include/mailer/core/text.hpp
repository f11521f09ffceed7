#pragma once
// Checks on text people type and read back: names of templates and API keys.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace mailer::text {

/// The number of Unicode code points in `text`, or nullopt when it is not
/// well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
/// Source: RFC 3629 section 4.
std::optional<std::size_t> utf8_length(std::string_view text);

/// `text` with ASCII A-Z lowered; every other byte (UTF-8 included) as is. For
/// names compared case-insensitively by their specs: header and INI keys.
std::string ascii_lower(std::string_view text);

/// Why `name` cannot be a name (of a template, an API key), or nullopt when it
/// can. A name is shown in tables and typed on command lines, so it must be
/// UTF-8 of 1 to `max_length` characters (Unicode code points, not bytes)
/// without ASCII controls (C0 and DEL). Answers, for a FieldError: "must be
/// UTF-8", "must be 1 to N characters", "must not contain control characters
/// (line breaks, tabs, NUL)".
std::optional<std::string> name_problem(std::string_view name, std::size_t max_length);

}  // namespace mailer::text
