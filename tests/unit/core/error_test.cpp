#include <catch2/catch.hpp>

#include "mailer/core/error.hpp"

using mailer::ErrorCode;

TEST_CASE("Result holds a value or an error", "[core]") {
  mailer::Result<int> ok = 3;
  REQUIRE(ok);
  CHECK(*ok == 3);
  mailer::Result<int> bad = mailer::make_error(ErrorCode::not_found, "no such batch");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::not_found);
  CHECK(bad.error().detail == "no such batch");
}

TEST_CASE("to_string(ErrorCode) names every code", "[core]") {
  CHECK(mailer::to_string(ErrorCode::upstream_throttled) == "upstream_throttled");
  CHECK(mailer::to_string(ErrorCode::storage_unavailable) == "storage_unavailable");
}
