// Outgoing webhooks end to end: a real mailerd sending to mailer-fake-ses and
// posting its events to tests/webhooks/receiver.js, which verifies every
// request with the standardwebhooks npm package (not mailerd's code).
#include "engine_e2e.hpp"

#include <csignal>

#include "support/webhook_receiver.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

// Webhooks to the receiver on loopback: http and private targets allowed,
// short batching and retries so each case takes a few seconds.
Env webhook_env(Env extra = {}) {
  Env env{{"MAILER_WEBHOOKS_ALLOW_HTTP", "true"},
          {"MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"},
          {"MAILER_WEBHOOKS_MAX_BATCH_AGE_MS", "200"},
          {"MAILER_WEBHOOKS_BACKOFF_BASE_MS", "100"},
          {"MAILER_WEBHOOKS_BACKOFF_MAX_MS", "400"}};
  for (auto& [k, v] : extra) env[k] = v;
  return env;
}

json request(const MailerdFixture& mailerd, const std::string& key, const std::string& method, const std::string& path,
             const json& body, int expected) {
  auto client = mailerd.client();
  httplib::Result res = method == "POST"     ? client->Post(path.c_str(), bearer(key), body.dump(), "application/json")
                        : method == "PATCH"  ? client->Patch(path.c_str(), bearer(key), body.dump(), "application/json")
                        : method == "DELETE" ? client->Delete(path.c_str(), bearer(key))
                                             : client->Get(path.c_str(), bearer(key));
  REQUIRE(res);
  INFO(method << " " << path << ": " << res->body);
  REQUIRE(res->status == expected);
  return res->body.empty() ? json() : json::parse(res->body);
}

// Creates an endpoint for `receiver` and hands it the secret; returns the endpoint.
json add_endpoint(const Stack& stack, const WebhookReceiver& receiver, json extra = json::object()) {
  extra["url"] = receiver.url();
  auto created = request(*stack.mailerd, stack.key, "POST", "/v1/admin/webhooks", extra, 201);
  REQUIRE(created.at("secret").get<std::string>().starts_with("whsec_"));
  receiver.control({{"secret", created.at("secret")}});
  return created;
}

// Every event id of batch `id`, from GET /v1/events.
std::set<std::string> batch_event_ids(const MailerdFixture& mailerd, const std::string& key, const std::string& id) {
  std::set<std::string> ids;
  std::string cursor;
  for (int page = 0; page < 100; ++page) {
    auto path = "/v1/events?limit=1000&batch_id=" + id + (cursor.empty() ? "" : "&cursor=" + cursor);
    auto listed = request(mailerd, key, "GET", path, {}, 200);
    for (const auto& e : listed.at("data")) ids.insert(e.at("id").get<std::string>());
    if (listed.at("next_cursor").is_null()) break;
    cursor = listed.at("next_cursor").get<std::string>();
  }
  return ids;
}

// mailerctl on the fixture's database, allowed to register the loopback receiver.
CommandResult ctl(const MailerdFixture& mailerd, std::vector<std::string> args) {
  args.insert(args.begin(), {MAILERCTL_BIN, "--db", mailerd.db_path().string()});
  return run_command(args, {{"MAILER_LOG_FORMAT", "json"},
                            {"MAILER_WEBHOOKS_ALLOW_HTTP", "true"},
                            {"MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS", "true"}});
}

bool received_all(const WebhookReceiver& receiver, std::size_t count) {
  return receiver.stats().at("unique_events").get<std::size_t>() >= count;
}

}  // namespace

TEST_CASE("Webhooks deliver every event of a 5,000-recipient batch, each request verified", "[webhooks][integration]") {
  WebhookReceiver receiver;
  Stack stack(webhook_env());
  auto endpoint = add_endpoint(stack, receiver);
  CHECK(endpoint.at("event_types") == json::array());
  auto shown =
      request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks/" + endpoint.at("id").get<std::string>(), {}, 200);
  CHECK_FALSE(shown.contains("secret"));  // shown once, at creation

  const std::string id = stack.post_batch(batch_body(addresses(5000))).at("id");
  stack.wait_for_status(id, "completed", std::chrono::seconds(60));
  auto expected = batch_event_ids(*stack.mailerd, stack.key, id);
  REQUIRE(expected.size() == 5000);  // one SENT each
  REQUIRE(wait_until([&] { return received_all(receiver, expected.size()); }, std::chrono::seconds(20)));

  auto ids = receiver.event_ids();
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == expected);
  auto stats = receiver.stats();
  INFO(stats.dump());
  CHECK(stats.at("rejected") == 0);
  CHECK(stats.at("duplicates") == 0);
  // Grouped: 5,000 events in far fewer requests than events (about 50 at
  // 100 per request; a slow machine records fewer within max_batch_age).
  CHECK(stats.at("answered_ok").get<int>() <= 5000 / 10);

  auto metrics = stack.mailerd->client()->Get("/metrics");
  REQUIRE(metrics);
  const auto series = "mailer_webhook_deliveries_total{endpoint=\"" + endpoint.at("id").get<std::string>() +
                      "\",outcome=\"delivered\"}";
  CHECK(metrics->body.find(series) != std::string::npos);
  CHECK(metrics->body.find("mailer_webhook_oldest_pending_age_seconds{endpoint=") != std::string::npos);
  // At 0 before any disable, so an increase() alert sees the first one.
  CHECK(metrics->body.find("mailer_webhook_endpoints_disabled_total{endpoint=\"" +
                           endpoint.at("id").get<std::string>() + "\"} 0\n") != std::string::npos);
}

