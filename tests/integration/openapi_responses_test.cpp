// docs/openapi.yaml against the real server: every route of a running mailerd
// (with mailer-fake-ses, a loopback SNS certificate server and the webhook
// receiver) is called for every status the document declares, each answer is
// recorded, and tests/openapi/validate_responses.js checks the record with Ajv
// (JSON Schema 2020-12), which shares no code with mailerd: body schemas,
// media types, required headers (RateLimit-*, Allow, Retry-After, ...), no
// undeclared status, and no declared (operation, status) left unexercised.
//
// The generic refusals (400 for a repeated query parameter, 401, 403, 405,
// 413, 415, 429) are driven from one table of operations; the rest (success,
// 404, 409 and the public routes' own answers) are one scenario each.
#include "engine_e2e.hpp"

#include <algorithm>
#include <fstream>

#include <SQLiteCpp/SQLiteCpp.h>

#include "support/sns_signer.hpp"
#include "support/webhook_receiver.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

enum class Body { none, json, optional_json };

// One operation of the document, called on an existing resource.
struct Operation {
  std::string method;
  std::string path;      // the document's template
  std::string concrete;  // a path that reaches the handler
  std::string scope;     // "read", "send", "admin", or "" for public
  Body body = Body::none;
  std::string valid_body = "{}";
  bool declares_413 = false;
};

class Recorder {
 public:
  explicit Recorder(int port) { retarget(port); }

  // Sends the next calls to the mailerd on `port`.
  void retarget(int port) {
    m_client = std::make_unique<httplib::Client>("127.0.0.1", port);
    m_client->set_read_timeout(std::chrono::seconds(10));
    m_client->set_connection_timeout(std::chrono::seconds(5));
  }

  // Sends METHOD `target` and records the answer under the document's `path`;
  // REQUIREs `expected`. Returns the body parsed when it is JSON.
  json call(const std::string& method, const std::string& path, const std::string& target, int expected,
            httplib::Headers headers = {}, const std::string& body = "",
            const std::string& content_type = "application/json") {
    auto res = send(method, target, headers, body, content_type);
    REQUIRE(res);
    INFO(method << " " << target << " -> " << res->status << ": " << res->body);
    REQUIRE(res->status == expected);
    json names = json::object();
    for (const auto& [name, value] : res->headers) {
      auto lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      // A header sent twice becomes "a, b", which no integer schema accepts.
      names[lower] = names.contains(lower) ? names[lower].get<std::string>() + ", " + value : value;
    }
    m_records.push_back(
        {{"method", method}, {"path", path}, {"status", res->status}, {"headers", names}, {"body", res->body}});
    auto type = res->get_header_value("Content-Type");
    return type.find("json") != std::string::npos ? json::parse(res->body) : json();
  }

  void write(const std::filesystem::path& file) const { std::ofstream(file) << m_records.dump(2); }

 private:
  httplib::Result send(const std::string& method, const std::string& target, const httplib::Headers& headers,
                       const std::string& body, const std::string& content_type) {
    if (method == "GET") return m_client->Get(target.c_str(), headers);
    if (method == "POST") return m_client->Post(target.c_str(), headers, body, content_type.c_str());
    if (method == "PUT") return m_client->Put(target.c_str(), headers, body, content_type.c_str());
    if (method == "PATCH") return m_client->Patch(target.c_str(), headers, body, content_type.c_str());
    if (method == "DELETE") return m_client->Delete(target.c_str(), headers, body, content_type.c_str());
    FAIL("no such method in the recorder: " << method);
    return m_client->Get("/");
  }

  std::unique_ptr<httplib::Client> m_client;
  json m_records = json::array();
};

httplib::Headers key_header(const std::string& key) { return {{"Authorization", "Bearer " + key}}; }

std::string with_query(const std::string& target, const std::string& query) {
  return target + (target.find('?') == std::string::npos ? "?" : "&") + query;
}

