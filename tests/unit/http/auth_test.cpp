#include <catch2/catch.hpp>

#include "mailer/http/auth.hpp"

using mailer::http::parse_bearer;

TEST_CASE("parse_bearer reads RFC 6750 Authorization values", "[http]") {
  CHECK(parse_bearer("Bearer mk_abc") == std::optional<std::string>("mk_abc"));
  CHECK(parse_bearer("bearer   mk_abc  ") == std::optional<std::string>("mk_abc"));
  CHECK_FALSE(parse_bearer(""));
  CHECK_FALSE(parse_bearer("Bearer"));
  CHECK_FALSE(parse_bearer("Bearer "));
  CHECK_FALSE(parse_bearer("Basic dXNlcjpwYXNz"));
  CHECK_FALSE(parse_bearer("Bearer two tokens"));
}

TEST_CASE("required_scope follows Access", "[http]") {
  using mailer::http::Access;
  using mailer::store::Scope;
  CHECK_FALSE(mailer::http::required_scope(Access::none));
  CHECK(mailer::http::required_scope(Access::read) == Scope::read);
  CHECK(mailer::http::required_scope(Access::send) == Scope::send);
  CHECK(mailer::http::required_scope(Access::admin) == Scope::admin);
}
