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

  // The value of header `lower_name` in the last recorded answer.
  std::string last_header(const std::string& lower_name) const {
    return m_records.back().at("headers").value(lower_name, std::string());
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

const std::string k_delivery = "/v1/admin/webhooks/{id}/deliveries/{delivery_id}";
const std::string k_sns_type = "text/plain; charset=UTF-8";

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

// The resources the operations are called on, and how to call them.
struct Scene {
  Recorder& api;
  Keys keys;
  httplib::Headers admin;
  json message;            // a POST /v1/messages body, to an address SES rejects
  std::string message_id;  // in the DLQ
  std::string templ;       // "/v1/templates/tmpl_..."
  std::string batch;       // "/v1/batches/bat_...", scheduled
  std::string webhook;     // "/v1/admin/webhooks/whk_...", to the receiver
  std::string delivery;    // webhook + "/deliveries/whd_...", delivered
  std::string key_id;      // a read key to revoke

  httplib::Headers idempotent(const std::string& idempotency_key) const {
    return {{"Authorization", "Bearer " + keys.admin}, {"Idempotency-Key", idempotency_key}};
  }
};

// Polls GET `target` with the watch key until its "status" is `status`.
void wait_for_status(const MailerdFixture& mailerd, const Keys& keys, const std::string& target,
                     const std::string& status) {
  INFO("waiting for " << target << " to be " << status);
  REQUIRE(wait_until(
      [&] {
        auto res = mailerd.client()->Get(target.c_str(), key_header(keys.watch));
        return res && res->status == 200 && json::parse(res->body).value("status", "") == status;
      },
      std::chrono::seconds(30)));
}

Scene create_resources(Recorder& api, const MailerdFixture& mailerd, const Keys& keys,
                       const WebhookReceiver& receiver) {
  Scene scene{api, keys, key_header(keys.admin)};
  auto tmpl = api.call("POST", "/v1/templates", "/v1/templates", 201, scene.admin,
                       json{{"name", "welcome"}, {"subject", "Hi {{name}}"}, {"text", "Hi {{name}}"}}.dump());
  scene.templ = "/v1/templates/" + tmpl.at("id").get<std::string>();
  auto batch = api.call("POST", "/v1/batches", "/v1/batches", 202, scene.admin,
                        json{{"template_id", tmpl.at("id")},
                             {"from", "Shop <news@example.com>"},
                             {"recipients", {"ana@example.com"}},
                             {"send_at", "2099-01-01T09:00:00Z"}}
                            .dump());
  scene.batch = "/v1/batches/" + batch.at("id").get<std::string>();
  scene.message = {{"from", "Shop <orders@example.com>"},
                   {"to", "dead@example.com"},
                   {"content", {{"subject", "Receipt"}, {"text", "Thanks"}}}};
  auto accepted = api.call("POST", "/v1/messages", "/v1/messages", 202, scene.idempotent("m1"), scene.message.dump());
  scene.message_id = accepted.at("id");
  auto other = scene.message;
  other["to"] = "other@example.com";
  api.call("POST", "/v1/messages", "/v1/messages", 409, scene.idempotent("m1"), other.dump());
  wait_for_status(mailerd, keys, "/v1/messages/" + scene.message_id, "failed");
  api.call("POST", "/v1/suppressions", "/v1/suppressions", 201, scene.admin, R"({"email":"gone@example.com"})");
  auto endpoint = api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 201, scene.admin,
                           json{{"url", receiver.url()}}.dump());
  receiver.control({{"secret", endpoint.at("secret")}});
  scene.webhook = "/v1/admin/webhooks/" + endpoint.at("id").get<std::string>();
  auto test = api.call("POST", "/v1/admin/webhooks/{id}/test", scene.webhook + "/test", 202, scene.admin);
  scene.delivery = scene.webhook + "/deliveries/" + test.at("id").get<std::string>();
  wait_for_status(mailerd, keys, scene.delivery, "delivered");
  auto key = api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, scene.admin,
                      R"({"name":"short-lived","scope":"read"})");
  scene.key_id = key.at("id");
  return scene;
}

