#pragma once
// Small text helpers every layer shares (trimming, ASCII case, joining,
// UTF-8 checks) and checks on names people type and read back (templates, API
// keys). One copy each, so two call sites cannot disagree on what
// "whitespace" or "case-insensitive" means.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mailer::text {

/// The number of Unicode code points in `text`, or nullopt when it is not
/// well-formed UTF-8 (no overlong forms, surrogates or values past U+10FFFF).
/// Source: RFC 3629 section 4.
std::optional<std::size_t> utf8_length(std::string_view text);

/// `text` cut to at most `max_bytes` bytes without splitting a UTF-8 sequence
/// (a cut inside one drops the whole sequence), so well-formed input stays
/// well-formed; shorter text is returned as is. For bounding stored strings
/// that came from outside.
std::string truncate_utf8(std::string_view text, std::size_t max_bytes);

/// `text` with ASCII A-Z lowered; every other byte (UTF-8 included) as is. For
/// names compared case-insensitively by their specs: header and INI keys.
std::string ascii_lower(std::string_view text);

/// Whether `a` and `b` are equal once ASCII A-Z are lowered (other bytes must
/// match exactly): for names their specs compare case-insensitively, such as
/// HTTP header names and auth schemes (RFC 9110 sections 5.1 and 11.1).
bool ascii_iequals(std::string_view a, std::string_view b);

/// `text` without leading and trailing ASCII whitespace: space, tab, line
/// feed, vertical tab, form feed and carriage return (C's isspace). For lines
/// and values read from files, templates and addresses.
std::string_view trim(std::string_view text);

/// `text` without leading and trailing spaces and tabs only: HTTP's optional
/// whitespace (OWS, RFC 9110 section 5.6.3) and SigV4's header value trimming,
/// where a line break is not padding.
std::string_view trim_blanks(std::string_view text);

/// `items` with `separator` between them; "" for none. Example:
/// join({"GET", "POST"}, ", ") is "GET, POST".
std::string join(const std::vector<std::string>& items, std::string_view separator);

/// Why `name` cannot be a name (of a template, an API key), or nullopt when it
/// can. A name is shown in tables and typed on command lines, so it must be
/// UTF-8 of 1 to `max_length` characters (Unicode code points, not bytes)
/// without ASCII controls (C0 and DEL). Answers, for a FieldError: "must be
/// UTF-8", "must be 1 to N characters", "must not contain control characters
/// (line breaks, tabs, NUL)".
std::optional<std::string> name_problem(std::string_view name, std::size_t max_length);

/// Whether `utf8` holds a C1 control (U+0080-U+009F) or a Unicode format
/// character that hides or reorders what a reader sees: U+061C, U+200B-U+200F,
/// U+202A-U+202E, U+2060-U+2064, U+2066-U+2069, U+FEFF (Unicode Technical
/// Report 36, section 2; "invoice\u202Efdp.exe" shows as "invoiceexe.pdf").
/// Bytes outside well-formed sequences are not looked at.
bool has_hidden_characters(std::string_view utf8);

/// Characters of outside text that shorten and quote_outside keep.
inline constexpr std::size_t k_max_quoted_chars = 64;

/// `value` (text from a client or upstream) cut after `max_chars` characters
/// with "…" added, for an error message or log line: a 400 KB field costs a
/// short line, not an echo of itself. The cut falls on a UTF-8 character
/// boundary; a byte that starts no well-formed sequence counts as one
/// character (writers of JSON replace it later, see dump_json). Example: 100
/// 'x' give 64 'x' and "…"; "msg_1" stays "msg_1".
std::string shorten(std::string_view value, std::size_t max_chars = k_max_quoted_chars);

/// shorten(value) in single quotes, for a value inside a sentence:
/// quote_outside("Notif") is "'Notif'".
std::string quote_outside(std::string_view value, std::size_t max_chars = k_max_quoted_chars);

}  // namespace mailer::text
