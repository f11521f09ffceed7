#include "mailer/core/text.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace mailer::text {

namespace {

char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim_of(std::string_view text, std::string_view characters) {
  const auto first = text.find_first_not_of(characters);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(characters) - first + 1);
}

}  // namespace

std::string ascii_lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = lower_char(c);
  return out;
}

bool ascii_iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return lower_char(x) == lower_char(y); });
}

std::string_view trim(std::string_view text) { return trim_of(text, " \t\n\v\f\r"); }

std::string_view trim_blanks(std::string_view text) { return trim_of(text, " \t"); }

std::string join(const std::vector<std::string>& items, std::string_view separator) {
  std::string out;
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out += separator;
    out += items[i];
  }
  return out;
}

namespace {

// ASCII C0 controls and DEL; UTF-8 multibyte sequences never contain them.
bool is_control(char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }

unsigned char byte_at(std::string_view text, std::size_t i) { return static_cast<unsigned char>(text[i]); }

// The length of the well-formed UTF-8 sequence at text[i], or 0. The ranges of
// the second byte are RFC 3629's table, which excludes overlongs and surrogates.
std::size_t sequence_length(std::string_view text, std::size_t i) {
  unsigned char lead = byte_at(text, i);
  if (lead < 0x80) return 1;
  std::size_t length = 0;
  unsigned char low = 0x80, high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) length = 2;
  else if (lead >= 0xe0 && lead <= 0xef)
    length = 3, low = lead == 0xe0 ? 0xa0 : 0x80, high = lead == 0xed ? 0x9f : 0xbf;
  else if (lead >= 0xf0 && lead <= 0xf4)
    length = 4, low = lead == 0xf0 ? 0x90 : 0x80, high = lead == 0xf4 ? 0x8f : 0xbf;
  else return 0;
  if (i + length > text.size()) return 0;
  if (byte_at(text, i + 1) < low || byte_at(text, i + 1) > high) return 0;
  for (std::size_t k = 2; k < length; ++k)
    if (byte_at(text, i + k) < 0x80 || byte_at(text, i + k) > 0xbf) return 0;
  return length;
}

}  // namespace

std::optional<std::size_t> utf8_length(std::string_view text) {
  std::size_t count = 0;
  for (std::size_t i = 0; i < text.size(); ++count) {
    std::size_t length = sequence_length(text, i);
    if (length == 0) return std::nullopt;
    i += length;
  }
  return count;
}

std::string truncate_utf8(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of the cut sequence.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return std::string(text.substr(0, cut));
}

std::optional<std::string> name_problem(std::string_view name, std::size_t max_length) {
  auto length = utf8_length(name);
  if (!length) return "must be UTF-8";
  if (*length == 0 || *length > max_length) return fmt::format("must be 1 to {} characters", max_length);
  if (std::any_of(name.begin(), name.end(), is_control))
    return "must not contain control characters (line breaks, tabs, NUL)";
  return std::nullopt;
}

bool has_hidden_characters(std::string_view utf8) {
  for (std::size_t i = 0; i + 1 < utf8.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(utf8[i]);
    const auto b1 = static_cast<unsigned char>(utf8[i + 1]);
    if (b0 == 0xC2 && b1 >= 0x80 && b1 <= 0x9F) return true;  // C1
    if (b0 == 0xD8 && b1 == 0x9C) return true;                // U+061C
    if (i + 2 >= utf8.size()) continue;
    const auto b2 = static_cast<unsigned char>(utf8[i + 2]);
    if (b0 == 0xEF && b1 == 0xBB && b2 == 0xBF) return true;  // U+FEFF
    if (b0 != 0xE2) continue;
    if (b1 == 0x80 && ((b2 >= 0x8B && b2 <= 0x8F) || (b2 >= 0xAA && b2 <= 0xAE))) return true;
    if (b1 == 0x81 && ((b2 >= 0xA0 && b2 <= 0xA4) || (b2 >= 0xA6 && b2 <= 0xA9))) return true;
  }
  return false;
}

std::string shorten(std::string_view value, std::size_t max_chars) {
  std::size_t end = 0;
  for (std::size_t count = 0; end < value.size() && count < max_chars; ++count)
    end += std::max<std::size_t>(sequence_length(value, end), 1);
  std::string out(value.substr(0, end));
  if (end < value.size()) out += "\u2026";
  return out;
}

std::string quote_outside(std::string_view value, std::size_t max_chars) {
  return "'" + shorten(value, max_chars) + "'";
}

}  // namespace mailer::text
