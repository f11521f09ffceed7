// The authorization matrix (issue #4 item 8): every keyed route × no key,
// revoked key, read, send and admin key, with the exact status each gets.
// Allowed calls use unknown ids or empty bodies so the answer is fixed (404,
// 400, 200) and nothing changes between calls. The table must cover every
// keyed route of the router, so a new route cannot skip the matrix.
#include "api_support.hpp"

#include <set>

#include "mailer/http/router.hpp"
#include "mailer/http/routes.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

struct Row {
  std::string method;
  std::string pattern;  // the router's pattern, for the coverage check
  std::string path;     // what is requested
  std::string body;     // sent as application/json when not empty
  std::string scope;    // the lowest scope allowed
  int allowed_status;   // what an allowed key gets
};

const std::vector<Row>& rows() {
  static const std::vector<Row> k_rows{
      {"GET", "/v1/templates", "/v1/templates", "", "read", 200},
      {"POST", "/v1/templates", "/v1/templates", "{}", "send", 400},
      {"GET", "/v1/templates/{id}", "/v1/templates/tmpl_x", "", "read", 404},
      {"PUT", "/v1/templates/{id}", "/v1/templates/tmpl_x", R"({"subject":"s","text":"t"})", "send", 404},
      {"DELETE", "/v1/templates/{id}", "/v1/templates/tmpl_x", "", "send", 404},
      {"GET", "/v1/templates/{id}/versions", "/v1/templates/tmpl_x/versions", "", "read", 404},
      {"POST", "/v1/templates/{id}/render", "/v1/templates/tmpl_x/render", "{}", "read", 404},
      {"GET", "/v1/batches", "/v1/batches", "", "read", 200},
      {"POST", "/v1/batches", "/v1/batches", "{}", "send", 400},
      {"GET", "/v1/batches/{id}", "/v1/batches/bat_x", "", "read", 404},
      {"GET", "/v1/batches/{id}/recipients", "/v1/batches/bat_x/recipients", "", "read", 404},
      {"GET", "/v1/batches/{id}/events", "/v1/batches/bat_x/events", "", "read", 404},
      {"POST", "/v1/batches/{id}/pause", "/v1/batches/bat_x/pause", "", "send", 404},
      {"POST", "/v1/batches/{id}/resume", "/v1/batches/bat_x/resume", "", "send", 404},
      {"POST", "/v1/batches/{id}/cancel", "/v1/batches/bat_x/cancel", "", "send", 404},
      {"POST", "/v1/messages", "/v1/messages", "{}", "send", 400},
      {"POST", "/v1/messages/batch", "/v1/messages/batch", "{}", "send", 400},
      {"GET", "/v1/messages/{id}", "/v1/messages/msg_x", "", "read", 404},
      {"GET", "/v1/events", "/v1/events", "", "read", 200},
      {"GET", "/v1/suppressions", "/v1/suppressions", "", "read", 200},
      {"POST", "/v1/suppressions", "/v1/suppressions", "{}", "send", 400},
      {"GET", "/v1/suppressions/{email}", "/v1/suppressions/x@example.com", "", "read", 404},
      {"DELETE", "/v1/suppressions/{email}", "/v1/suppressions/x@example.com", "", "admin", 404},
      {"GET", "/v1/admin/dlq", "/v1/admin/dlq", "", "admin", 200},
      {"POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/msg_x/retry", "", "admin", 404},
      {"DELETE", "/v1/admin/dlq", "/v1/admin/dlq", "", "admin", 400},
      {"DELETE", "/v1/admin/recipients/{email}", "/v1/admin/recipients/nobody@example.com", "", "admin", 200},
      {"GET", "/v1/admin/queue", "/v1/admin/queue", "", "admin", 200},
      {"GET", "/v1/admin/keys", "/v1/admin/keys", "", "admin", 200},
      {"POST", "/v1/admin/keys", "/v1/admin/keys", "{}", "admin", 400},
      {"DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/key_x", "", "admin", 404},
      {"GET", "/v1/admin/keys/{id}/audit", "/v1/admin/keys/key_x/audit", "", "admin", 404},
      {"GET", "/v1/me", "/v1/me", "", "read", 200},
      {"GET", "/v1/admin/metrics", "/v1/admin/metrics?period=24h", "", "admin", 200},
      {"GET", "/v1/admin/webhooks", "/v1/admin/webhooks", "", "admin", 200},
      {"POST", "/v1/admin/webhooks", "/v1/admin/webhooks", "{}", "admin", 400},
      {"GET", "/v1/admin/webhooks/{id}", "/v1/admin/webhooks/whk_x", "", "admin", 404},
      {"PATCH", "/v1/admin/webhooks/{id}", "/v1/admin/webhooks/whk_x", "{}", "admin", 404},
      {"DELETE", "/v1/admin/webhooks/{id}", "/v1/admin/webhooks/whk_x", "", "admin", 404},
      {"POST", "/v1/admin/webhooks/{id}/test", "/v1/admin/webhooks/whk_x/test", "", "admin", 404},
      {"GET", "/v1/admin/webhooks/{id}/deliveries", "/v1/admin/webhooks/whk_x/deliveries", "", "admin", 404},
      {"GET", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}", "/v1/admin/webhooks/whk_x/deliveries/whd_1", "",
       "admin", 404},
      {"POST", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/replay",
       "/v1/admin/webhooks/whk_x/deliveries/whd_1/replay", "", "admin", 404},
  };
  return k_rows;
}

