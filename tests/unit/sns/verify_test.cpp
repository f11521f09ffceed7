#include <catch2/catch.hpp>

#include "mailer/sns/verify.hpp"
#include "support/fake_clock.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test::sns_fixtures;

namespace {

sns::UrlPolicy production_policy() {
  auto policy = sns::UrlPolicy::from_config(SnsConfig{});
  REQUIRE(policy);
  return *policy;
}

// Counts every GET and answers each with a connection failure.
class FailingFetcher final : public sns::UrlFetcher {
 public:
  Result<Response> get(const std::string&) override {
    ++m_calls;
    return make_error(ErrorCode::upstream_transient, "Couldn't resolve host name");
  }
  int calls() const { return m_calls.load(); }

 private:
  std::atomic<int> m_calls{0};
};

// A notification for `topic` whose certificate URL passes the production policy.
std::string unsigned_notification(const std::string& topic, const std::string& cert_url) {
  return nlohmann::json{{"Type", "Notification"},
                        {"MessageId", "m"},
                        {"TopicArn", topic},
                        {"Message", "{}"},
                        {"Timestamp", "2026-12-05T00:00:00Z"},
                        {"SignatureVersion", "2"},
                        {"Signature", "eA=="},
                        {"SigningCertURL", cert_url}}
      .dump();
}

// The expected stage name for a stage as the manifest spells it.
std::string stage_name(sns::Stage stage) { return std::string(sns::to_string(stage)); }

}  // namespace

TEST_CASE("sns::verify_message gives every fixture the manifest's verdict", "[sns]") {
  CertServer server;
  auto fetcher = std::make_shared<RecordingFetcher>();
  sns::CertificateCache cache(fetcher);
  auto config = test_sns_config();
  int checked = 0;
  auto all = manifest();
  for (const auto& fixture : all["fixtures"]) {
    auto file = fixture["file"].get<std::string>();
    DYNAMIC_SECTION(file) {
      auto verdict = sns::verify_message(body(file, server.port()), config, cache);
      INFO(verdict.reason);
      CHECK(stage_name(verdict.stage) == fixture["stage"].get<std::string>());
      CHECK(verdict.accepted() == (fixture["verdict"] == "accept"));
    }
    ++checked;
  }
  CHECK(checked == 35);
}

TEST_CASE("sns::verify_message fetches a certificate once per URL", "[sns]") {
  CertServer server;
  sns::CertificateCache cache(sns::make_curl_fetcher());
  auto config = test_sns_config();
  for (const char* file :
       {"envelopes/id-delivery-v1.json", "envelopes/id-delivery-v2.json", "envelopes/ev-complaint-abuse-v2.json"}) {
    CHECK(sns::verify_message(body(file, server.port()), config, cache).accepted());
  }
  CHECK(server.request_count() == 1);
}

TEST_CASE("sns::verify_message never fetches from a host outside the pattern", "[sns]") {
  CertServer server;
  auto fetcher = std::make_shared<RecordingFetcher>();
  sns::CertificateCache cache(fetcher);
  auto config = test_sns_config();
  SECTION("certificate URLs of the negative fixtures") {
    for (const char* file : {"negative/cert-url-non-aws-host-1.json", "negative/cert-url-non-aws-host-2.json"}) {
      CHECK(sns::verify_message(body(file, server.port()), config, cache).stage == sns::Stage::cert_url);
    }
    CHECK(fetcher->urls().empty());
  }
  SECTION("loopback certificate URL with the production pattern") {
    config.cert_host_pattern = SnsConfig{}.cert_host_pattern;
    auto verdict = sns::verify_message(body("envelopes/id-delivery-v2.json", server.port()), config, cache);
    CHECK(verdict.stage == sns::Stage::cert_url);
    CHECK(server.request_count() == 0);
    CHECK(fetcher->urls().empty());
  }
  SECTION("http refused unless allow_http") {
    config.allow_http = false;
    auto verdict = sns::verify_message(body("envelopes/id-delivery-v2.json", server.port()), config, cache);
    CHECK(verdict.stage == sns::Stage::cert_url);
    CHECK(server.request_count() == 0);
  }
}

TEST_CASE("sns::verify_message refuses a valid message from a topic not allowed", "[sns]") {
  CertServer server;
  sns::CertificateCache cache(sns::make_curl_fetcher());
  auto config = test_sns_config();
  config.topic_arns = {"arn:aws:sns:us-east-1:111122223333:other"};
  auto verdict = sns::verify_message(body("envelopes/id-delivery-v2.json", server.port()), config, cache);
  CHECK(verdict.stage == sns::Stage::topic_allowlist);
}