TEST_CASE("kill -9 during webhook deliveries: every event arrives, duplicates only as redeliveries",
          "[webhooks][integration]") {
  constexpr int k_recipients = 3000;
  WebhookReceiver receiver;
  // 1,000/s: the batch takes ~3 s, so the kill lands in the middle of it.
  Stack stack(webhook_env({{"MAILER_SES_MAX_SEND_RATE", "1000"}}));
  add_endpoint(stack, receiver, {{"event_types", {"SENT"}}});
  const std::string id = stack.post_batch(batch_body(addresses(k_recipients))).at("id");
  REQUIRE(wait_until([&] { return receiver.stats().at("unique_events").get<int>() >= 500; }, std::chrono::seconds(30)));
  REQUIRE(stack.mailerd->process().stop(SIGKILL) == 128 + SIGKILL);

  MailerdFixture restarted(MailerdOptions{stack.mailerd->env(), {}});
  REQUIRE(wait_until(
      [&] {
        auto res = restarted.client()->Get(("/v1/batches/" + id).c_str(), bearer(stack.key));
        return res && res->status == 200 && json::parse(res->body).value("status", "") == "completed";
      },
      std::chrono::seconds(60)));
  auto expected = batch_event_ids(restarted, stack.key, id);
  REQUIRE(wait_until([&] { return received_all(receiver, expected.size()); }, std::chrono::seconds(20)));
  auto ids = receiver.event_ids();
  CHECK(std::set<std::string>(ids.begin(), ids.end()) == expected);
  auto stats = receiver.stats();
  INFO(stats.dump());
  CHECK(stats.at("rejected") == 0);
  // A duplicate is the delivery in flight at the kill, sent again with its
  // webhook-id: at most one delivery (100 events) for the one endpoint.
  CHECK(stats.at("duplicates_in_new_delivery") == 0);
  CHECK(stats.at("duplicates").get<int>() <= 100);
}

TEST_CASE("A receiver answering 500 for a while, then 200, gets every event", "[webhooks][integration]") {
  WebhookReceiver receiver;
  Stack stack(webhook_env());
  auto endpoint = add_endpoint(stack, receiver);
  receiver.control({{"fail", 4}, {"status", 503}, {"retry_after", "0"}});
  const std::string id = stack.post_batch(batch_body(addresses(300))).at("id");
  stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  auto expected = batch_event_ids(*stack.mailerd, stack.key, id);
  REQUIRE(wait_until([&] { return received_all(receiver, expected.size()); }, std::chrono::seconds(20)));
  auto stats = receiver.stats();
  INFO(stats.dump());
  CHECK(stats.at("duplicates") == 0);
  CHECK(stats.at("requests").get<int>() >= 4 + 1);

  // The attempt log shows the failures before the success.
  const std::string endpoint_id = endpoint.at("id");
  auto listed = request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks/" + endpoint_id + "/deliveries", {}, 200);
  REQUIRE(!listed.at("data").empty());
  const auto& first = listed.at("data").back();  // oldest
  CHECK(first.at("status") == "delivered");
  CHECK(first.at("attempts") == 5);
  auto shown =
      request(*stack.mailerd, stack.key, "GET",
              "/v1/admin/webhooks/" + endpoint_id + "/deliveries/" + first.at("id").get<std::string>(), {}, 200);
  REQUIRE(shown.at("attempt_log").size() == 5);
  CHECK(shown.at("attempt_log")[0].at("status_code") == 503);
  CHECK(shown.at("attempt_log")[0].at("response") == "failing on purpose");
  CHECK(shown.at("attempt_log")[4].at("status_code") == 200);
  CHECK(json::parse(shown.at("body").get<std::string>()).at("version") == 1);
}