int rank(const std::string& scope) { return scope == "read" ? 1 : scope == "send" ? 2 : 3; }

httplib::Result call(httplib::Client& client, const Row& row, const httplib::Headers& headers) {
  if (row.method == "GET") return client.Get(row.path.c_str(), headers);
  if (row.method == "DELETE") return client.Delete(row.path.c_str(), headers);
  if (row.method == "PUT") return client.Put(row.path.c_str(), headers, row.body, "application/json");
  if (row.method == "PATCH") return client.Patch(row.path.c_str(), headers, row.body, "application/json");
  return client.Post(row.path.c_str(), headers, row.body, "application/json");
}

}  // namespace

TEST_CASE("authorization matrix covers every keyed route", "[integration][api][authz]") {
  mailer::http::Router router;
  mailer::http::register_all_routes(router);
  std::set<std::string> keyed;
  for (const auto& route : router.routes()) {
    if (route.access != mailer::http::Access::none) keyed.insert(route.method + " " + route.pattern);
  }
  std::set<std::string> tabled;
  for (const auto& row : rows()) tabled.insert(row.method + " " + row.pattern);
  CHECK(tabled == keyed);
}

TEST_CASE("authorization matrix: exact statuses per route and key", "[integration][api][authz]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  std::map<std::string, KeyInfo> keys{{"read", mailerd.create_key("r", "read")},
                                      {"send", mailerd.create_key("s", "send")},
                                      {"admin", mailerd.create_key("a", "admin")}};
  auto revoked = mailerd.create_key("old", "admin");
  REQUIRE(mailerd.mailerctl({"keys", "revoke", revoked.id}).exit_code == 0);

  for (const auto& row : rows()) {
    INFO(row.method << " " << row.path);
    auto anonymous = call(*client, row, {});
    REQUIRE(anonymous);
    CHECK(anonymous->status == 401);
    auto with_revoked = call(*client, row, with_key(revoked.key));
    REQUIRE(with_revoked);
    CHECK(with_revoked->status == 401);
    for (const auto& [scope, key] : keys) {
      INFO("scope " << scope);
      auto res = call(*client, row, with_key(key.key));
      REQUIRE(res);
      CHECK(res->status == (rank(scope) >= rank(row.scope) ? row.allowed_status : 403));
    }
  }
}
