// GET /v1/me: a client holding only a key learns whose it is and its scope.
#include "api_support.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

TEST_CASE("GET /v1/me names the calling key and its scope", "[integration][api]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto reader = mailerd.create_key("dashboard-reader", "read");
  auto me = body_of(get(*client, "/v1/me", reader.key));
  CHECK(me["id"] == reader.id);
  CHECK(me["name"] == "dashboard-reader");
  CHECK(me["scope"] == "read");
  CHECK_FALSE(me.contains("key"));
  require_problem(client->Get("/v1/me"), 401, "unauthorized");
}
