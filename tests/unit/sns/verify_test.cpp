#include <catch2/catch.hpp>

#include "mailer/sns/verify.hpp"
#include "unit/sns/sns_fixtures.hpp"

using namespace mailer;
using namespace mailer::test::sns_fixtures;

namespace {

sns::UrlPolicy production_policy() {
  auto policy = sns::UrlPolicy::from_config(SnsConfig{});
  REQUIRE(policy);
  return *policy;
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
  for (const char* file : {"envelopes/id-delivery-v1.json", "envelopes/id-delivery-v2.json",
                           "envelopes/ev-complaint-abuse-v2.json"}) {
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
  SECTION("not JSON") { CHECK(sns::parse_envelope("nope").error().detail.starts_with("body is not valid JSON (at byte ")); }
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
