#pragma once
// CORS (Fetch standard, "CORS protocol"): which response headers a request from
// a browser origin gets. Pure, so the decision is tested without a server.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mailer::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// True when `origin` is listed in `allowed` (exact match) or `allowed` has "*".
bool origin_allowed(const std::vector<std::string>& allowed, std::string_view origin);

/// Headers for an ordinary response to a request with `origin` (empty: none):
/// Access-Control-Allow-Origin, Vary and Access-Control-Expose-Headers when the
/// origin is allowed; nothing otherwise.
HeaderList cors_headers(const std::vector<std::string>& allowed, std::string_view origin);

/// Headers for a preflight (OPTIONS) answer: the above plus Allow-Methods
/// (`methods` joined), Allow-Headers and Max-Age; nothing when not allowed.
HeaderList preflight_headers(const std::vector<std::string>& allowed, std::string_view origin,
                             const std::vector<std::string>& methods);

}  // namespace mailer::http
