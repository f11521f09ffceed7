#include <catch2/catch.hpp>

#include "mailer/core/ids.hpp"
#include "mailer/service/common.hpp"

using mailer::ErrorCode;
using namespace mailer::service;

TEST_CASE("to_page_query defaults, limits and cursors", "[service]") {
  auto defaults = to_page_query({});
  REQUIRE(defaults);
  CHECK(defaults->limit == 50);
  CHECK(defaults->after.empty());
  CHECK(defaults->offset == 0);

  auto with_cursor = to_page_query({10, encode_cursor("tmpl_X"), std::nullopt});
  REQUIRE(with_cursor);
  CHECK(with_cursor->after == "tmpl_X");
  CHECK(with_cursor->limit == 10);

  auto field_of = [](const PageParams& p) {
    auto r = to_page_query(p);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::invalid_input);
    REQUIRE(r.error().fields.size() == 1);
    return r.error().fields[0].field;
  };
  CHECK(field_of({0, "", std::nullopt}) == "limit");
  CHECK(field_of({1001, "", std::nullopt}) == "limit");
  CHECK(field_of({std::nullopt, "", -1}) == "offset");
  CHECK(field_of({std::nullopt, "!!not base64!!", std::nullopt}) == "cursor");
  CHECK(field_of({std::nullopt, encode_cursor("x"), 5}) == "cursor");
  // A bad cursor with an offset is one error, not two on the same field.
  auto both = to_page_query({std::nullopt, "x", 5}, mailer::ids::k_template);
  REQUIRE_FALSE(both);
  CHECK(both.error().fields == std::vector<mailer::FieldError>{{"cursor", "use cursor or offset, not both"}});
}

TEST_CASE("to_page_query refuses a cursor that is not an id of the list", "[service]") {
  // "abc" is valid base64url; the templates list paged from its bytes with 200
  // while the other lists answered 400.
  auto refused = [](const std::string& cursor, std::string_view prefix) {
    auto r = to_page_query({std::nullopt, cursor, std::nullopt}, prefix);
    if (r) return false;
    CHECK(r.error().code == ErrorCode::invalid_input);
    REQUIRE(r.error().fields.size() == 1);
    CHECK(r.error().fields[0].field == "cursor");
    return true;
  };
  std::string template_id = mailer::ids::make(mailer::ids::k_template);
  CHECK(refused("abc", mailer::ids::k_template));
  CHECK(refused(encode_cursor(mailer::ids::make(mailer::ids::k_batch)), mailer::ids::k_template));
  CHECK(refused(encode_cursor(template_id + "x"), mailer::ids::k_template));
  auto accepted = to_page_query({std::nullopt, encode_cursor(template_id), std::nullopt}, mailer::ids::k_template);
  REQUIRE(accepted);
  CHECK(accepted->after == template_id);
}

TEST_CASE("idempotency_request_hash separates method, route and body", "[service]") {
  auto base = idempotency_request_hash("POST", "/v1/batches", "{}");
  CHECK(base.size() == 64);
  CHECK(base == idempotency_request_hash("POST", "/v1/batches", "{}"));
  CHECK(base != idempotency_request_hash("POST", "/v1/messages", "{}"));
  CHECK(base != idempotency_request_hash("POST", "/v1/batches", "{ }"));
}