TEST_CASE("A hanging receiver slows neither mail nor another endpoint", "[webhooks][integration]") {
  WebhookReceiver hanging;
  WebhookReceiver healthy;
  Stack stack(webhook_env({{"MAILER_WEBHOOKS_TIMEOUT_MS", "60000"}}));
  add_endpoint(stack, hanging);
  add_endpoint(stack, healthy);
  hanging.control({{"hang", true}});
  const auto started = SteadyClock::now();
  const std::string id = stack.post_batch(batch_body(addresses(2000))).at("id");
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(20));
  REQUIRE(done.value("status", "") == "completed");
  // 2,000 at 100,000/s with nothing in the way finish in about a second;
  // mail waiting on the hanging endpoint would take its 60 s timeout.
  CHECK(SteadyClock::now() - started < std::chrono::seconds(20));
  REQUIRE(wait_until([&] { return received_all(healthy, 2000); }, std::chrono::seconds(10)));
  CHECK(hanging.stats().at("answered_ok") == 0);
  CHECK(hanging.stats().at("verified").get<int>() == 1);  // one request, held open
  hanging.control({{"hang", false}});
}

TEST_CASE("Webhook endpoints on private, loopback or metadata addresses are refused", "[webhooks][integration]") {
  Stack stack(Env{{"MAILER_WEBHOOKS_ALLOW_HTTP", "true"}});
  for (const std::string url :
       {"http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/latest", "http://10.1.2.3/",
        "http://[::1]:8080/", "http://[fd00:ec2::254]/", "http://[::ffff:192.168.0.1]/", "http://100.64.0.1/"}) {
    INFO(url);
    auto refused = request(*stack.mailerd, stack.key, "POST", "/v1/admin/webhooks", {{"url", url}}, 400);
    REQUIRE(refused.at("errors").size() == 1);
    CHECK(refused.at("errors")[0].at("field") == "url");
    CHECK(refused.at("errors")[0].at("message").get<std::string>().find("which webhooks may not reach") !=
          std::string::npos);
  }
  auto listed = request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks", {}, 200);
  CHECK(listed.at("data").empty());

  Stack https_only;
  auto refused = request(*https_only.mailerd, https_only.key, "POST", "/v1/admin/webhooks",
                         {{"url", "http://example.com/hook"}, {"event_types", {"SENT", "NOPE"}}}, 400);
  CHECK(refused.at("errors").size() == 2);
  CHECK(refused.at("errors")[0].at("field") == "url");
  CHECK(refused.at("errors")[1].at("field") == "event_types[1]");

  auto idn = request(*https_only.mailerd, https_only.key, "POST", "/v1/admin/webhooks",
                     {{"url", "https://b\xc3\xbc" "cher.example/hook"}}, 400);
  CHECK(idn.at("errors")[0].at("field") == "url");
  CHECK(idn.at("errors")[0].at("message").get<std::string>().find("xn--") != std::string::npos);
}

