#pragma once
// Email addresses as SES accepts them: checked, normalized, compared, and written into
// From/Reply-To with a display name. Pure code, no I/O (no DNS lookups).

#include <string>
#include <string_view>

#include "mailer/core/error.hpp"

namespace mailer::render {

/// `input` (surrounding whitespace trimmed) as the address mailerd stores and sends:
/// local part unchanged (case preserved), domain lowercased and, when it has non-ASCII
/// characters, converted to Punycode A-labels (libidn2, IDNA2008 + UTS #46
/// non-transitional, NFC input). Example: " ANA@Bücher.Example " -> "ANA@xn--bcher-kva.example".
///
/// Accepted subset of RFC 5321 §4.1.2 / RFC 5322 §3.4.1: a dot-atom local part of
/// ASCII letters, digits and !#$%&'*+/=?^_`{|}~.- (no leading, trailing or double dot),
/// at most 64 octets; a domain of LDH labels of 1-63 octets (no leading or trailing
/// hyphen), at least two labels, at most 255 octets; the whole address at most 254
/// octets (RFC 5321 §4.5.3.1.3 path limit minus the angle brackets).
/// Refused as unsupported: quoted local parts ("a b"@x.example) and address literals
/// (a@[192.0.2.1]); SES and most receivers reject them anyway.
///
/// Errors: `invalid_input`, detail one of
///   "address is empty", "address must contain exactly one @",
///   "quoted local parts are not supported", "local part is empty",
///   "non-ASCII local part is not accepted by SES",
///   "local part contains invalid character 'C'" (C printable ASCII, else
///     "local part contains a control character"),
///   "local part must not start or end with a dot", "local part must not contain two dots in a row",
///   "local part is longer than 64 octets", "domain is empty",
///   "address literals are not supported", "domain contains invalid character 'C'",
///   "domain is not a valid internationalized domain name: <libidn2 reason>",
///   "domain must contain at least one dot", "domain has an empty label",
///   "domain label is longer than 63 octets", "domain label must not start or end with a hyphen",
///   "domain is longer than 255 octets", "address is longer than 254 octets".
/// Source: docs.aws.amazon.com/ses/latest/dg/send-email-formatted.html (ASCII local part,
/// Punycode domain); shared/reference/ses-v2.md §8.
Result<std::string> normalize_address(std::string_view input);

/// The key suppression lists and duplicate detection compare on: the whole normalized
/// address in ASCII lowercase ("ANA@example.com" -> "ana@example.com"). Local parts are
/// case-sensitive by RFC 5321 but treated case-insensitively by every real mailbox
/// provider, and SPEC.md §6 asks for case-insensitive comparison.
std::string suppression_key(std::string_view normalized);

/// A `from` or `reply_to` value: optional display name (UTF-8, unquoted and unescaped)
/// and the normalized address.
struct Mailbox {
  std::string display_name;
  std::string address;
  friend bool operator==(const Mailbox&, const Mailbox&) = default;
};

/// Parses "addr", "<addr>", "Name <addr>" or "\"Name, Inc.\" <addr>" (RFC 5322 §3.4
/// name-addr, leniently: an unquoted name may hold any character but " < > and
/// controls). The address goes through normalize_address (its errors pass through).
/// Further errors (`invalid_input`): "mailbox is empty", "missing > after the address",
/// "display name has an unterminated quote", "display name contains a control character",
/// "display name contains invalid character 'C'" (C one of " < >, unquoted names),
/// "display name is not valid UTF-8", "text after the closing quote of the display name".
Result<Mailbox> parse_mailbox(std::string_view input);

/// `mailbox` as SES's FromEmailAddress / ReplyToAddresses want it: the bare address when
/// there is no display name; else `Name <addr>` where a non-ASCII name becomes RFC 2047
/// encoded-words (=?UTF-8?B?...?=, each at most 75 characters, split between
/// characters), and an ASCII name holding RFC 5322 specials ( ) < > [ ] : ; @ \ , . "
/// is quoted with \ escapes. Example: {"Zoë Müller", "news@example.com"} ->
/// "=?UTF-8?B?Wm/DqyBNw7xsbGVy?= <news@example.com>". Source: ses-v2.md §8, RFC 2047 §2, §5(3).
std::string format_mailbox_for_ses(const Mailbox& mailbox);

}  // namespace mailer::render