// A method the path has no operation for: the one answer of 405.
std::string missing_method(const std::vector<Operation>& ops, const std::string& path) {
  for (std::string method : {"PATCH", "PUT", "DELETE", "POST", "GET"}) {
    bool taken =
        std::any_of(ops.begin(), ops.end(), [&](const auto& op) { return op.path == path && op.method == method; });
    if (!taken) return method;
  }
  FAIL("every method taken on " << path);
  return "";
}

// "<http://127.0.0.1:8080/u/TOKEN>" -> "/u/TOKEN"
std::string unsubscribe_path(const std::string& list_unsubscribe) {
  auto start = list_unsubscribe.find("/u/");
  return list_unsubscribe.substr(start, list_unsubscribe.find('>', start) - start);
}

struct Keys {
  std::string admin;
  std::string reader;
  std::string spent;  // an admin key whose allowance is used up
  std::string watch;  // an admin key for polls, which are not recorded
};

// 400 (a repeated query parameter), 401, 403, 405, 413, 415 and 429 on every
// operation that declares them.
void call_refusals(Recorder& api, const std::vector<Operation>& ops, const Keys& keys) {
  const std::string big = json{{"padding", std::string(70 * 1024, 'x')}}.dump();
  std::set<std::string> paths;
  for (const auto& op : ops) {
    INFO(op.method << " " << op.path);
    bool keyed = !op.scope.empty();
    auto key = keyed ? key_header(keys.admin) : httplib::Headers{};
    auto body = op.body == Body::none ? std::string() : op.valid_body;
    api.call(op.method, op.path, with_query(op.concrete, "limit=1&limit=1"), 400, key, body);
    if (keyed) {
      api.call(op.method, op.path, op.concrete, 401, {}, body);
      api.call(op.method, op.path, op.concrete, 429, key_header(keys.spent), body);
    }
    if (keyed && op.scope != "read") api.call(op.method, op.path, op.concrete, 403, key_header(keys.reader), body);
    if (op.body != Body::none && keyed) api.call(op.method, op.path, op.concrete, 415, key, "x=1", "text/plain");
    if (op.declares_413) api.call(op.method, op.path, op.concrete, 413, key, big);
    if (paths.insert(op.path).second) api.call(missing_method(ops, op.path), op.path, op.concrete, 405, key);
  }
}

}  // namespace

