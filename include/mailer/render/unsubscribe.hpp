#pragma once
// Unsubscribe tokens and the List-Unsubscribe headers of bulk mail (SPEC.md §4).
// Pure code: the secret comes from `unsubscribe.secret`, the URL base from
// `server.public_url`.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailer::render {

/// A token that names `message_id` and that only the holder of `secret` can make:
///   base64url(message_id) "." base64url(first 16 bytes of
///       HMAC-SHA256(secret, "unsubscribe:v1:" + message_id))
/// (RFC 4648 §5 without padding). For "msg_" + 20 characters: 32 + 1 + 22 = 55
/// URL-safe characters. The MAC is cut to 128 bits, the minimum RFC 2104 §5 allows
/// (half the hash), which keeps links short while forging stays a 2^128 guess; the
/// "unsubscribe:v1:" prefix keeps the MAC from being valid for any other use of the
/// secret and leaves room for a v2. `secret` must not be empty.
std::string make_unsubscribe_token(std::string_view secret, std::string_view message_id);

/// The message id inside `token` when `secret` signed it; std::nullopt when the token
/// is malformed (not two canonical base64url parts, empty id, wrong MAC length),
/// altered, signed with another secret, or `secret` is empty. The MAC comparison is
/// constant-time.
std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token);

/// `public_url` without trailing slashes + "/u/" + `token`, e.g.
/// ("https://mail.example.com/", "T") -> "https://mail.example.com/u/T".
std::string unsubscribe_url(std::string_view public_url, std::string_view token);

/// The two headers every bulk message carries, in this order:
///   {"List-Unsubscribe", "<URL>"} or, when `mailto` is not empty,
///   {"List-Unsubscribe", "<URL>, <mailto:MAILTO?subject=unsubscribe>"}
///   {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}
/// `url` comes from unsubscribe_url(); `mailto` is a normalized (ASCII) address.
/// Sources: RFC 2369 §3.2 (List-Unsubscribe), RFC 8058 §3.1 (one-click POST).
std::vector<std::pair<std::string, std::string>> list_unsubscribe_headers(std::string_view url,
                                                                          std::string_view mailto);

}  // namespace mailer::render