TEST_CASE("sns::verify_message reports a certificate it cannot fetch", "[sns]") {
  CertServer server;
  sns::CertificateCache cache(sns::make_curl_fetcher());
  auto text = body("envelopes/id-delivery-v2.json", server.port());
  auto at = text.find("/cert.pem");
  text.replace(at, 9, "/gone.pem");
  auto verdict = sns::verify_message(text, test_sns_config(), cache);
  CHECK(verdict.stage == sns::Stage::certificate);
  CHECK_THAT(verdict.reason, Catch::Contains("HTTP 404"));
}

TEST_CASE("sns::verify_message rejects a bad cert_host_pattern instead of throwing", "[sns]") {
  sns::CertificateCache cache(sns::make_curl_fetcher());
  auto config = test_sns_config();
  config.cert_host_pattern = "([";
  auto verdict = sns::verify_message(body("envelopes/id-delivery-v2.json", 1), config, cache);
  CHECK(verdict.stage == sns::Stage::cert_url);
  CHECK_THAT(verdict.reason, Catch::Contains("sns.cert_host_pattern"));
}

TEST_CASE("sns::url_policy_violation follows the production URL table", "[sns]") {
  auto cases = nlohmann::json::parse(read_text(sns_dir() + "/url-policy-cases.json"));
  auto policy = production_policy();
  int n = 0;
  for (const auto& [list, kind] : {std::pair{"signing_cert_url_cases", sns::UrlKind::signing_cert},
                                   std::pair{"subscribe_url_cases", sns::UrlKind::subscribe}}) {
    for (const auto& c : cases[list]) {
      auto url = c["url"].get<std::string>();
      auto why = sns::url_policy_violation(url, policy, kind);
      INFO(url << " -> " << why << " (" << c["why"].get<std::string>() << ")");
      CHECK(why.empty() == (c["verdict"] == "accept"));
      ++n;
    }
  }
  CHECK(n == 27);
}

TEST_CASE("sns::parse_envelope requires the fields of its type", "[sns]") {
  SECTION("not JSON") {
    CHECK(sns::parse_envelope("nope").error().detail.starts_with("body is not valid JSON (at byte "));
  }
  SECTION("not an object") { CHECK(sns::parse_envelope("[]").error().detail == "body is not a JSON object"); }
  SECTION("unknown type") {
    CHECK(sns::parse_envelope(R"({"Type":"Other"})").error().detail == "field Type: unknown message type 'Other'");
  }
  SECTION("missing Signature") {
    auto parsed = sns::parse_envelope(body("negative/missing-signature.json", 1));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().detail == "field Signature: required string is missing");
  }
  SECTION("confirmation without Token") {
    auto json = nlohmann::json::parse(body("envelopes/subscription-confirmation-v2.json", 1));
    json.erase("Token");
    CHECK(sns::parse_envelope(json.dump()).error().detail == "field Token: required string is missing");
  }
}

TEST_CASE("sns::string_to_sign matches the reference example", "[sns]") {
  auto envelope = sns::parse_envelope(body("envelopes/subscription-confirmation-v1.json", 1));
  REQUIRE(envelope);
  auto text = sns::string_to_sign(*envelope);
  CHECK(text.starts_with("Message\nPlease confirm that this endpoint"));
  CHECK(text.find("\nMessageId\n06f21147-512a-4e29-8b3e-026a0da4d6ee\nSubscribeURL\nhttps://sns.us-east-1") !=
        std::string::npos);
  CHECK(text.ends_with("\nType\nSubscriptionConfirmation\n"));
}

TEST_CASE("sns::looks_like_raw_delivery spots a bare SES record", "[sns]") {
  CHECK(sns::looks_like_raw_delivery(read_text(sns_dir() + "/payloads/id-delivery.json")));
  CHECK(sns::looks_like_raw_delivery(read_text(sns_dir() + "/payloads/ev-delivery.json")));
  CHECK_FALSE(sns::looks_like_raw_delivery(body("envelopes/id-delivery-v2.json", 1)));
  CHECK_FALSE(sns::looks_like_raw_delivery("not json"));
}

TEST_CASE("sns::parse_envelope refuses deep nesting before any signature check", "[sns]") {
  // Once a SIGSEGV: a Subject of 100,000 nested arrays was copied recursively.
  std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto parsed = sns::parse_envelope(R"({"Type":"Notification","Subject":)" + deep + "}");
  REQUIRE_FALSE(parsed);
  CHECK(parsed.error().detail.starts_with("body nests deeper than 64 levels at Subject"));
  CHECK_FALSE(sns::looks_like_raw_delivery(R"({"notificationType":)" + deep + "}"));
  SnsConfig config;
  config.topic_arns = {"arn:aws:sns:us-east-1:123456789012:ses"};
  sns::CertificateCache certificates(nullptr);  // never asked: parsing fails first
  auto verdict = sns::verify_message(R"({"Type":"Notification","Subject":)" + deep + "}", config, certificates);
  CHECK(verdict.stage == sns::Stage::parse);
}

