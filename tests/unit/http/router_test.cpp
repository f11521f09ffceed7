#include <catch2/catch.hpp>

#include <stdexcept>

#include "mailer/http/router.hpp"

using namespace mailer::http;

namespace {

Router sample_router() {
  Router router;
  auto noop = [](const httplib::Request&, httplib::Response&, Context&) {};
  router.add({"GET", "/v1/admin/keys", Access::admin, BodyKind::none, noop});
  router.add({"POST", "/v1/admin/keys", Access::admin, BodyKind::json, noop});
  router.add({"DELETE", "/v1/admin/keys/{id}", Access::admin, BodyKind::none, noop});
  router.add({"GET", "/v1/admin/keys/{id}/audit", Access::admin, BodyKind::none, noop});
  router.add({"GET", "/v1/admin/dlq/{id}", Access::admin, BodyKind::none, noop});
  router.add({"DELETE", "/v1/admin/dlq/{id}", Access::admin, BodyKind::none, noop});
  router.add({"GET", "/v1/admin/dlq/purge", Access::admin, BodyKind::none, noop});
  return router;
}

}  // namespace

TEST_CASE("match_pattern binds {name} segments", "[http]") {
  auto params = match_pattern("/v1/admin/keys/{id}/audit", "/v1/admin/keys/key_1/audit");
  REQUIRE(params);
  CHECK(params->at("id") == "key_1");
  CHECK_FALSE(match_pattern("/v1/admin/keys/{id}", "/v1/admin/keys/"));
  CHECK_FALSE(match_pattern("/v1/admin/keys/{id}", "/v1/admin/keys/a/b"));
  CHECK_FALSE(match_pattern("/health", "/health/"));
  CHECK(match_pattern("/health", "/health"));
}

TEST_CASE("match_pattern splits the encoded path before decoding its values", "[http]") {
  auto params = match_pattern("/v1/suppressions/{email}", "/v1/suppressions/a%2Fb%40example.com");
  REQUIRE(params);
  CHECK(params->at("email") == "a/b@example.com");
  auto plus = match_pattern("/v1/suppressions/{email}", "/v1/suppressions/a+b@example.com");
  REQUIRE(plus);
  CHECK(plus->at("email") == "a+b@example.com");  // '+' is not a space in a path
  CHECK_FALSE(match_pattern("/v1/suppressions/{email}", "/v1/suppressions/a/b@example.com"));
}

TEST_CASE("Router::match tells 404 from 405", "[http]") {
  auto router = sample_router();
  SECTION("known path and method") {
    auto m = router.match("DELETE", "/v1/admin/keys/key_9");
    REQUIRE(m.route != nullptr);
    CHECK(m.route->pattern == "/v1/admin/keys/{id}");
    CHECK(m.params.at("id") == "key_9");
  }
  SECTION("unknown path") {
    auto m = router.match("GET", "/v1/nothing");
    CHECK(m.route == nullptr);
    CHECK(m.allowed_methods.empty());
  }
  SECTION("known path, wrong method lists the allowed ones") {
    auto m = router.match("PUT", "/v1/admin/keys");
    CHECK(m.route == nullptr);
    CHECK(m.allowed_methods == std::vector<std::string>{"GET", "POST"});
  }
  SECTION("HEAD uses GET routes") { CHECK(router.match("HEAD", "/v1/admin/keys").route != nullptr); }
  SECTION("a literal segment beats a parameter") {
    auto m = router.match("GET", "/v1/admin/dlq/purge");
    REQUIRE(m.route != nullptr);
    CHECK(m.route->pattern == "/v1/admin/dlq/purge");
  }
  SECTION("the literal pattern owns its path: other methods are 405, not the parameter's route") {
    auto m = router.match("DELETE", "/v1/admin/dlq/purge");
    CHECK(m.route == nullptr);
    CHECK(m.allowed_methods == std::vector<std::string>{"GET"});
    auto posted = router.match("POST", "/v1/admin/keys/key_9");  // {id} alone still lists its methods
    CHECK(posted.allowed_methods == std::vector<std::string>{"DELETE"});
  }
}

TEST_CASE("Router::add rejects malformed and duplicate routes", "[http]") {
  Router router;
  auto noop = [](const httplib::Request&, httplib::Response&, Context&) {};
  router.add({"GET", "/a/{id}", Access::none, BodyKind::none, noop});
  CHECK_THROWS_AS(router.add({"GET", "/a/{id}", Access::none, BodyKind::none, noop}), std::invalid_argument);
  CHECK_THROWS_AS(router.add({"GET", "a", Access::none, BodyKind::none, noop}), std::invalid_argument);
  CHECK_THROWS_AS(router.add({"GET", "/a/{}", Access::none, BodyKind::none, noop}), std::invalid_argument);
}

TEST_CASE("Router::match names the path's pattern for any method", "[http]") {
  auto router = sample_router();
  CHECK(router.match("OPTIONS", "/v1/admin/keys/key_1/audit").pattern == "/v1/admin/keys/{id}/audit");
  CHECK(router.match("GET", "/v1/admin/dlq/purge").pattern == "/v1/admin/dlq/purge");
  CHECK(router.match("GET", "/elsewhere").pattern.empty());
}
