#pragma once
// Shared by the engine_*_test.cpp end-to-end tests: a real mailer-fake-ses,
// a real mailerd sending to it, an admin key, and helpers that speak only the
// public HTTP API (SPEC §3) and read only the fake's stored messages.

#include <catch2/catch.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "support/fake_ses_fixture.hpp"
#include "support/mailerd_fixture.hpp"

namespace mailer::test::e2e {

using nlohmann::json;
using SteadyClock = std::chrono::steady_clock;
using Env = std::map<std::string, std::string>;

/// The environment every end-to-end mailerd gets on top of mailerd_env():
/// bulk needs an unsubscribe secret; the rate is fixed (not the fake's
/// GetAccount default of 14/s) unless a test sets it.
inline std::map<std::string, std::string> base_env(const FakeSesFixture& fake) {
  auto env = fake.mailerd_env();
  env["MAILER_UNSUBSCRIBE_SECRET"] = "e2e-unsubscribe-secret-0123456789";
  env["MAILER_SES_MAX_SEND_RATE"] = "100000";
  env["MAILER_WORKER_BACKOFF_BASE_MS"] = "50";
  env["MAILER_WORKER_BACKOFF_MAX_MS"] = "500";
  return env;
}

/// The TopicArn mailer-fake-ses puts on its SNS envelopes by default.
inline const std::string k_fake_sns_topic = "arn:aws:sns:us-east-1:123456789012:mailer-fake-ses-feedback";

/// What mailerd needs to trust the fake's feedback: its topic and its
/// loopback certificate, over http (tests only).
inline Env fake_sns_env() {
  return {{"MAILER_SNS_TOPIC_ARNS", k_fake_sns_topic},
          {"MAILER_SNS_CERT_HOST_PATTERN", R"(^127\.0\.0\.1$)"},
          {"MAILER_SNS_ALLOW_HTTP", "true"}};
}

/// Polls `done` every 20 ms until it is true or `timeout` passes.
inline bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = SteadyClock::now() + timeout;
  while (SteadyClock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return done();
}

/// "user<i>@<domain>" for i in [0, count).
inline std::vector<std::string> addresses(int count, const std::string& domain = "example.com") {
  std::vector<std::string> out;
  for (int i = 0; i < count; ++i) out.push_back(fmt::format("user{}@{}", i, domain));
  return out;
}

/// A POST /v1/batches body with inline content and one variable per recipient.
inline json batch_body(const std::vector<std::string>& emails) {
  json body = {{"from", "Shop <news@example.com>"},
               {"content",
                {{"subject", "Hello {{name}}"},
                 {"html", "<p>Hi {{name}}</p><a href=\"{{unsubscribe_url}}\">unsubscribe</a>"},
                 {"text", "Hi {{name}}\nUnsubscribe: {{unsubscribe_url}}"}}},
               {"recipients", json::array()}};
  for (std::size_t i = 0; i < emails.size(); ++i) {
    body["recipients"].push_back({{"email", emails[i]}, {"variables", {{"name", fmt::format("N{}", i)}}}});
  }
  return body;
}

/// One mailerd (with an admin key) in front of one fake SES.
struct Stack {
  explicit Stack(std::map<std::string, std::string> env = {}, FakeSesOptions fake_options = {})
      : fake(std::move(fake_options)) {
    auto all = base_env(fake);
    for (auto& [k, v] : env) all[k] = v;
    mailerd = std::make_unique<MailerdFixture>(MailerdOptions{all, {}});
    key = mailerd->create_key("e2e", "admin").key;
  }

  /// POST /v1/batches; REQUIREs 202 and returns the answer.
  json post_batch(const json& body) const {
    auto client = mailerd->client();
    auto res = client->Post("/v1/batches", bearer(key), body.dump(), "application/json");
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 202);
    return json::parse(res->body);
  }
  /// GET `target` with the admin key; REQUIREs 200 and returns the JSON answer.
  json get_json(const std::string& target) const {
    auto res = mailerd->client()->Get(target, bearer(key));
    REQUIRE(res);
    INFO(target << " -> " << res->body);
    REQUIRE(res->status == 200);
    return json::parse(res->body);
  }
  /// GET /v1/batches/{id}; REQUIREs 200.
  json batch(const std::string& id) const { return get_json("/v1/batches/" + id); }
  /// POST /v1/batches/{id}/<action>; returns the status code.
  int batch_action(const std::string& id, const std::string& action) const {
    auto client = mailerd->client();
    std::string body = action == "pause" ? "{}" : "";
    auto res = client->Post(("/v1/batches/" + id + "/" + action).c_str(), bearer(key), body, "application/json");
    REQUIRE(res);
    INFO(res->body);
    return res->status;
  }
  /// Waits until the batch is `completed` (or `cancelled`); returns its last view.
  json wait_for_status(const std::string& id, const std::string& status, std::chrono::milliseconds timeout) const {
    json last;
    wait_until(
        [&] {
          last = batch(id);
          // NOTE: not value("status", ""): g++ 12 -O1 reports a false "potential
          // null pointer dereference" in it where this is inlined.
          return last.contains("status") && last["status"] == status;
        },
        timeout);
    return last;
  }

  FakeSesFixture fake;
  std::unique_ptr<MailerdFixture> mailerd;
  std::string key;
};

/// states.<state> of a GET /v1/batches/{id} answer (0 when absent).
inline std::int64_t state_count(const json& batch, const std::string& state) {
  if (!batch.contains("states") || !batch["states"].is_object()) return 0;
  return batch["states"].value(state, std::int64_t{0});
}

/// Checks that the fake stored exactly one message for each of `emails`, and
/// none for anyone else.
inline void check_each_once(const Stack& stack, const std::vector<std::string>& emails) {
  auto counts = count_by_recipient(stack.fake.stored_messages());
  for (const auto& email : emails) {
    INFO(email);
    CHECK(counts[email] == 1);
  }
  CHECK(counts.size() == emails.size());
}

}  // namespace mailer::test::e2e
