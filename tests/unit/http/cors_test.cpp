#include <catch2/catch.hpp>

#include "mailer/http/cors.hpp"

using namespace mailer::http;

namespace {
std::string header(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers)
    if (n == name) return v;
  return "";
}
}  // namespace

TEST_CASE("cors_headers answers only allowed origins", "[http]") {
  std::vector<std::string> allowed{"https://app.example.com"};
  SECTION("allowed origin is echoed with Vary") {
    auto h = cors_headers(allowed, "https://app.example.com");
    CHECK(header(h, "Access-Control-Allow-Origin") == "https://app.example.com");
    CHECK(header(h, "Vary") == "Origin");
    CHECK(header(h, "Access-Control-Expose-Headers").find("X-Request-Id") != std::string::npos);
  }
  SECTION("other origin, no origin, empty list: nothing") {
    CHECK(cors_headers(allowed, "https://evil.example.com").empty());
    CHECK(cors_headers(allowed, "").empty());
    CHECK(cors_headers({}, "https://app.example.com").empty());
  }
  SECTION("wildcard allows any origin") { CHECK(origin_allowed({"*"}, "https://x.example")); }
}

TEST_CASE("preflight_headers lists methods and request headers", "[http]") {
  auto h = preflight_headers({"https://a.example"}, "https://a.example", {"GET", "POST", "OPTIONS"});
  CHECK(header(h, "Access-Control-Allow-Methods") == "GET, POST, OPTIONS");
  CHECK(header(h, "Access-Control-Allow-Headers").find("Authorization") != std::string::npos);
  CHECK(header(h, "Access-Control-Max-Age") == "600");
  CHECK(preflight_headers({"https://a.example"}, "https://b.example", {"GET"}).empty());
}
