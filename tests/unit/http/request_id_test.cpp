#include <catch2/catch.hpp>

#include "mailer/http/request_id.hpp"

using namespace mailer::http;

TEST_CASE("valid_request_id accepts 1..128 printable characters", "[http]") {
  CHECK(valid_request_id("abc-123_XYZ"));
  CHECK(valid_request_id(std::string(128, 'a')));
  CHECK_FALSE(valid_request_id(std::string(129, 'a')));
  CHECK_FALSE(valid_request_id(""));
  CHECK_FALSE(valid_request_id("has space"));
  CHECK_FALSE(valid_request_id("line\nbreak"));
  CHECK_FALSE(valid_request_id("caf\xc3\xa9"));
}

TEST_CASE("request_id_from keeps a valid id and replaces a bad one", "[http]") {
  CHECK(request_id_from("client-1") == "client-1");
  auto made = request_id_from("bad id");
  CHECK(made.rfind("req_", 0) == 0);
  CHECK(made.size() == 4 + 26);
  CHECK(valid_request_id(made));
  CHECK(make_request_id() != make_request_id());
}
