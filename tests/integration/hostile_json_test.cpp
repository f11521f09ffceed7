// Hostile and malformed JSON against the real binaries: deeply nested request
// bodies and SNS envelopes (each once a SIGSEGV of mailerd), and a GetAccount
// answer with wrong types (once an uncaught json::type_error a second after
// start). mailerd must answer 400 naming the field and stay up.
#include <catch2/catch.hpp>

#include "engine_e2e.hpp"
#include "support/fake_ses_fixture.hpp"
#include "support/mailerd_fixture.hpp"

using namespace mailer::test;
using nlohmann::json;

namespace {

// ~200 KB: 100,000 levels of arrays.
const std::string k_deep = std::string(100'000, '[') + std::string(100'000, ']');

bool names_field(const httplib::Result& res, const std::string& field) {
  auto problem = json::parse(res->body);
  for (const auto& error : problem["errors"]) {
    if (error["field"] == field) return true;
  }
  return false;
}

void require_alive(MailerdFixture& mailerd) {
  REQUIRE(mailerd.process().running());
  auto health = mailerd.client()->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

}  // namespace

TEST_CASE("mailerd answers 400 to deeply nested JSON and stays up", "[integration][json]") {
  MailerdOptions options;
  options.env = {{"MAILER_UNSUBSCRIBE_SECRET", "hostile-json-secret-0123456789abcdef"},
                 {"MAILER_SNS_TOPIC_ARNS", "arn:aws:sns:us-east-1:123456789012:ses"},
                 {"AWS_EC2_METADATA_DISABLED", "true"}};
  MailerdFixture mailerd(options);
  auto key = mailerd.create_key("hostile", "admin").key;
  auto client = mailerd.client();
  auto headers = bearer(key);
  struct Case {
    std::string path, body, field;
  };
  const std::string content = R"("content":{"subject":"s","text":"t"})";
  std::vector<Case> cases{
      {"/v1/batches",
       R"({"from":"a@example.com",)" + content + R"(,"recipients":[{"email":"b@example.com","variables":)" + k_deep +
           "}]}",
       "recipients[0].variables"},
      {"/v1/batches",
       R"({"from":"a@example.com",)" + content + R"(,"recipients":["b@example.com"],"metadata":)" + k_deep + "}",
       "metadata"},
      {"/v1/messages", R"({"from":"a@example.com","to":"b@example.com",)" + content + R"(,"variables":)" + k_deep + "}",
       "variables"},
      {"/v1/suppressions", R"({"email":"b@example.com","detail":{"why":)" + k_deep + "}}", "detail"},
      {"/v1/templates/tmpl_none/render", R"({"variables":)" + k_deep + "}", "variables"},
  };
  for (const auto& c : cases) {
    INFO(c.path << " " << c.field);
    auto res = client->Post(c.path.c_str(), headers, c.body, "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(res->get_header_value("Content-Type") == "application/problem+json");
    CHECK(names_field(res, c.field));
    require_alive(mailerd);
  }
  SECTION("the public SNS webhook, before any signature check") {
    auto res = client->Post("/webhooks/ses", R"({"Type":"Notification","Subject":)" + k_deep + "}",
                            "text/plain; charset=UTF-8");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(mailerd.process().wait_for_log("body nests deeper than 64 levels at Subject"));
    require_alive(mailerd);
  }
  SECTION("variables deep enough to fail at render are refused at accept") {
    std::string variables = "1";
    for (int i = 0; i < 40; ++i) variables = R"({"a":)" + variables + "}";
    auto res = client->Post("/v1/batches", headers,
                            R"({"from":"a@example.com",)" + content +
                                R"(,"recipients":[{"email":"b@example.com","variables":)" + variables + "}]}",
                            "application/json");
    REQUIRE(res);
    CHECK(res->status == 400);
    CHECK(names_field(res, "recipients[0].variables"));
  }
}

TEST_CASE("a GetAccount answer with wrong types leaves mailerd sending", "[integration][json][ses]") {
  FakeSesFixture fake({false, {}});
  fake.set_faults({{"account_body", R"({"SendQuota":{"Max24HourSend":200,"MaxSendRate":"fast","SentLast24Hours":0},)"
                                    R"("SendingEnabled":"yes","ProductionAccessEnabled":true})"}});
  auto env = fake.mailerd_env();
  env["MAILER_UNSUBSCRIBE_SECRET"] = "hostile-json-secret-0123456789abcdef";  // ses.max_send_rate stays "auto"
  MailerdFixture mailerd({env, {}});
  REQUIRE(mailerd.process().wait_for_log("SendQuota.MaxSendRate: must be a number", std::chrono::seconds(10)));
  auto key = mailerd.create_key("ops", "admin").key;
  auto body = e2e::batch_body({"a@example.com", "b@example.com", "c@example.com"});
  auto accepted = mailerd.client()->Post("/v1/batches", bearer(key), body.dump(), "application/json");
  REQUIRE(accepted);
  REQUIRE(accepted->status == 202);
  CHECK(e2e::wait_until([&] { return fake.stats().accepted == 3; }, std::chrono::seconds(15)));
  require_alive(mailerd);
  auto metrics = mailerd.client()->Get("/metrics");
  REQUIRE(metrics);
  // The initial "auto" rate is kept: the malformed answer changed nothing.
  CHECK(metrics->body.find("mailer_send_rate_limit_per_second 1\n") != std::string::npos);
  CHECK(metrics->body.find(R"(mailer_ses_requests_total{operation="GetAccount",result="upstream_transient"})") !=
        std::string::npos);
  CHECK(metrics->body.find(R"(mailer_ses_errors_total{operation="GetAccount",code="MalformedResponse"})") !=
        std::string::npos);
}