// Every operation of the document, on the scene's resources.
std::vector<Operation> operations(const Scene& s) {
  const std::string template_body = R"({"subject":"Hello","text":"Hello"})";
  const std::string dlq_retry = "/v1/admin/dlq/" + s.message_id + "/retry";
  const std::string key = "/v1/admin/keys/" + s.key_id;
  return {
      {"GET", "/health", "/health", ""},
      {"GET", "/ready", "/ready", ""},
      {"GET", "/metrics", "/metrics", ""},
      {"POST", "/v1/templates", "/v1/templates", "send", Body::json, template_body, true},
      {"GET", "/v1/templates", "/v1/templates", "read"},
      {"GET", "/v1/templates/{id}", s.templ, "read"},
      {"PUT", "/v1/templates/{id}", s.templ, "send", Body::json, template_body, true},
      {"DELETE", "/v1/templates/{id}", s.templ, "send"},
      {"GET", "/v1/templates/{id}/versions", s.templ + "/versions", "read"},
      {"POST", "/v1/templates/{id}/render", s.templ + "/render", "read", Body::json, "{}", true},
      {"POST", "/v1/batches", "/v1/batches", "send", Body::json, "{}", true},
      {"GET", "/v1/batches", "/v1/batches", "read"},
      {"GET", "/v1/batches/{id}", s.batch, "read"},
      {"GET", "/v1/batches/{id}/recipients", s.batch + "/recipients", "read"},
      {"GET", "/v1/batches/{id}/events", s.batch + "/events", "read"},
      {"POST", "/v1/batches/{id}/pause", s.batch + "/pause", "send", Body::optional_json},
      {"POST", "/v1/batches/{id}/resume", s.batch + "/resume", "send"},
      {"POST", "/v1/batches/{id}/cancel", s.batch + "/cancel", "send"},
      {"POST", "/v1/messages", "/v1/messages", "send", Body::json, s.message.dump(), true},
      {"POST", "/v1/messages/batch", "/v1/messages/batch", "send", Body::json, json{{"messages", {s.message}}}.dump(),
       true},
      {"GET", "/v1/messages/{id}", "/v1/messages/" + s.message_id, "read"},
      {"GET", "/v1/events", "/v1/events", "read"},
      {"GET", "/v1/suppressions", "/v1/suppressions", "read"},
      {"POST", "/v1/suppressions", "/v1/suppressions", "send", Body::json, "{}", true},
      {"GET", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", "read"},
      {"DELETE", "/v1/suppressions/{email}", "/v1/suppressions/gone@example.com", "admin"},
      {"GET", "/v1/admin/dlq", "/v1/admin/dlq", "admin"},
      {"DELETE", "/v1/admin/dlq", "/v1/admin/dlq?all=true", "admin"},
      {"POST", "/v1/admin/dlq/{id}/retry", dlq_retry, "admin"},
      {"GET", "/v1/admin/queue", "/v1/admin/queue", "admin"},
      {"DELETE", "/v1/admin/recipients/{email}", "/v1/admin/recipients/nobody@example.com", "admin"},
      {"GET", "/v1/admin/webhooks", "/v1/admin/webhooks", "admin"},
      {"POST", "/v1/admin/webhooks", "/v1/admin/webhooks", "admin", Body::json, "{}", true},
      {"GET", "/v1/admin/webhooks/{id}", s.webhook, "admin"},
      {"PATCH", "/v1/admin/webhooks/{id}", s.webhook, "admin", Body::json, "{}", true},
      {"DELETE", "/v1/admin/webhooks/{id}", s.webhook, "admin"},
      {"POST", "/v1/admin/webhooks/{id}/test", s.webhook + "/test", "admin"},
      {"GET", "/v1/admin/webhooks/{id}/deliveries", s.webhook + "/deliveries", "admin"},
      {"GET", k_delivery, s.delivery, "admin"},
      {"POST", k_delivery + "/replay", s.delivery + "/replay", "admin"},
      {"GET", "/v1/admin/keys", "/v1/admin/keys", "admin"},
      {"POST", "/v1/admin/keys", "/v1/admin/keys", "admin", Body::json, "{}", true},
      {"DELETE", "/v1/admin/keys/{id}", key, "admin"},
      {"GET", "/v1/admin/keys/{id}/audit", key + "/audit", "admin"},
      {"GET", "/v1/admin/metrics", "/v1/admin/metrics", "admin"},
      {"POST", "/webhooks/ses", "/webhooks/ses", "", Body::none, "", true},
      {"GET", "/u/{token}", "/u/not-a-token", ""},
      {"POST", "/u/{token}", "/u/not-a-token", "", Body::none, "", true},
      {"GET", "/v1/me", "/v1/me", "read"},
      {"GET", "/ui", "/ui", ""},
      {"GET", "/ui/", "/ui/", ""},
      {"GET", "/ui/{file}", "/ui/app.js", ""},
  };
}

void call_templates(Scene& s) {
  const std::string body = R"({"subject":"Hello","text":"Hello"})";
  const std::string missing = "/v1/templates/tmpl_missing";
  s.api.call("POST", "/v1/templates", "/v1/templates", 409, s.admin, R"({"name":"welcome","subject":"S","text":"T"})");
  s.api.call("GET", "/v1/templates", "/v1/templates", 200, s.admin);
  s.api.call("GET", "/v1/templates/{id}", s.templ, 200, s.admin);
  s.api.call("GET", "/v1/templates/{id}", missing, 404, s.admin);
  s.api.call("PUT", "/v1/templates/{id}", s.templ, 200, s.admin, body);
  s.api.call("PUT", "/v1/templates/{id}", missing, 404, s.admin, body);
  auto other = s.api.call("POST", "/v1/templates", "/v1/templates", 201, s.admin,
                          R"({"name":"other","subject":"S","text":"T"})");
  const std::string other_path = "/v1/templates/" + other.at("id").get<std::string>();
  s.api.call("PUT", "/v1/templates/{id}", s.templ, 409, s.admin, R"({"name":"other","subject":"S","text":"T"})");
  s.api.call("DELETE", "/v1/templates/{id}", s.templ, 409, s.admin);  // the scheduled batch uses it
  s.api.call("DELETE", "/v1/templates/{id}", other_path, 204, s.admin);
  s.api.call("DELETE", "/v1/templates/{id}", other_path, 404, s.admin);
  s.api.call("GET", "/v1/templates/{id}/versions", s.templ + "/versions", 200, s.admin);
  s.api.call("GET", "/v1/templates/{id}/versions", missing + "/versions", 404, s.admin);
  s.api.call("POST", "/v1/templates/{id}/render", s.templ + "/render", 200, s.admin, R"({"variables":{"name":"A"}})");
  s.api.call("POST", "/v1/templates/{id}/render", missing + "/render", 404, s.admin, "{}");
}

void call_batches(Scene& s) {
  json request = {{"from", "Shop <news@example.com>"},
                  {"content", {{"subject", "Hi"}, {"text", "Hi"}}},
                  {"recipients", {"bo@example.com"}},
                  {"send_at", "2099-01-01T09:00:00Z"}};
  s.api.call("POST", "/v1/batches", "/v1/batches", 202, s.idempotent("b1"), request.dump());
  s.api.call("POST", "/v1/batches", "/v1/batches", 202, s.idempotent("b1"), request.dump());  // replayed
  request["recipients"] = {"cy@example.com"};
  s.api.call("POST", "/v1/batches", "/v1/batches", 409, s.idempotent("b1"), request.dump());
  s.api.call("GET", "/v1/batches", "/v1/batches", 200, s.admin);
  for (std::string part : {"", "/recipients", "/events"}) {
    s.api.call("GET", "/v1/batches/{id}" + part, s.batch + part, 200, s.admin);
    s.api.call("GET", "/v1/batches/{id}" + part, "/v1/batches/bat_missing" + part, 404, s.admin);
  }
  s.api.call("POST", "/v1/batches/{id}/resume", s.batch + "/resume", 409, s.admin);  // not paused
  s.api.call("POST", "/v1/batches/{id}/pause", s.batch + "/pause", 200, s.admin, R"({"reason":"check"})");
  s.api.call("POST", "/v1/batches/{id}/pause", s.batch + "/pause", 409, s.admin, "{}");
  s.api.call("POST", "/v1/batches/{id}/resume", s.batch + "/resume", 200, s.admin);
  s.api.call("POST", "/v1/batches/{id}/cancel", s.batch + "/cancel", 200, s.admin);
  s.api.call("POST", "/v1/batches/{id}/cancel", s.batch + "/cancel", 409, s.admin);
  for (std::string action : {"pause", "resume", "cancel"})
    s.api.call("POST", "/v1/batches/{id}/" + action, "/v1/batches/bat_missing/" + action, 404, s.admin);
}

void call_messages_and_suppressions(Scene& s) {
  json batch = {{"messages", {s.message, {{"from", "Shop <orders@example.com>"}}}}};  // the second is invalid
  s.api.call("POST", "/v1/messages/batch", "/v1/messages/batch", 200, s.idempotent("mb1"), batch.dump());
  s.api.call("POST", "/v1/messages/batch", "/v1/messages/batch", 200, s.idempotent("mb1"), batch.dump());  // replayed
  batch["atomic"] = true;
  s.api.call("POST", "/v1/messages/batch", "/v1/messages/batch", 409, s.idempotent("mb1"), batch.dump());
  s.api.call("POST", "/v1/messages/batch", "/v1/messages/batch", 400, s.admin, batch.dump());
  s.api.call("GET", "/v1/messages/{id}", "/v1/messages/" + s.message_id, 200, s.admin);
  s.api.call("GET", "/v1/messages/{id}", "/v1/messages/msg_missing", 404, s.admin);
  s.api.call("GET", "/v1/events", "/v1/events", 200, s.admin);
  s.api.call("POST", "/v1/suppressions", "/v1/suppressions", 201, s.idempotent("s1"), R"({"email":"x@example.com"})");
  s.api.call("POST", "/v1/suppressions", "/v1/suppressions", 409, s.idempotent("s1"), R"({"email":"y@example.com"})");
  s.api.call("GET", "/v1/suppressions", "/v1/suppressions", 200, s.admin);
  const std::string gone = "/v1/suppressions/gone@example.com";
  s.api.call("GET", "/v1/suppressions/{email}", gone, 200, s.admin);
  s.api.call("GET", "/v1/suppressions/{email}", "/v1/suppressions/nobody@example.com", 404, s.admin);
  s.api.call("DELETE", "/v1/suppressions/{email}", gone, 204, s.admin);
  s.api.call("DELETE", "/v1/suppressions/{email}", gone, 404, s.admin);
}

void call_dlq_queue_and_metrics(Scene& s) {
  s.api.call("GET", "/v1/admin/dlq", "/v1/admin/dlq", 200, s.admin);
  s.api.call("POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/" + s.message_id + "/retry", 200, s.admin);
  s.api.call("POST", "/v1/admin/dlq/{id}/retry", "/v1/admin/dlq/msg_missing/retry", 404, s.admin);
  s.api.call("DELETE", "/v1/admin/dlq", "/v1/admin/dlq?all=true", 200, s.admin);
  s.api.call("GET", "/v1/admin/queue", "/v1/admin/queue", 200, s.admin);
  s.api.call("GET", "/v1/admin/metrics", "/v1/admin/metrics?period=24h", 200, s.admin);
  s.api.call("GET", "/health", "/health", 200);
  s.api.call("GET", "/ready", "/ready", 200);
  s.api.call("GET", "/metrics", "/metrics", 200);
}

// The scheduled batch's recipient made `sending` for the 409, then put back as it was.
void call_erasure(Scene& s, const MailerdFixture& mailerd) {
  const std::string path = "/v1/admin/recipients/{email}";
  s.api.call("DELETE", path, "/v1/admin/recipients/nobody@example.com?hash_suppression=true", 200, s.admin);
  s.api.call("DELETE", path, "/v1/admin/recipients/not-an-address", 400, s.admin);
  SQLite::Database db(mailerd.db_path().string(), SQLite::OPEN_READWRITE);
  db.setBusyTimeout(5000);
  const std::string where = " WHERE email = 'ana@example.com'";
  const std::string state = db.execAndGet("SELECT state FROM messages" + where).getString();
  db.exec("UPDATE messages SET state = 'sending', lease_expires_ms = 4102444800000" + where);
  s.api.call("DELETE", path, "/v1/admin/recipients/ana@example.com", 409, s.admin);
  db.exec("UPDATE messages SET state = '" + state + "', lease_expires_ms = NULL" + where);
}

void call_webhooks(Scene& s) {
  const std::string missing = "/v1/admin/webhooks/whk_missing";
  auto dead_end = s.api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 201, s.idempotent("w1"),
                             R"({"url":"http://127.0.0.1:1/hook"})");
  s.api.call("POST", "/v1/admin/webhooks", "/v1/admin/webhooks", 409, s.idempotent("w1"),
             R"({"url":"http://127.0.0.1:2/hook"})");
  const std::string dead = "/v1/admin/webhooks/" + dead_end.at("id").get<std::string>();
  s.api.call("GET", "/v1/admin/webhooks", "/v1/admin/webhooks", 200, s.admin);
  s.api.call("GET", "/v1/admin/webhooks/{id}", s.webhook, 200, s.admin);
  s.api.call("GET", "/v1/admin/webhooks/{id}", missing, 404, s.admin);
  s.api.call("PATCH", "/v1/admin/webhooks/{id}", s.webhook, 200, s.admin, R"({"description":"receiver"})");
  s.api.call("PATCH", "/v1/admin/webhooks/{id}", missing, 404, s.admin, "{}");
  s.api.call("GET", "/v1/admin/webhooks/{id}/deliveries", s.webhook + "/deliveries", 200, s.admin);
  s.api.call("GET", "/v1/admin/webhooks/{id}/deliveries", missing + "/deliveries", 404, s.admin);
  s.api.call("GET", k_delivery, s.delivery, 200, s.admin);
  s.api.call("GET", k_delivery, s.webhook + "/deliveries/whd_999999", 404, s.admin);
  s.api.call("POST", k_delivery + "/replay", s.delivery + "/replay", 202, s.admin);
  s.api.call("POST", k_delivery + "/replay", s.webhook + "/deliveries/whd_999999/replay", 404, s.admin);
  // A delivery to a closed port stays pending between its retries.
  auto stuck = s.api.call("POST", "/v1/admin/webhooks/{id}/test", dead + "/test", 202, s.admin);
  s.api.call("POST", k_delivery + "/replay", dead + "/deliveries/" + stuck.at("id").get<std::string>() + "/replay", 409,
             s.admin);
  s.api.call("PATCH", "/v1/admin/webhooks/{id}", dead, 200, s.admin, R"({"enabled":false})");
  s.api.call("POST", "/v1/admin/webhooks/{id}/test", dead + "/test", 409, s.admin);
  s.api.call("POST", "/v1/admin/webhooks/{id}/test", missing + "/test", 404, s.admin);
  s.api.call("DELETE", "/v1/admin/webhooks/{id}", dead, 204, s.admin);
  s.api.call("DELETE", "/v1/admin/webhooks/{id}", dead, 404, s.admin);
}

void call_keys(Scene& s) {
  const std::string key = "/v1/admin/keys/" + s.key_id;
  const std::string body = R"({"name":"k1","scope":"read"})";
  s.api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, s.idempotent("k1"), body);
  s.api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 201, s.idempotent("k1"), body);  // replayed
  s.api.call("POST", "/v1/admin/keys", "/v1/admin/keys", 409, s.idempotent("k1"), R"({"name":"k2","scope":"read"})");
  s.api.call("GET", "/v1/admin/keys", "/v1/admin/keys", 200, s.admin);
  s.api.call("GET", "/v1/admin/keys/{id}/audit", key + "/audit", 200, s.admin);
  s.api.call("GET", "/v1/admin/keys/{id}/audit", "/v1/admin/keys/key_missing/audit", 404, s.admin);
  s.api.call("DELETE", "/v1/admin/keys/{id}", key, 200, s.admin);
  s.api.call("DELETE", "/v1/admin/keys/{id}", key, 409, s.admin);
  s.api.call("DELETE", "/v1/admin/keys/{id}", "/v1/admin/keys/key_missing", 404, s.admin);
}

