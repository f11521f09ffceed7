#pragma once
// URL syntax for configured endpoints, parsed by libcurl's URL API so the
// text a request will use is read by the same parser that sends it.

#include <string>
#include <string_view>

#include "mailer/core/error.hpp"

namespace mailer::net {

struct UrlParts {
  std::string scheme;    // lower case, e.g. "https"
  std::string user;      // "user" or "user:password"; "" when the URL has no user info
  std::string host;      // as written; an IPv6 literal keeps its brackets
  std::string port;      // "" when the URL names none
  std::string path;      // "/" at least; as written (no dot-segment removal)
  std::string query;     // without '?'
  std::string fragment;  // without '#'
};

/// `text` split by curl_url with any scheme allowed and no default scheme, no
/// percent-decoding. Errors (invalid_input) name the part curl refused, for
/// example "port is not a number in 1-65535", "has a malformed IPv6 address",
/// "has no host", "has a bad host name", "is not a URL".
Result<UrlParts> parse_url(std::string_view text);

}  // namespace mailer::net