TEST_CASE("openapi: every route and every documented status validate against docs/openapi.yaml",
          "[integration][openapi]") {
  auto install = run_command(
      {"/bin/sh", std::string(MAILER_SOURCE_DIR) + "/tests/openapi/install.sh", std::string(MAILER_OPENAPI_DIR)});
  INFO(install.output << install.errors);
  REQUIRE(install.exit_code == 0);

  sns_fixtures::CertServer certs;
  WebhookReceiver receiver;
  FakeSesFixture fake({.args = {"--reject-address", "dead@example.com"}});
  auto env = base_env(fake);
  const auto topics = sns_fixtures::topic_allowlist();
  for (auto& [name, value] : Env{{"MAILER_API_RATE_LIMIT_PER_SECOND", "0.001"},
                                 {"MAILER_API_RATE_LIMIT_BURST", "2000"},
                                 {"MAILER_SERVER_MAX_BODY_BYTES", "65536"},
                                 {"MAILER_SNS_TOPIC_ARNS", topics[0] + "," + topics[1]},
                                 {"MAILER_SNS_CERT_HOST_PATTERN", R"(^127\.0\.0\.1$)"},
                                 {"MAILER_SNS_ALLOW_HTTP", "true"},
                                 {"MAILER_SNS_AUTO_CONFIRM", "false"},
                                 {"MAILER_WEBHOOKS_ALLOW_HTTP", "true"},
                                 {"MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"}})
    env[name] = value;
  MailerdFixture mailerd(MailerdOptions{env, {}});
  Keys keys{mailerd.create_key("admin", "admin").key, mailerd.create_key("reader", "read").key,
            mailerd.create_key("spent", "admin").key, mailerd.create_key("watch", "admin").key};
  Recorder api(mailerd.port());
  const auto admin = key_header(keys.admin);
  const auto watch = key_header(keys.watch);
  // The spent key's bucket of 2,000 refills one token in 1,000 s.
  {
    auto client = mailerd.client();
    for (int i = 0; i < 2000; ++i) REQUIRE(client->Get("/v1/nothing", key_header(keys.spent)));
  }

  // Resources for the table: a template, a scheduled batch, a message, a
  // suppression, a DLQ entry, a webhook endpoint with a delivery, a key.
  auto tmpl = api.call("POST", "/v1/templates", "/v1/templates", 201, admin,
                       json{{"name", "welcome"}, {"subject", "Hi {{name}}"}, {"text", "Hi {{name}}"}}.dump());
  const std::string tmpl_id = tmpl.at("id");
  auto scheduled = api.call("POST", "/v1/batches", "/v1/batches", 202, admin,
                            json{{"template_id", tmpl_id},
                                 {"from", "Shop <news@example.com>"},
                                 {"recipients", {"ana@example.com"}},
                                 {"send_at", "2099-01-01T09:00:00Z"}}
                                .dump());
  const std::string batch_id = scheduled.at("id");
  const json message = {{"from", "Shop <orders@example.com>"},
                        {"to", "dead@example.com"},
                        {"content", {{"subject", "Receipt"}, {"text", "Thanks"}}}};
  auto accepted = api.call("POST", "/v1/messages", "/v1/messages", 202,
                           {{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "m1"}}, message.dump());
  const std::string message_id = accepted.at("id");
  api.call(
      "POST", "/v1/messages", "/v1/messages", 409,
      {{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "m1"}},
      json{{"from", "Shop <orders@example.com>"}, {"to", "other@example.com"}, {"content", message["content"]}}.dump());
  REQUIRE(wait_until(
      [&] {
        auto client = mailerd.client();
        auto res = client->Get(("/v1/messages/" + message_id).c_str(), watch);
        return res && json::parse(res->body).value("status", "") == "failed";
      },
      std::chrono::seconds(30)));
  api.call("POST", "/v1/suppressions", "/v1/suppressions", 201, admin, json{{"email", "gone@example.com"}}.dump());
  auto endpoint =
      api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 201, admin, json{{"url", receiver.url()}}.dump());
  const std::string endpoint_id = endpoint.at("id");
  receiver.control({{"secret", endpoint.at("secret")}});
  auto test_delivery =
      api.call("POST", "/v1/admin/webhooks/{id}/test", "/v1/admin/webhooks/" + endpoint_id + "/test", 202, admin);
  const std::string delivery_id = test_delivery.at("id");
  const std::string webhook_base = "/v1/admin/webhooks/" + endpoint_id;
  REQUIRE(wait_until(
      [&] {
        auto res = mailerd.client()->Get((webhook_base + "/deliveries/" + delivery_id).c_str(), watch);
        return res && json::parse(res->body).value("status", "") == "delivered";
      },
      std::chrono::seconds(30)));
  auto new_key = api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, admin,
                          json{{"name", "short-lived"}, {"scope", "read"}}.dump());
  const std::string key_id = new_key.at("id");

  const std::string t = "/v1/templates/" + tmpl_id;
  const std::string b = "/v1/batches/" + batch_id;
  const std::string d = webhook_base + "/deliveries/" + delivery_id;
  const std::string template_body = json{{"subject", "Hello"}, {"text", "Hello"}}.dump();
  const std::vector<Operation> ops = {
      {"GET", "/health", "/health", ""},
      {"GET", "/ready", "/ready", ""},
      {"GET", "/metrics", "/metrics", ""},
      {"POST", "/v1/templates", "/v1/templates", "send", Body::json, template_body, true},
      {"GET", "/v1/templates", "/v1/templates", "read"},
      {"GET", "/v1/templates/{id}", t, "read"},
      {"PUT", "/v1/templates/{id}", t, "send", Body::json, template_body, true},
      {"DELETE", "/v1/templates/{id}", t, "send"},
      {"GET", "/v1/templates/{id}/versions", t + "/versions", "read"},
      {"POST", "/v1/templates/{id}/render", t + "/render", "read", Body::json, "{}", true},
      {"POST", "/v1/batches", "/v1/batches", "send", Body::json, "{}", true},
      {"GET", "/v1/batches", "/v1/batches", "read"},
      {"GET", "/v1/batches/{id}", b, "read"},
      {"GET", "/v1/batches/{id}/recipients", b + "/recipients", "read"},
      {"GET", "/v1/batches/{id}/events", b + "/events", "read"},
      {"POST", "/v1/batches/{id}/pause", b + "/pause", "send", Body::optional_json},
      {"POST", "/v1/batches/{id}/resume", b + "/resume", "send"},
      {"POST", "/v1/batches/{id}/cancel", b + "/cancel", "send"},
      {"POST", "/v1/messages", "/v1/messages", "send", Body::json, message.dump(), true},
      {"GET", "/v1/messages/{id}", "/v1/messages/" + message_id, "read"},
      {"GET", "/v1/events", "/v1/events", "read"},
      {"GET", "/v1/suppressions", "/v1/suppressions", "read"},
      {"POST", "/v1/suppressions", "/v1/suppressions", "send", Body::json, "{}", true},
      {"GET", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", "read"},
      {"DELETE", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", "admin"},
      {"GET", "/v1/admin/dlq", "/v1/admin/dlq", "admin"},
      {"DELETE", "/v1/admin/dlq", "/v1/admin/dlq?all=true", "admin"},
      {"POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/" + message_id + "/retry", "admin"},
      {"GET", "/v1/admin/queue", "/v1/admin/queue", "admin"},
      {"GET", "/v1/admin/webhooks", "/v1/admin/webhooks", "admin"},
      {"POST", "/v1/admin/webhooks", "/v1/admin/webhooks", "admin", Body::json, "{}", true},
      {"GET", "/v1/admin/webhooks/{id}", webhook_base, "admin"},
      {"PATCH", "/v1/admin/webhooks/{id}", webhook_base, "admin", Body::json, "{}", true},
      {"DELETE", "/v1/admin/webhooks/{id}", webhook_base, "admin"},
      {"POST", "/v1/admin/webhooks/{id}/test", webhook_base + "/test", "admin"},
      {"GET", "/v1/admin/webhooks/{id}/deliveries", webhook_base + "/deliveries", "admin"},
      {"GET", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}", d, "admin"},
      {"POST", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/replay", d + "/replay", "admin"},
      {"GET", "/v1/admin/keys", "/v1/admin/keys", "admin"},
      {"POST", "/v1/admin/keys", "/v1/admin/keys", "admin", Body::json, "{}", true},
      {"DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/" + key_id, "admin"},
      {"GET", "/v1/admin/keys/{id}/audit", "/v1/admin/keys/" + key_id + "/audit", "admin"},
      {"GET", "/v1/admin/metrics", "/v1/admin/metrics", "admin"},
      {"POST", "/webhooks/ses", "/webhooks/ses", "", Body::none, "", true},
      {"GET", "/u/{token}", "/u/not-a-token", ""},
      {"POST", "/u/{token}", "/u/not-a-token", "", Body::none, "", true},
  };
  call_refusals(api, ops, keys);

  {  // success, 404 and 409 of each operation
    api.call("GET", "/health", "/health", 200);
    api.call("GET", "/ready", "/ready", 200);
    api.call("GET", "/metrics", "/metrics", 200);

    // Templates
    api.call("POST", "/v1/templates", "/v1/templates", 409, admin,
             json{{"name", "welcome"}, {"subject", "Other"}, {"text", "Other"}}.dump());
    api.call("GET", "/v1/templates", "/v1/templates", 200, admin);
    api.call("GET", "/v1/templates/{id}", t, 200, admin);
    api.call("GET", "/v1/templates/{id}", "/v1/templates/tmpl_missing", 404, admin);
    api.call("PUT", "/v1/templates/{id}", t, 200, admin, template_body);
    api.call("PUT", "/v1/templates/{id}", "/v1/templates/tmpl_missing", 404, admin, template_body);
    auto other = api.call("POST", "/v1/templates", "/v1/templates", 201, admin,
                          json{{"name", "other"}, {"subject", "S"}, {"text", "T"}}.dump());
    const std::string other_path = "/v1/templates/" + other.at("id").get<std::string>();
    api.call("PUT", "/v1/templates/{id}", t, 409, admin,
             json{{"name", "other"}, {"subject", "S"}, {"text", "T"}}.dump());
    api.call("DELETE", "/v1/templates/{id}", t, 409, admin);  // the scheduled batch uses it
    api.call("DELETE", "/v1/templates/{id}", other_path, 204, admin);
    api.call("DELETE", "/v1/templates/{id}", other_path, 404, admin);
    api.call("GET", "/v1/templates/{id}/versions", t + "/versions", 200, admin);
    api.call("GET", "/v1/templates/{id}/versions", "/v1/templates/tmpl_missing/versions", 404, admin);
    api.call("POST", "/v1/templates/{id}/render", t + "/render", 200, admin, R"({"variables":{"name":"Ana"}})");
    api.call("POST", "/v1/templates/{id}/render", "/v1/templates/tmpl_missing/render", 404, admin, "{}");

    // Batches
    const json batch_request = {{"from", "Shop <news@example.com>"},
                                {"content", {{"subject", "Hi"}, {"text", "Hi"}}},
                                {"recipients", {"bo@example.com"}},
                                {"send_at", "2099-01-01T09:00:00Z"}};
    httplib::Headers idem{{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "b1"}};
    api.call("POST", "/v1/batches", "/v1/batches", 202, idem, batch_request.dump());
    api.call("POST", "/v1/batches", "/v1/batches", 202, idem, batch_request.dump());  // replayed
    auto changed = batch_request;
    changed["recipients"] = {"cy@example.com"};
    api.call("POST", "/v1/batches", "/v1/batches", 409, idem, changed.dump());
    api.call("GET", "/v1/batches", "/v1/batches", 200, admin);
    for (std::string part : {"", "/recipients", "/events"}) {
      api.call("GET", "/v1/batches/{id}" + part, b + part, 200, admin);
      api.call("GET", "/v1/batches/{id}" + part, "/v1/batches/bat_missing" + part, 404, admin);
    }
    api.call("POST", "/v1/batches/{id}/resume", b + "/resume", 409, admin);  // not paused
    api.call("POST", "/v1/batches/{id}/pause", b + "/pause", 200, admin, R"({"reason":"check"})");
    api.call("POST", "/v1/batches/{id}/pause", b + "/pause", 409, admin, "{}");
    api.call("POST", "/v1/batches/{id}/resume", b + "/resume", 200, admin);
    api.call("POST", "/v1/batches/{id}/cancel", b + "/cancel", 200, admin);
    api.call("POST", "/v1/batches/{id}/cancel", b + "/cancel", 409, admin);
    for (std::string action : {"pause", "resume", "cancel"})
      api.call("POST", "/v1/batches/{id}/" + action, "/v1/batches/bat_missing/" + action, 404, admin);

    // Messages and events
    api.call("GET", "/v1/messages/{id}", "/v1/messages/" + message_id, 200, admin);
    api.call("GET", "/v1/messages/{id}", "/v1/messages/msg_missing", 404, admin);
    api.call("GET", "/v1/events", "/v1/events", 200, admin);

    // Suppressions
    httplib::Headers sidem{{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "s1"}};
    api.call("POST", "/v1/suppressions", "/v1/suppressions", 201, sidem, R"({"email":"x@example.com"})");
    api.call("POST", "/v1/suppressions", "/v1/suppressions", 409, sidem, R"({"email":"y@example.com"})");
    api.call("GET", "/v1/suppressions", "/v1/suppressions", 200, admin);
    api.call("GET", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", 200, admin);
    api.call("GET", "/v1/suppressions/{email}", "/v1/suppressions/nobody@example.com", 404, admin);
    api.call("DELETE", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", 204, admin);
    api.call("DELETE", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", 404, admin);

    // Dead-letter queue and queue figures
    api.call("GET", "/v1/admin/dlq", "/v1/admin/dlq", 200, admin);
    api.call("POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/" + message_id + "/retry", 200, admin);
    api.call("POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/msg_missing/retry", 404, admin);
    api.call("DELETE", "/v1/admin/dlq", "/v1/admin/dlq?all=true", 200, admin);
    api.call("GET", "/v1/admin/queue", "/v1/admin/queue", 200, admin);
    api.call("GET", "/v1/admin/metrics", "/v1/admin/metrics?period=24h", 200, admin);

    // Webhook endpoints and deliveries
    httplib::Headers widem{{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "w1"}};
    auto dead_end = api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 201, widem,
                             R"({"url":"http://127.0.0.1:1/hook"})");
    api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 409, widem, R"({"url":"http://127.0.0.1:2/hook"})");
    const std::string dead_base = "/v1/admin/webhooks/" + dead_end.at("id").get<std::string>();
    api.call("GET", "/v1/admin/webhooks", "/v1/admin/webhooks", 200, admin);
    api.call("GET", "/v1/admin/webhooks/{id}", webhook_base, 200, admin);
    api.call("GET", "/v1/admin/webhooks/{id}", "/v1/admin/webhooks/whk_missing", 404, admin);
    api.call("PATCH", "/v1/admin/webhooks/{id}", webhook_base, 200, admin, R"({"description":"receiver"})");
    api.call("PATCH", "/v1/admin/webhooks/{id}", "/v1/admin/webhooks/whk_missing", 404, admin, "{}");
    api.call("GET", "/v1/admin/webhooks/{id}/deliveries", webhook_base + "/deliveries", 200, admin);
    api.call("GET", "/v1/admin/webhooks/{id}/deliveries", "/v1/admin/webhooks/whk_missing/deliveries", 404, admin);
    const std::string delivery_template = "/v1/admin/webhooks/{id}/deliveries/{delivery_id}";
    api.call("GET", delivery_template, d, 200, admin);
    api.call("GET", delivery_template, webhook_base + "/deliveries/whd_999999", 404, admin);
    api.call("POST", delivery_template + "/replay", d + "/replay", 202, admin);
    api.call("POST", delivery_template + "/replay", webhook_base + "/deliveries/whd_999999/replay", 404, admin);
    // A delivery to a closed port stays pending between its retries.
    auto stuck = api.call("POST", "/v1/admin/webhooks/{id}/test", dead_base + "/test", 202, admin);
    api.call("POST", delivery_template + "/replay",
             dead_base + "/deliveries/" + stuck.at("id").get<std::string>() + "/replay", 409, admin);
    api.call("PATCH", "/v1/admin/webhooks/{id}", dead_base, 200, admin, R"({"enabled":false})");
    api.call("POST", "/v1/admin/webhooks/{id}/test", dead_base + "/test", 409, admin);
    api.call("POST", "/v1/admin/webhooks/{id}/test", "/v1/admin/webhooks/whk_missing/test", 404, admin);
    api.call("DELETE", "/v1/admin/webhooks/{id}", dead_base, 204, admin);
    api.call("DELETE", "/v1/admin/webhooks/{id}", dead_base, 404, admin);

    // API keys
    httplib::Headers kidem{{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", "k1"}};
    api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, kidem, R"({"name":"k1","scope":"read"})");
    api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, kidem, R"({"name":"k1","scope":"read"})");  // replayed
    api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 409, kidem, R"({"name":"k2","scope":"read"})");
    api.call("GET", "/v1/admin/keys", "/v1/admin/keys", 200, admin);
    api.call("GET", "/v1/admin/keys/{id}/audit", "/v1/admin/keys/" + key_id + "/audit", 200, admin);
    api.call("GET", "/v1/admin/keys/{id}/audit", "/v1/admin/keys/key_missing/audit", 404, admin);
    api.call("DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/" + key_id, 200, admin);
    api.call("DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/" + key_id, 409, admin);
    api.call("DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/key_missing", 404, admin);

    // SNS: accepted, unparsable, refused, and a certificate that cannot be fetched.
    const std::string text = "text/plain; charset=UTF-8";
    api.call("POST", "/webhooks/ses", "/webhooks/ses", 200, {},
             sns_fixtures::body("envelopes/id-delivery-v2.json", certs.port()), text);
    api.call("POST", "/webhooks/ses", "/webhooks/ses", 400, {}, "not an SNS message", text);
    api.call("POST", "/webhooks/ses", "/webhooks/ses", 403, {},
             sns_fixtures::body("negative/tampered-message-v2.json", certs.port()), text);
    api.call("POST", "/webhooks/ses", "/webhooks/ses", 502, {}, sns_fixtures::body("envelopes/id-delivery-v1.json", 1),
             text);

    // Unsubscribe: a real link from a bulk message the fake stored.
    api.call("POST", "/v1/batches", "/v1/batches", 202, admin,
             json{{"from", "Shop <news@example.com>"},
                  {"content", {{"subject", "News"}, {"text", "Bye: {{unsubscribe_url}}"}}},
                  {"recipients", {"leaver@example.com"}}}
                 .dump());
    std::string link;
    REQUIRE(wait_until(
        [&] {
          for (const auto& m : fake.stored_messages())
            if (m.to.at(0) == "leaver@example.com") link = unsubscribe_path(m.headers.at("List-Unsubscribe"));
          return !link.empty();
        },
        std::chrono::seconds(30)));
    api.call("GET", "/u/{token}", link, 200);
    api.call("POST", "/u/{token}", link, 200, {}, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
    api.call("GET", "/u/{token}", "/u/not-a-token", 404);
    api.call("POST", "/u/{token}", "/u/not-a-token", 404, {}, "List-Unsubscribe=One-Click",
             "application/x-www-form-urlencoded");

    // A second mailerd: metrics behind a key, no SNS topics, its database
    // held by a stuck writer.
    MailerdFixture closed(MailerdOptions{{{"MAILER_METRICS_PUBLIC", "false"}}, {}});
    api.retarget(closed.port());
    api.call("GET", "/metrics", "/metrics", 401);
    api.call("POST", "/webhooks/ses", "/webhooks/ses", 404, {},
             sns_fixtures::body("envelopes/id-delivery-v2.json", certs.port()), text);
    SQLite::Database blocker(closed.db_path().string(), SQLite::OPEN_READWRITE);
    blocker.exec("BEGIN IMMEDIATE");
    api.call("GET", "/ready", "/ready", 503);
    blocker.exec("ROLLBACK");

    const auto records = mailerd.dir() / "responses.json";
    api.write(records);

    auto checked = run_command({"/usr/bin/env", "node", std::string(MAILER_OPENAPI_DIR) + "/validate_responses.js",
                                std::string(MAILER_SOURCE_DIR) + "/docs/openapi.yaml", records.string()});
    INFO(checked.output << checked.errors);
    CHECK(checked.exit_code == 0);
  }
}