// The key itself, and the dashboard's files: whole, then unchanged.
void call_me_and_dashboard(Scene& s) {
  s.api.call("GET", "/v1/me", "/v1/me", 200, s.admin);
  s.api.call("GET", "/ui", "/ui", 308);
  for (auto [path, target] : {std::pair{"/ui/", "/ui/"}, std::pair{"/ui/{file}", "/ui/app.js"}}) {
    s.api.call("GET", path, target, 200);
    s.api.call("GET", path, target, 304, {{"If-None-Match", s.api.last_header("etag")}});
  }
  s.api.call("GET", "/ui/{file}", "/ui/missing.js", 404);
}

// Accepted, unparsable, refused, and a certificate that cannot be fetched.
void call_sns(Recorder& api, const sns_fixtures::CertServer& certs) {
  api.call("POST", "/webhooks/ses", "/webhooks/ses", 200, {},
           sns_fixtures::body("envelopes/id-delivery-v2.json", certs.port()), k_sns_type);
  api.call("POST", "/webhooks/ses", "/webhooks/ses", 400, {}, "not an SNS message", k_sns_type);
  api.call("POST", "/webhooks/ses", "/webhooks/ses", 403, {},
           sns_fixtures::body("negative/tampered-message-v2.json", certs.port()), k_sns_type);
  api.call("POST", "/webhooks/ses", "/webhooks/ses", 502, {}, sns_fixtures::body("envelopes/id-delivery-v1.json", 1),
           k_sns_type);
}

