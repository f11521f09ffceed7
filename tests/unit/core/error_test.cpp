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

TEST_CASE("FieldErrors keeps the first 100 and counts the rest", "[core]") {
  mailer::FieldErrors errors;
  CHECK_FALSE(errors.omitted_note());
  for (int i = 0; i < 250; ++i) errors.push_back({"f" + std::to_string(i), "bad"});
  CHECK(errors.size() == 100);
  CHECK(errors.total() == 250);
  CHECK(errors[99].field == "f99");
  CHECK(errors.omitted_note() == mailer::FieldError{"...", "150 more errors not listed"});
  mailer::FieldErrors one_more(std::vector<mailer::FieldError>(101, {"f", "bad"}));
  CHECK(one_more.omitted_note()->message == "1 more error not listed");
}

TEST_CASE("FieldErrors::append keeps the other list's omitted count", "[core]") {
  mailer::FieldErrors errors{{"from", "required"}};
  mailer::FieldErrors recipients;
  for (int i = 0; i < 150; ++i) recipients.push_back({"recipients[" + std::to_string(i) + "]", "bad"});
  errors.append(std::move(recipients));
  CHECK(errors.size() == 100);
  CHECK(errors.total() == 151);
  CHECK(errors[0].field == "from");
  CHECK(errors[99].field == "recipients[98]");
  CHECK(errors.omitted_note()->message == "51 more errors not listed");
}
