#pragma once
// Shared helpers of the tests/integration/api_*_test.cpp files: JSON requests
// with a key, problem checks, and the bodies most tests need.
#include <catch2/catch.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "support/mailerd_fixture.hpp"

namespace mailer::test::api {

using nlohmann::json;

inline constexpr const char* k_secret_env = "MAILER_UNSUBSCRIBE_SECRET";

/// The fixture options every API test starts from: bulk allowed.
inline MailerdOptions api_options(std::map<std::string, std::string> extra = {}) {
  MailerdOptions options;
  options.env = {{k_secret_env, "test-unsubscribe-secret-0123456789abcdef"}};
  for (auto& [name, value] : extra) options.env[name] = value;
  return options;
}

inline httplib::Headers with_key(const std::string& key, httplib::Headers more = {}) {
  more.emplace("Authorization", "Bearer " + key);
  return more;
}

inline json body_of(const httplib::Result& res) {
  REQUIRE(res);
  return json::parse(res->body);
}

inline httplib::Result post_json(httplib::Client& client, const std::string& path, const std::string& key,
                                 const json& body, httplib::Headers more = {}) {
  return client.Post(path.c_str(), with_key(key, std::move(more)), body.dump(), "application/json");
}

inline httplib::Result put_json(httplib::Client& client, const std::string& path, const std::string& key,
                                const json& body) {
  return client.Put(path.c_str(), with_key(key), body.dump(), "application/json");
}

inline httplib::Result get(httplib::Client& client, const std::string& path, const std::string& key) {
  return client.Get(path.c_str(), with_key(key));
}

/// Asserts a problem+json answer with `status` and type ".../<type>"; returns its body.
inline json require_problem(const httplib::Result& res, int status, const std::string& type) {
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == status);
  CHECK(res->get_header_value("Content-Type") == "application/problem+json");
  auto problem = json::parse(res->body);
  CHECK(problem["status"] == status);
  CHECK(problem["type"] == "https://mailerd.dev/problems/" + type);
  return problem;
}

/// True when the problem lists an error for `field`.
inline bool has_field(const json& problem, const std::string& field) {
  if (!problem.contains("errors")) return false;
  for (const auto& e : problem["errors"]) {
    if (e.value("field", "") == field) return true;
  }
  return false;
}

inline json simple_template(const std::string& name) {
  return {{"name", name},
          {"subject", "Hello {{first_name}}"},
          {"html", "<p>Hi {{first_name}}</p>"},
          {"text", "Hi {{first_name}}"}};
}

/// A batch of inline content to `emails`, scheduled a year ahead so that no
/// worker touches it while the test looks at its state.
inline json scheduled_batch(const std::vector<std::string>& emails) {
  json recipients = json::array();
  for (const auto& email : emails) recipients.push_back({{"email", email}});
  return {{"from", "Shop <news@example.com>"},
          {"content", {{"subject", "Hi"}, {"text", "Hello {{email}}"}}},
          {"recipients", std::move(recipients)},
          {"send_at", "2099-01-01T09:00:00Z"}};
}

}  // namespace mailer::test::api