// With a real link from a bulk message the fake stored.
void call_unsubscribe(Scene& s, const FakeSesFixture& fake) {
  s.api.call("POST", "/v1/batches", "/v1/batches", 202, s.admin,
             R"({"from":"Shop <news@example.com>","content":{"subject":"News","text":"Bye: {{unsubscribe_url}}"},)"
             R"("recipients":["leaver@example.com"]})");
  std::string link;
  REQUIRE(wait_until(
      [&] {
        for (const auto& m : fake.stored_messages())
          if (m.to.at(0) == "leaver@example.com") link = unsubscribe_path(m.headers.at("List-Unsubscribe"));
        return !link.empty();
      },
      std::chrono::seconds(30)));
  const std::string form = "application/x-www-form-urlencoded";
  s.api.call("GET", "/u/{token}", link, 200);
  s.api.call("POST", "/u/{token}", link, 200, {}, "List-Unsubscribe=One-Click", form);
  s.api.call("GET", "/u/{token}", "/u/not-a-token", 404);
  s.api.call("POST", "/u/{token}", "/u/not-a-token", 404, {}, "List-Unsubscribe=One-Click", form);
}

// A second mailerd: metrics behind a key, no dashboard, no SNS topics, its
// database held by a stuck writer.
void call_second_mailerd(Recorder& api, const sns_fixtures::CertServer& certs) {
  MailerdFixture closed(MailerdOptions{{{"MAILER_METRICS_PUBLIC", "false"}, {"MAILER_UI_ENABLED", "false"}}, {}});
  api.retarget(closed.port());
  api.call("GET", "/metrics", "/metrics", 401);
  api.call("GET", "/ui", "/ui", 404);
  api.call("GET", "/ui/", "/ui/", 404);
  api.call("POST", "/webhooks/ses", "/webhooks/ses", 404, {},
           sns_fixtures::body("envelopes/id-delivery-v2.json", certs.port()), k_sns_type);
  SQLite::Database blocker(closed.db_path().string(), SQLite::OPEN_READWRITE);
  blocker.exec("BEGIN IMMEDIATE");
  api.call("GET", "/ready", "/ready", 503);
  blocker.exec("ROLLBACK");
}

