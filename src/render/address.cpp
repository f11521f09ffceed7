// Address checks follow the order a reader would: shape (one @), local part, domain,
// whole length, so the first reason reported is the most fundamental one.

#include "mailer/render/address.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>

#include <idn2.h>

#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::render {

namespace {

constexpr std::size_t k_max_local_octets = 64;        // RFC 5321 §4.5.3.1.1
constexpr std::size_t k_max_label_octets = 63;        // RFC 1035 §2.3.4
constexpr std::size_t k_max_domain_octets = 255;      // RFC 5321 §4.5.3.1.2
constexpr std::size_t k_max_address_octets = 254;     // RFC 5321 §4.5.3.1.3 path (256) minus < >
constexpr std::size_t k_max_encoded_word_input = 45;  // 45 bytes -> 60 base64 chars; 60 + 12 <= 75

Error invalid(std::string reason) { return make_error(ErrorCode::invalid_input, std::move(reason)); }

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

bool is_control(char c) {
  const auto byte = static_cast<unsigned char>(c);
  return byte < 0x20 || byte == 0x7F;
}

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

std::string invalid_character(std::string_view what, char c) {
  if (is_control(c)) return std::string(what) + " contains a control character";
  return std::string(what) + " contains invalid character '" + c + "'";
}

/// RFC 5322 §3.2.3 atext, the characters of a dot-atom besides the dots.
bool is_atext(char c) {
  return is_alnum(c) || std::string_view("!#$%&'*+/=?^_`{|}~-").find(c) != std::string_view::npos;
}

Status check_local_part(std::string_view local) {
  if (local.empty()) return invalid("local part is empty");
  if (!is_ascii(local)) return invalid("non-ASCII local part is not accepted by SES");
  for (char c : local) {
    if (c != '.' && !is_atext(c)) return invalid(invalid_character("local part", c));
  }
  if (local.front() == '.' || local.back() == '.') return invalid("local part must not start or end with a dot");
  if (local.find("..") != std::string_view::npos) return invalid("local part must not contain two dots in a row");
  if (local.size() > k_max_local_octets) return invalid("local part is longer than 64 octets");
  return {};
}

struct FreeIdn2 {
  void operator()(char* p) const noexcept { idn2_free(p); }
};

/// The domain in lowercase ASCII: ASCII input is lowercased, anything else goes
/// through libidn2 (which also lowercases and maps per UTS #46).
Result<std::string> to_ascii_domain(std::string_view domain) {
  if (is_ascii(domain)) return text::ascii_lower(domain);
  const std::string input(domain);
  char* raw = nullptr;
  const int rc = idn2_to_ascii_8z(input.c_str(), &raw, IDN2_NFC_INPUT | IDN2_NONTRANSITIONAL);
  std::unique_ptr<char, FreeIdn2> output(raw);
  // libidn2 reports a label whose A-label would exceed 63 octets as BIG_OUTPUT.
  if (rc == IDN2_TOO_BIG_LABEL || rc == IDN2_PUNYCODE_BIG_OUTPUT)
    return invalid("domain label is longer than 63 octets");
  if (rc == IDN2_TOO_BIG_DOMAIN) return invalid("domain is longer than 255 octets");
  if (rc == IDN2_HYPHEN_STARTEND) return invalid("domain label must not start or end with a hyphen");
  if (rc != IDN2_OK) {
    return invalid(std::string("domain is not a valid internationalized domain name: ") + idn2_strerror(rc));
  }
  return std::string(output.get());
}

Status check_label(std::string_view label) {
  if (label.empty()) return invalid("domain has an empty label");
  if (label.size() > k_max_label_octets) return invalid("domain label is longer than 63 octets");
  if (label.front() == '-' || label.back() == '-') return invalid("domain label must not start or end with a hyphen");
  return {};
}

/// RFC 1035 §2.3.1 LDH labels, checked on the ASCII (A-label) form.
Status check_ascii_domain(std::string_view domain) {
  for (char c : domain) {
    if (c != '.' && c != '-' && !is_alnum(c)) return invalid(invalid_character("domain", c));
  }
  if (domain.find('.') == std::string_view::npos) return invalid("domain must contain at least one dot");
  std::size_t start = 0;
  while (true) {
    const auto dot = domain.find('.', start);
    auto label_ok = check_label(domain.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (!label_ok) return label_ok;
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  if (domain.size() > k_max_domain_octets) return invalid("domain is longer than 255 octets");
  return {};
}

Result<std::string> normalize_domain(std::string_view domain) {
  if (domain.empty()) return invalid("domain is empty");
  if (domain.front() == '[') return invalid("address literals are not supported");
  auto ascii = to_ascii_domain(domain);
  if (!ascii) return ascii;
  auto ok = check_ascii_domain(*ascii);
  if (!ok) return std::move(ok).error();
  return ascii;
}

/// Length of the UTF-8 sequence starting with `lead`, or 0 for a byte that cannot lead one.
std::size_t utf8_sequence_length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;
}

/// Structural UTF-8 check (lead and continuation bytes); enough to keep broken bytes
/// out of headers, not a full Unicode validator (overlongs of 3-4 bytes pass).
bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = utf8_sequence_length(static_cast<unsigned char>(s[i]));
    if (length == 0 || i + length > s.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

/// RFC 5322 §3.2.4 quoted-string content of `quoted` (which starts with '"').
Result<std::string> unquote_display_name(std::string_view quoted) {
  std::string name;
  for (std::size_t i = 1; i < quoted.size(); ++i) {
    const char c = quoted[i];
    if (c == '\\' && i + 1 < quoted.size()) {
      name += quoted[++i];
    } else if (c == '"') {
      if (!text::trim(quoted.substr(i + 1)).empty()) return invalid("text after the closing quote of the display name");
      return name;
    } else {
      name += c;
    }
  }
  return invalid("display name has an unterminated quote");
}

Result<std::string> parse_display_name(std::string_view text) {
  text = text::trim(text);
  std::string name;
  if (!text.empty() && text.front() == '"') {
    auto unquoted = unquote_display_name(text);
    if (!unquoted) return unquoted;
    name = std::move(*unquoted);
  } else {
    for (char c : text) {
      if (c == '"' || c == '<' || c == '>') return invalid(invalid_character("display name", c));
    }
    name = std::string(text);
  }
  if (std::any_of(name.begin(), name.end(), is_control)) return invalid("display name contains a control character");
  if (!is_valid_utf8(name)) return invalid("display name is not valid UTF-8");
  return name;
}

/// RFC 2047 "B" encoded-words for `name`, split so that no word exceeds 75 characters
/// and no UTF-8 character is cut in two (RFC 2047 §5(3)).
std::string encoded_words(std::string_view name) {
  std::string out;
  std::size_t start = 0;
  while (start < name.size()) {
    std::size_t end = start;
    while (end < name.size()) {
      const std::size_t length = std::max<std::size_t>(1, utf8_sequence_length(static_cast<unsigned char>(name[end])));
      if (end + length - start > k_max_encoded_word_input) break;
      end += length;
    }
    if (!out.empty()) out += ' ';
    out += "=?UTF-8?B?" + crypto::base64_encode(name.substr(start, end - start)) + "?=";
    start = end;
  }
  return out;
}

std::string quoted_if_needed(std::string_view name) {
  constexpr std::string_view k_specials = "()<>[]:;@\\,.\"";
  if (name.find_first_of(k_specials) == std::string_view::npos) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + '"';
}

}  // namespace

Result<std::string> normalize_address(std::string_view input) {
  const std::string_view address = text::trim(input);
  if (address.empty()) return invalid("address is empty");
  if (address.front() == '"') return invalid("quoted local parts are not supported");
  const auto at = address.find('@');
  if (at == std::string_view::npos || address.find('@', at + 1) != std::string_view::npos) {
    return invalid("address must contain exactly one @");
  }
  const std::string_view local = address.substr(0, at);
  auto local_ok = check_local_part(local);
  if (!local_ok) return std::move(local_ok).error();
  auto domain = normalize_domain(address.substr(at + 1));
  if (!domain) return domain;
  std::string normalized = std::string(local) + '@' + *domain;
  if (normalized.size() > k_max_address_octets) return invalid("address is longer than 254 octets");
  return normalized;
}

std::string suppression_key(std::string_view normalized) { return text::ascii_lower(normalized); }

Result<Mailbox> parse_mailbox(std::string_view input) {
  const std::string_view text = text::trim(input);
  if (text.empty()) return invalid("mailbox is empty");
  const auto open = text.rfind('<');
  if (open == std::string_view::npos) {
    auto address = normalize_address(text);
    if (!address) return std::move(address).error();
    return Mailbox{"", std::move(*address)};
  }
  if (text.back() != '>') return invalid("missing > after the address");
  auto name = parse_display_name(text.substr(0, open));
  if (!name) return std::move(name).error();
  auto address = normalize_address(text.substr(open + 1, text.size() - open - 2));
  if (!address) return std::move(address).error();
  return Mailbox{std::move(*name), std::move(*address)};
}

std::string format_mailbox_for_ses(const Mailbox& mailbox) {
  if (mailbox.display_name.empty()) return mailbox.address;
  const std::string name =
      is_ascii(mailbox.display_name) ? quoted_if_needed(mailbox.display_name) : encoded_words(mailbox.display_name);
  return name + " <" + mailbox.address + ">";
}

}  // namespace mailer::render
