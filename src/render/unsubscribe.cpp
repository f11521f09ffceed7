#include "mailer/render/unsubscribe.hpp"

#include "mailer/crypto/crypto.hpp"

namespace mailer::render {

namespace {

constexpr std::string_view k_mac_context = "unsubscribe:v1:";
constexpr std::size_t k_mac_bytes = 16;

std::string mac_of(std::string_view secret, std::string_view message_id) {
  std::string data(k_mac_context);
  data += message_id;
  const auto digest = crypto::hmac_sha256(secret, data);
  return std::string(crypto::as_bytes(digest).substr(0, k_mac_bytes));
}

/// Decodes `text` only when it is the one encoding of its bytes: a decoder that ignores
/// the unused low bits of the last character would let several tokens stand for one.
std::optional<std::string> decode_canonical(std::string_view text) {
  std::string bytes;
  if (!crypto::base64url_decode(text, bytes)) return std::nullopt;
  if (crypto::base64url_encode(bytes) != text) return std::nullopt;
  return bytes;
}

}  // namespace

std::string make_unsubscribe_token(std::string_view secret, std::string_view message_id) {
  return crypto::base64url_encode(message_id) + "." + crypto::base64url_encode(mac_of(secret, message_id));
}

std::optional<std::string> verify_unsubscribe_token(std::string_view secret, std::string_view token) {
  if (secret.empty()) return std::nullopt;
  const auto dot = token.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  auto message_id = decode_canonical(token.substr(0, dot));
  auto mac = decode_canonical(token.substr(dot + 1));
  if (!message_id || !mac || message_id->empty() || mac->size() != k_mac_bytes) return std::nullopt;
  if (!crypto::constant_time_equal(*mac, mac_of(secret, *message_id))) return std::nullopt;
  return message_id;
}

std::string unsubscribe_url(std::string_view public_url, std::string_view token) {
  while (!public_url.empty() && public_url.back() == '/') public_url.remove_suffix(1);
  std::string url(public_url);
  url += "/u/";
  url += token;
  return url;
}

std::vector<std::pair<std::string, std::string>> list_unsubscribe_headers(std::string_view url,
                                                                          std::string_view mailto) {
  std::string value = "<" + std::string(url) + ">";
  // RFC 2369 §3.2: several URLs, most preferred first; HTTPS first so that RFC 8058
  // one-click receivers use it.
  if (!mailto.empty()) value += ", <mailto:" + std::string(mailto) + "?subject=unsubscribe>";
  return {{"List-Unsubscribe", std::move(value)}, {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}};
}

}  // namespace mailer::render