TEST_CASE("sns::url_policy_violation refuses an over-long URL or host before the regex", "[sns]") {
  // Once a SIGSEGV: libstdc++'s std::regex_match recursed once per character of
  // a 50,000-character host and overflowed the stack.
  auto policy = production_policy();
  auto long_host = "https://sns." + std::string(50'000, 'a') + ".amazonaws.com/x.pem";
  CHECK(sns::url_policy_violation(long_host, policy, sns::UrlKind::signing_cert) == "URL is longer than 2048 bytes");
  auto host_300 = "https://sns." + std::string(300, 'a') + ".amazonaws.com/x.pem";
  CHECK(sns::url_policy_violation(host_300, policy, sns::UrlKind::signing_cert) == "host is longer than 253 bytes");
  auto at_limit = "https://sns." + std::string(253 - 18, 'a') + ".amazonaws.com/x.pem";
  CHECK(sns::url_policy_violation(at_limit, policy, sns::UrlKind::signing_cert).empty());
}

TEST_CASE("sns::verify_message fetches nothing for a message failing a check without network", "[sns]") {
  auto fetcher = std::make_shared<FailingFetcher>();
  sns::CertificateCache cache(fetcher);
  SnsConfig config;  // production URL policy
  const std::string topic = "arn:aws:sns:us-east-1:123456789012:mailerd-ses-events";
  config.topic_arns = {topic};
  const std::string cert = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem";
  SECTION("topic not allowed") {
    auto verdict =
        sns::verify_message(unsigned_notification("arn:aws:sns:us-east-1:999999999999:x", cert), config, cache);
    CHECK(verdict.stage == sns::Stage::topic_allowlist);
  }
  SECTION("SubscribeURL not an SNS URL") {
    auto json = nlohmann::json::parse(unsigned_notification(topic, cert));
    json["Type"] = "SubscriptionConfirmation";
    json["SubscribeURL"] = "https://attacker.example/?Action=ConfirmSubscription";
    json["Token"] = "t";
    auto verdict = sns::verify_message(json.dump(), config, cache);
    CHECK(verdict.stage == sns::Stage::subscribe_url);
  }
  SECTION("over-long certificate host") {
    auto long_cert = "https://sns." + std::string(50'000, 'a') + ".amazonaws.com/x.pem";
    auto verdict = sns::verify_message(unsigned_notification(topic, long_cert), config, cache);
    CHECK(verdict.stage == sns::Stage::cert_url);
  }
#ifndef MAILER_PRE_FIX_CHECK
  SECTION("x-amz-sns-* header contradicting the body") {
    auto verdict =
        sns::verify_message(unsigned_notification(topic, cert), config, cache, {"SubscriptionConfirmation", ""});
    CHECK(verdict.stage == sns::Stage::headers);
    verdict = sns::verify_message(unsigned_notification(topic, cert), config, cache, {"", topic + "-other"});
    CHECK(verdict.stage == sns::Stage::headers);
  }
#endif
  CHECK(fetcher->calls() == 0);
}

TEST_CASE("sns::CertificateCache fetches a failing URL once per failure period", "[sns]") {
  auto fetcher = std::make_shared<FailingFetcher>();
#ifndef MAILER_PRE_FIX_CHECK
  test::FakeClock clock;
  sns::CertificateCache cache(fetcher, 2, &clock);
#else
  sns::CertificateCache cache(fetcher, 2);
#endif
  const std::string url = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0.pem";
  for (int i = 0; i < 5; ++i) {
    auto key = cache.key_for(url);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::upstream_transient);
    CHECK_THAT(key.error().detail, Catch::Contains("Couldn't resolve host name"));
  }
  CHECK(fetcher->calls() == 1);
#ifndef MAILER_PRE_FIX_CHECK
  SECTION("tried again once the period is over") {
    clock.advance(sns::k_certificate_failure_ttl);
    CHECK_FALSE(cache.key_for(url));
    CHECK_FALSE(cache.key_for(url));
    CHECK(fetcher->calls() == 2);
  }
  SECTION("at most max_entries failures are remembered, the oldest goes first") {
    CHECK_FALSE(cache.key_for(url + "1"));
    CHECK_FALSE(cache.key_for(url + "2"));  // evicts `url`
    CHECK(fetcher->calls() == 3);
    CHECK_FALSE(cache.key_for(url + "2"));
    CHECK(fetcher->calls() == 3);
    CHECK_FALSE(cache.key_for(url));
    CHECK(fetcher->calls() == 4);
  }
#endif
}
