#include "mailer/net/url.hpp"

#include <curl/curl.h>

#include <memory>

#include "mailer/core/text.hpp"

namespace mailer::net {
namespace {

struct CurlUrlFree {
  void operator()(CURLU* url) const noexcept { curl_url_cleanup(url); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlFree>;

std::string reason(CURLUcode code) {
  switch (code) {
    case CURLUE_BAD_PORT_NUMBER: return "port is not a number in 1-65535";
    case CURLUE_BAD_IPV6: return "has a malformed IPv6 address";
    case CURLUE_NO_HOST: return "has no host";
    case CURLUE_BAD_HOSTNAME: return "has a bad host name";
    case CURLUE_BAD_SCHEME: return "has a bad scheme";
    case CURLUE_BAD_LOGIN:
    case CURLUE_BAD_USER:
    case CURLUE_BAD_PASSWORD: return "must not contain user info";
    case CURLUE_MALFORMED_INPUT: return "is not a URL (whitespace or control characters?)";
    default: return std::string("is not a URL (") + curl_url_strerror(code) + ")";
  }
}

// One part, or "" when the URL has none (curl answers CURLUE_NO_*).
std::string part(CURLU* url, CURLUPart which) {
  char* value = nullptr;
  if (curl_url_get(url, which, &value, 0) != CURLUE_OK || value == nullptr) return "";
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

Result<UrlParts> parse_url(std::string_view text) {
  CurlUrl url(curl_url());
  if (!url) return make_error(ErrorCode::internal, "curl_url: out of memory");
  // NOTE: curl_url_set needs a NUL-terminated string, so an embedded NUL
  // would silently cut the text short; refuse it here instead.
  if (text.find('\0') != std::string_view::npos) {
    return make_error(ErrorCode::invalid_input, "must not contain a NUL byte");
  }
  const std::string copy(text);
  if (auto code = curl_url_set(url.get(), CURLUPART_URL, copy.c_str(), CURLU_NON_SUPPORT_SCHEME | CURLU_PATH_AS_IS);
      code != CURLUE_OK) {
    return make_error(ErrorCode::invalid_input, reason(code));
  }
  UrlParts out;
  out.scheme = text::ascii_lower(part(url.get(), CURLUPART_SCHEME));
  out.user = part(url.get(), CURLUPART_USER);
  if (auto password = part(url.get(), CURLUPART_PASSWORD); !password.empty()) out.user += ":" + password;
  out.host = part(url.get(), CURLUPART_HOST);
  out.port = part(url.get(), CURLUPART_PORT);
  out.path = part(url.get(), CURLUPART_PATH);
  out.query = part(url.get(), CURLUPART_QUERY);
  out.fragment = part(url.get(), CURLUPART_FRAGMENT);
  return out;
}

}  // namespace mailer::net
