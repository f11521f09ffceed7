// SigV4 signing, step by step as in the IAM User Guide
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv_create-signed-request.html):
// canonical request -> string to sign -> derived key -> signature -> header.
//
// NOTE: the canonical URI encodes the wire path once more instead of decoding
// it first. The official suite cannot tell the two apart (its paths hold no
// '%'), but SES can: a decode-first signer fails on any escaped path label.
// The query, by contrast, is decoded once and encoded once (not doubled).
#include "mailer/aws/sigv4.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "mailer/core/text.hpp"

namespace mailer::aws {

namespace {

bool is_unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

// Trim, then collapse every inner run of blanks to one space (quotes included,
// as the suite's get-header-value-trim expects).
std::string canonical_header_value(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (is_blank(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t pos = text.find(sep, start);
    out.emplace_back(text.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

std::string uri_encode(std::string_view bytes, bool keep_slash) {
  static constexpr char k_hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(bytes.size());
  for (char ch : bytes) {
    auto c = static_cast<unsigned char>(ch);
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(k_hex[c >> 4]);
      out.push_back(k_hex[c & 0x0F]);
    }
  }
  return out;
}

std::string uri_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int hi = hex_value(text[i + 1]);
      int lo = hex_value(text[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(text[i]);
  }
  return out;
}

std::string normalize_path(std::string_view path) {
  std::vector<std::string> kept;
  for (auto& segment : split(path, '/')) {
    if (segment.empty() || segment == ".") continue;
    if (segment == "..") {
      if (!kept.empty()) kept.pop_back();
      continue;
    }
    kept.push_back(std::move(segment));
  }
  std::string out;
  for (const auto& segment : kept) out += "/" + segment;
  if (out.empty()) return "/";
  if (path.size() > 1 && path.back() == '/') out.push_back('/');
  return out;
}

std::string canonical_uri(std::string_view wire_path) { return uri_encode(normalize_path(wire_path), true); }

std::string canonical_query(std::string_view raw_query) {
  if (raw_query.empty()) return {};
  std::vector<std::pair<std::string, std::string>> pairs;
  for (const auto& item : split(raw_query, '&')) {
    if (item.empty()) continue;
    auto eq = item.find('=');
    std::string name = item.substr(0, eq);
    std::string value = eq == std::string::npos ? std::string() : item.substr(eq + 1);
    pairs.emplace_back(uri_encode(uri_decode(name), false), uri_encode(uri_decode(value), false));
  }
  std::sort(pairs.begin(), pairs.end());  // bytewise: name, then value
  std::string out;
  for (const auto& [name, value] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += name + "=" + value;
  }
  return out;
}

CanonicalHeaders canonical_headers(const std::vector<Header>& headers) {
  std::map<std::string, std::string> merged;  // sorted by lower-cased name
  for (const auto& [name, value] : headers) {
    auto [it, inserted] = merged.try_emplace(text::ascii_lower(text::trim_blanks(name)), canonical_header_value(value));
    if (!inserted) it->second += "," + canonical_header_value(value);
  }
  CanonicalHeaders out;
  for (const auto& [name, value] : merged) {
    out.block += name + ":" + value + "\n";
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers += name;
  }
  return out;
}

std::string canonical_request(const SigningRequest& request) {
  auto headers = canonical_headers(request.headers);
  return request.method + "\n" + canonical_uri(request.path) + "\n" + canonical_query(request.query) + "\n" +
         headers.block + "\n" + headers.signed_headers + "\n" + crypto::sha256_hex(request.body);
}

std::string credential_scope(const SigningScope& scope) {
  return scope.amz_date.substr(0, 8) + "/" + scope.region + "/" + scope.service + "/aws4_request";
}

std::string string_to_sign(const SigningScope& scope, std::string_view creq) {
  return std::string(k_sigv4_algorithm) + "\n" + scope.amz_date + "\n" + credential_scope(scope) + "\n" +
         crypto::sha256_hex(creq);
}

crypto::Sha256Digest signing_key(std::string_view secret_access_key, const SigningScope& scope) {
  std::string seed = "AWS4" + std::string(secret_access_key);
  auto k_date = crypto::hmac_sha256(seed, scope.amz_date.substr(0, 8));
  crypto::wipe(seed);
  auto k_region = crypto::hmac_sha256(crypto::as_bytes(k_date), scope.region);
  auto k_service = crypto::hmac_sha256(crypto::as_bytes(k_region), scope.service);
  return crypto::hmac_sha256(crypto::as_bytes(k_service), "aws4_request");
}

Signature sign(const SigningRequest& request, const SigningScope& scope, std::string_view access_key_id,
               std::string_view secret_access_key) {
  Signature out;
  out.canonical_request = canonical_request(request);
  out.string_to_sign = string_to_sign(scope, out.canonical_request);
  auto key = signing_key(secret_access_key, scope);
  out.signature = crypto::hex(crypto::hmac_sha256(crypto::as_bytes(key), out.string_to_sign));
  out.signed_headers = canonical_headers(request.headers).signed_headers;
  out.authorization = std::string(k_sigv4_algorithm) + " Credential=" + std::string(access_key_id) + "/" +
                      credential_scope(scope) + ", SignedHeaders=" + out.signed_headers +
                      ", Signature=" + out.signature;
  return out;
}

std::string format_amz_date(std::chrono::system_clock::time_point t) {
  std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y%m%dT%H%M%SZ", &parts);
  return buffer;
}

void add_signature_headers(std::vector<Header>& headers, std::string_view method, std::string_view wire_path,
                           std::string_view raw_query, std::string_view body, const SigningScope& scope,
                           std::string_view access_key_id, std::string_view secret_access_key,
                           std::string_view session_token) {
  headers.emplace_back("X-Amz-Date", scope.amz_date);
  if (!session_token.empty()) headers.emplace_back("X-Amz-Security-Token", session_token);
  SigningRequest request{std::string(method), std::string(wire_path), std::string(raw_query), headers, body};
  auto signature = sign(request, scope, access_key_id, secret_access_key);
  headers.emplace_back("Authorization", std::move(signature.authorization));
}

ParsedAuthorization parse_authorization(std::string_view value) {
  ParsedAuthorization out;
  std::string prefix = std::string(k_sigv4_algorithm) + " ";
  if (value.substr(0, prefix.size()) != prefix) return out;
  value.remove_prefix(prefix.size());
  std::string credential;
  std::string signed_list;
  for (const auto& part : split(value, ',')) {
    auto item = text::trim_blanks(part);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) return out;
    auto key = item.substr(0, eq);
    auto val = std::string(item.substr(eq + 1));
    if (key == "Credential") credential = val;
    else if (key == "SignedHeaders") signed_list = val;
    else if (key == "Signature") out.signature = val;
  }
  auto scope = split(credential, '/');
  if (scope.size() != 5 || scope[4] != "aws4_request" || signed_list.empty() || out.signature.size() != 64) {
    return out;
  }
  out.access_key_id = scope[0];
  out.date = scope[1];
  out.region = scope[2];
  out.service = scope[3];
  out.signed_headers = split(signed_list, ';');
  out.ok = true;
  return out;
}

}  // namespace mailer::aws
