#include <catch2/catch.hpp>

#include <map>

#include "mailer/http/problem.hpp"

using mailer::Error;
using mailer::ErrorCode;
using mailer::http::problem_for;

TEST_CASE("problem_for maps every ErrorCode to its status and type", "[http]") {
  const std::map<ErrorCode, int> expected{
      {ErrorCode::invalid_input, 400},      {ErrorCode::unauthorized, 401},       {ErrorCode::forbidden, 403},
      {ErrorCode::not_found, 404},          {ErrorCode::conflict, 409},           {ErrorCode::too_large, 413},
      {ErrorCode::unsupported_media, 415},  {ErrorCode::rate_limited, 429},       {ErrorCode::upstream_throttled, 502},
      {ErrorCode::upstream_transient, 502}, {ErrorCode::upstream_permanent, 502}, {ErrorCode::storage_unavailable, 503},
      {ErrorCode::internal, 500},
  };
  // A new ErrorCode must be added to the table above (and to problem_for).
  REQUIRE(expected.size() == static_cast<std::size_t>(ErrorCode::internal) + 1);
  for (const auto& [code, status] : expected) {
    auto problem = problem_for(Error{code, "why"});
    INFO(mailer::to_string(code));
    CHECK(problem.status == status);
    CHECK(problem.body["status"] == status);
    CHECK(problem.body["type"] == "https://mailerd.dev/problems/" + std::string(mailer::to_string(code)));
    CHECK_FALSE(problem.body["title"].get<std::string>().empty());
    CHECK((problem.body["title"] != "Internal error" || code == ErrorCode::internal));
  }
}

TEST_CASE("problem_for fills detail and errors[]", "[http]") {
  SECTION("validation errors list each field") {
    auto problem =
        problem_for(Error{ErrorCode::invalid_input, "bad batch", {{"recipients[3].email", "not an address"}}});
    CHECK(problem.body["detail"] == "bad batch");
    REQUIRE(problem.body["errors"].size() == 1);
    CHECK(problem.body["errors"][0]["field"] == "recipients[3].email");
    CHECK(problem.body["errors"][0]["message"] == "not an address");
    CHECK(problem.headers.empty());
  }
  SECTION("no fields, no errors member") {
    CHECK_FALSE(problem_for(Error{ErrorCode::not_found, "no such key"}).body.contains("errors"));
  }
  SECTION("internal hides its detail") {
    auto problem = problem_for(Error{ErrorCode::internal, "SELECT * FROM keys failed"});
    CHECK(problem.body["detail"].get<std::string>().find("SELECT") == std::string::npos);
  }
  SECTION("401 names the Bearer scheme") {
    auto problem = problem_for(Error{ErrorCode::unauthorized, "no key"});
    REQUIRE(problem.headers.size() == 1);
    CHECK(problem.headers[0].first == "WWW-Authenticate");
    CHECK(problem.headers[0].second.rfind("Bearer", 0) == 0);
  }
}

TEST_CASE("problem_for_status covers HTTP-level problems", "[http]") {
  auto problem = mailer::http::problem_for_status(405, "use GET");
  CHECK(problem.status == 405);
  CHECK(problem.body["type"] == "https://mailerd.dev/problems/method_not_allowed");
  CHECK(problem.body["title"] == "Method not allowed");
  CHECK(problem.body["detail"] == "use GET");
}