// The main mailerd: fake SES rejecting dead@example.com, SNS and webhooks on
// loopback, a burst no test run spends but one key (Keys::spent), and a
// body limit small enough to exceed cheaply.
Env main_env(const FakeSesFixture& fake) {
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
  return env;
}

Keys create_keys(const MailerdFixture& mailerd) {
  Keys keys{mailerd.create_key("admin", "admin").key, mailerd.create_key("reader", "read").key,
            mailerd.create_key("spent", "admin").key, mailerd.create_key("watch", "admin").key};
  // The spent key's bucket of 2,000 refills one token in 1,000 s.
  auto client = mailerd.client();
  for (int i = 0; i < 2000; ++i) REQUIRE(client->Get("/v1/nothing", key_header(keys.spent)));
  return keys;
}

// Runs validate_responses.js on the recorded answers; its report on failure.
void validate(const Recorder& api, const std::filesystem::path& records) {
  api.write(records);
  auto checked = run_command({"/usr/bin/env", "node", std::string(MAILER_OPENAPI_DIR) + "/validate_responses.js",
                              std::string(MAILER_SOURCE_DIR) + "/docs/openapi.yaml", records.string()});
  INFO(checked.output << checked.errors);
  CHECK(checked.exit_code == 0);
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
  MailerdFixture mailerd(MailerdOptions{main_env(fake), {}});
  Recorder api(mailerd.port());
  auto scene = create_resources(api, mailerd, create_keys(mailerd), receiver);

  call_refusals(api, operations(scene), scene.keys);
  call_templates(scene);
  call_batches(scene);
  call_messages_and_suppressions(scene);
  call_dlq_queue_and_metrics(scene);
  call_erasure(scene, mailerd);
  call_webhooks(scene);
  call_keys(scene);
  call_me_and_dashboard(scene);
  call_sns(api, certs);
  call_unsubscribe(scene, fake);
  call_second_mailerd(api, certs);
  validate(api, mailerd.dir() / "responses.json");
}
