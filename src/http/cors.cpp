#include "mailer/http/cors.hpp"

#include <algorithm>

#include "mailer/core/text.hpp"

namespace mailer::http {

bool origin_allowed(const std::vector<std::string>& allowed, std::string_view origin) {
  if (origin.empty()) return false;
  return std::any_of(allowed.begin(), allowed.end(), [&](const std::string& a) { return a == "*" || a == origin; });
}

HeaderList cors_headers(const std::vector<std::string>& allowed, std::string_view origin) {
  if (!origin_allowed(allowed, origin)) return {};
  // The origin is echoed rather than "*" so one rule serves credentialed and
  // plain requests; Vary keeps shared caches from mixing origins.
  return {{"Access-Control-Allow-Origin", std::string(origin)},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers",
           "X-Request-Id, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, "
           "Location, Idempotent-Replayed"}};
}

HeaderList preflight_headers(const std::vector<std::string>& allowed, std::string_view origin,
                             const std::vector<std::string>& methods) {
  auto headers = cors_headers(allowed, origin);
  if (headers.empty()) return headers;
  headers.emplace_back("Access-Control-Allow-Methods", text::join(methods, ", "));
  headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key, X-Request-Id");
  headers.emplace_back("Access-Control-Max-Age", "600");
  return headers;
}

}  // namespace mailer::http