TEST_CASE("Webhook test deliveries and replays keep their webhook-id", "[webhooks][integration]") {
  WebhookReceiver receiver;
  Stack stack(webhook_env());
  auto endpoint = add_endpoint(stack, receiver, {{"event_types", {"SENT"}}});
  const std::string endpoint_id = endpoint.at("id");
  const std::string base = "/v1/admin/webhooks/" + endpoint_id;
  auto test = request(*stack.mailerd, stack.key, "POST", base + "/test", {}, 202);
  CHECK(test.at("kind") == "test");
  REQUIRE(wait_until([&] { return receiver.stats().at("test_deliveries") == 1; }, std::chrono::seconds(10)));

  const std::string id = stack.post_batch(batch_body(addresses(20))).at("id");
  stack.wait_for_status(id, "completed", std::chrono::seconds(20));
  REQUIRE(wait_until([&] { return received_all(receiver, 20); }, std::chrono::seconds(10)));
  // The receiver has the events a moment before mailerd records its answer.
  json events_delivery;
  REQUIRE(wait_until(
      [&] {
        auto delivered = request(*stack.mailerd, stack.key, "GET", base + "/deliveries?status=delivered", {}, 200);
        for (const auto& d : delivered.at("data"))
          if (d.at("kind") == "events") events_delivery = d;
        return events_delivery.is_object();
      },
      std::chrono::seconds(10)));
  const std::string delivery_id = events_delivery.at("id");

  auto replayed = request(*stack.mailerd, stack.key, "POST", base + "/deliveries/" + delivery_id + "/replay", {}, 202);
  CHECK(replayed.at("status") == "pending");
  REQUIRE(wait_until(
      [&] { return receiver.stats().at("duplicates").get<int>() == events_delivery.at("event_count").get<int>(); },
      std::chrono::seconds(10)));
  auto stats = receiver.stats();
  CHECK(stats.at("duplicates_in_new_delivery") == 0);  // same webhook-id
  auto webhook_ids = stats.at("webhook_ids");
  CHECK(std::count(webhook_ids.begin(), webhook_ids.end(), delivery_id) == 2);
  auto shown = request(*stack.mailerd, stack.key, "GET", base + "/deliveries/" + delivery_id, {}, 200);
  CHECK(shown.at("attempts") == 2);

  request(*stack.mailerd, stack.key, "POST", base + "/deliveries/whd_999999/replay", {}, 404);
  auto no_batch = request(*stack.mailerd, stack.key, "POST", "/v1/admin/webhooks",
                          {{"url", receiver.url()}, {"batch_id", "bat_06H4N5FD0NX5MFPYPSZZ"}}, 400);
  CHECK(no_batch.at("errors")[0].at("field") == "batch_id");

  // The list is paged like the others.
  request(*stack.mailerd, stack.key, "POST", "/v1/admin/webhooks", {{"url", receiver.url()}, {"batch_id", id}}, 201);
  auto first = request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks?limit=1", {}, 200);
  REQUIRE(first.at("data").size() == 1);
  CHECK(first.at("data")[0].at("id") == endpoint_id);
  auto rest = request(*stack.mailerd, stack.key, "GET",
                      "/v1/admin/webhooks?cursor=" + first.at("next_cursor").get<std::string>(), {}, 200);
  REQUIRE(rest.at("data").size() == 1);
  CHECK(rest.at("data")[0].at("batch_id") == id);
  CHECK(rest.at("next_cursor").is_null());
  request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks?limit=abc", {}, 400);
  request(*stack.mailerd, stack.key, "GET", "/v1/admin/webhooks?cursor=zzz", {}, 400);

  // A disabled endpoint sends nothing, so neither a replay nor a test waits unseen.
  request(*stack.mailerd, stack.key, "PATCH", base, {{"enabled", false}}, 200);
  request(*stack.mailerd, stack.key, "POST", base + "/deliveries/" + delivery_id + "/replay", {}, 409);
  request(*stack.mailerd, stack.key, "POST", base + "/test", {}, 409);
  request(*stack.mailerd, stack.key, "DELETE", base, {}, 204);
  request(*stack.mailerd, stack.key, "GET", base, {}, 404);
}

TEST_CASE("mailerctl webhooks add, list, update, test, deliveries, replay, remove", "[webhooks][integration]") {
  WebhookReceiver receiver;
  Stack stack(webhook_env());
  auto& mailerd = *stack.mailerd;
  auto added = ctl(mailerd, {"webhooks", "add", "--url", receiver.url(), "--event-type", "SENT"});
  INFO(added.output << added.errors);
  REQUIRE(added.exit_code == 0);
  auto last_line = added.output.substr(added.output.rfind('\n', added.output.size() - 2) + 1);
  last_line.pop_back();
  REQUIRE(last_line.starts_with("whsec_"));
  receiver.control({{"secret", last_line}});

  auto listed = ctl(mailerd, {"--json", "webhooks", "list"});
  REQUIRE(listed.exit_code == 0);
  auto data = json::parse(listed.output).at("data");
  REQUIRE(data.size() == 1);
  CHECK_FALSE(data[0].contains("secret"));
  const std::string id = data[0].at("id");

  auto updated = ctl(mailerd, {"--json", "webhooks", "update", id, "--all-events", "--description", "ops"});
  INFO(updated.output << updated.errors);
  REQUIRE(updated.exit_code == 0);
  CHECK(json::parse(updated.output).at("event_types") == json::array());

  REQUIRE(ctl(mailerd, {"webhooks", "test", id}).exit_code == 0);
  REQUIRE(wait_until([&] { return receiver.stats().at("test_deliveries") == 1; }, std::chrono::seconds(10)));
  auto deliveries = ctl(mailerd, {"--json", "webhooks", "deliveries", id, "--status", "delivered"});
  REQUIRE(deliveries.exit_code == 0);
  auto delivered = json::parse(deliveries.output).at("data");
  REQUIRE(delivered.size() == 1);
  const std::string delivery = delivered[0].at("id");
  REQUIRE(ctl(mailerd, {"webhooks", "replay", id, delivery}).exit_code == 0);
  REQUIRE(wait_until([&] { return receiver.stats().at("test_deliveries") == 2; }, std::chrono::seconds(10)));

  auto bad = ctl(mailerd, {"webhooks", "add", "--url", "ftp://example.com/"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.errors.find("url:") != std::string::npos);
  REQUIRE(ctl(mailerd, {"webhooks", "remove", id}).exit_code == 0);
  CHECK(ctl(mailerd, {"webhooks", "remove", id}).exit_code == 1);
}
