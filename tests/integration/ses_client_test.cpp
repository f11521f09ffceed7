// The SES client against the real mailer-fake-ses binary on a loopback port.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mailer/aws/ses_client.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/net/http_client.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "support/aws_env.hpp"

using namespace mailer;
using namespace mailer::aws;
using nlohmann::json;

namespace {

const std::string k_key_id = "AKIDFAKESES";
const std::string k_secret = "fake-ses-secret/VALUE+0123456789";

using mailer::test::curl_global;

using mailer::test::read_file;

struct LoopbackSes {
  explicit LoopbackSes(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{FAKE_SES_BIN,      "--port",    "0",
                                  "--access-key-id", k_key_id,    "--secret-access-key",
                                  k_secret,          "--out-dir", (dir / "out").string(),
                                  "--threads",       "4",         "--log-requests"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child = std::make_unique<test::ChildProcess>(argv, dir / "fake-ses.log");
    auto bound = child->wait_for_port();
    REQUIRE(bound);
    port = *bound;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port); }

  SesClient client(const std::string& secret = k_secret) const {
    CredentialsProvider::Options options;
    options.explicit_config.access_key_id = k_key_id;
    options.explicit_config.secret_access_key = secret;
    options.env = [](const char*) { return std::optional<std::string>(); };
    return SesClient({"us-east-1", *parse_ses_endpoint(url(), "us-east-1"), {}},
                     std::make_shared<CredentialsProvider>(options));
  }

  json control(const std::string& method, const std::string& path, const std::string& body = "") {
    net::HttpClient http;
    auto response = http.perform({method, url() + path, {{"Content-Type", "application/json"}}, body});
    REQUIRE(response);
    REQUIRE(response->status == 200);
    return json::parse(response->body);
  }

  test::TempDir dir;
  std::unique_ptr<test::ChildProcess> child;
  int port = 0;
};

SendRequest sample(const std::string& to = "customer@example.net") {
  return SendRequest{"Example Shop <news@example.com>",
                     {to},
                     {"support@example.com"},
                     "Grüße — ünïcödé ✓",
                     "<p>Hallo</p>",
                     "Hallo",
                     {{"List-Unsubscribe", "<https://example.com/u/abc>, <mailto:u@example.com>"},
                      {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"}},
                     {{"campaign", "spring_2026"}},
                     "mailerd-test"};
}

// Decodes the RFC 2047 B words of a (possibly folded) Subject header value.
std::string decode_subject(const std::string& eml) {
  auto start = eml.find("Subject: ");
  REQUIRE(start != std::string::npos);
  auto end = eml.find("\r\nMIME-Version:", start);
  std::string value = eml.substr(start + 9, end - start - 9);
  std::string out;
  size_t pos = 0;
  while ((pos = value.find("=?UTF-8?B?", pos)) != std::string::npos) {
    auto close = value.find("?=", pos + 10);
    std::string bytes;
    REQUIRE(crypto::base64_decode(value.substr(pos + 10, close - pos - 10), bytes));
    out += bytes;
    pos = close + 2;
  }
  return out;
}

}  // namespace

TEST_CASE("SesClient sends a UTF-8 message with List-Unsubscribe through mailer-fake-ses", "[ses][integration]") {
  (void)curl_global();
  LoopbackSes fake;
  auto client = fake.client();
  auto id = client.send_email(sample());
  REQUIRE(id);
  CHECK(id->size() > 20);

  auto stored = json::parse(read_file(fake.dir / "out" / (*id + ".json")));
  CHECK(stored["MessageId"] == *id);
  const auto& request = stored["Request"];
  CHECK(request["Content"]["Simple"]["Subject"]["Data"] == "Grüße — ünïcödé ✓");
  CHECK(request["Content"]["Simple"]["Headers"][0]["Name"] == "List-Unsubscribe");
  CHECK(request["ReplyToAddresses"][0] == "support@example.com");
  CHECK(request["EmailTags"][0]["Name"] == "campaign");
  CHECK(request["ConfigurationSetName"] == "mailerd-test");

  auto eml = read_file(fake.dir / "out" / (*id + ".eml"));
  CHECK(eml.find("List-Unsubscribe: <https://example.com/u/abc>, <mailto:u@example.com>\r\n") != std::string::npos);
  CHECK(eml.find("Subject: =?UTF-8?B?") != std::string::npos);
  CHECK(decode_subject(eml) == "Grüße — ünïcödé ✓");
  CHECK(eml.find("Content-Type: multipart/alternative") != std::string::npos);
  CHECK(eml.find("<p>Hallo</p>") != std::string::npos);

  // A second request on the same client (same kept-alive connection).
  REQUIRE(client.send_email(sample("other@example.net")));
  auto stats = fake.control("GET", "/_fake/stats");
  CHECK(stats["accepted"] == 2);
  CHECK(stats["total_requests"] == 2);
}

TEST_CASE("SesClient reads GetAccount's quota from mailer-fake-ses", "[ses][integration]") {
  (void)curl_global();
  LoopbackSes fake({"--max-send-rate", "42.5", "--max-24h-send", "-1"});
  auto quota = fake.client().get_account();
  REQUIRE(quota);
  CHECK(quota->max_send_rate == 42.5);
  CHECK(quota->max_24_hour_send == -1);
  CHECK(quota->sent_last_24_hours == 0);
  CHECK(quota->sending_enabled);
}

TEST_CASE("SesClient classifies every error class from mailer-fake-ses", "[ses][integration]") {
  (void)curl_global();
  LoopbackSes fake;
  auto client = fake.client();
  SECTION("throttle") {
    fake.control("POST", "/_fake/faults", R"({"throttle_rate":1})");
    auto r = client.send_email(sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_throttled);
    CHECK(r.error().upstream_code == "TooManyRequestsException");
    CHECK(fake.control("GET", "/_fake/stats")["throttled"] == 1);
  }
  SECTION("max send rate") {
    fake.control("POST", "/_fake/faults", R"({"max_send_rate":1})");
    REQUIRE(client.send_email(sample()));
    auto r = client.send_email(sample());  // the bucket holds one second: 1 recipient
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_throttled);
    CHECK(r.error().detail == "Maximum sending rate exceeded.");
  }
  SECTION("transient 500") {
    fake.control("POST", "/_fake/faults", R"({"error_rate":1})");
    auto r = client.get_account();
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_transient);
    CHECK(r.error().upstream_code == "InternalFailure");
    CHECK(fake.control("GET", "/_fake/stats")["errors"] == 1);
  }
  SECTION("permanent reject") {
    fake.control("POST", "/_fake/faults", R"({"reject_addresses":["Blocked@Example.net"]})");
    auto r = client.send_email(sample("Someone <blocked@example.net>"));
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_permanent);
    CHECK(r.error().upstream_code == "MessageRejected");
    CHECK(r.error().detail.find("blocked@example.net") != std::string::npos);
  }
  SECTION("bad request names the field") {
    auto request = sample();
    request.headers.push_back({"Bad:Name", "x"});
    auto r = client.send_email(request);
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_permanent);
    CHECK(r.error().upstream_code == "BadRequestException");
    CHECK(r.error().detail == "Content.Simple.Headers[2].Name: invalid");
  }
  SECTION("bad signature") {
    auto wrong = fake.client("not-the-right-secret");
    auto r = wrong.send_email(sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_permanent);
    CHECK(r.error().upstream_code == "SignatureDoesNotMatch");
    CHECK(fake.control("GET", "/_fake/stats")["rejected"] == 1);
    CHECK(fake.control("GET", "/_fake/stats")["accepted"] == 0);
  }
  SECTION("nothing listening is transient") {
    fake.child->stop(SIGTERM);
    auto r = client.send_email(sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().code == ErrorCode::upstream_transient);
  }
}

TEST_CASE("no secret appears in client errors or the fake-ses log", "[ses][integration]") {
  (void)curl_global();
  LoopbackSes fake;
  std::vector<Error> errors;
  auto wrong = fake.client("wrong-secret-XYZZY");
  auto bad = wrong.send_email(sample());
  REQUIRE_FALSE(bad);
  errors.push_back(bad.error());
  fake.control("POST", "/_fake/faults", R"({"error_rate":1})");
  auto failing = fake.client().send_email(sample());
  REQUIRE_FALSE(failing);
  errors.push_back(failing.error());
  fake.child->stop(SIGTERM);
  auto down = fake.client().send_email(sample());
  REQUIRE_FALSE(down);
  errors.push_back(down.error());

  auto log = fake.child->log();
  CHECK(log.find("\"msg\":\"request\"") != std::string::npos);  // the log is not empty
  for (const std::string& secret : {k_secret, std::string("wrong-secret-XYZZY"), std::string("Signature=")}) {
    INFO(secret);
    CHECK(log.find(secret) == std::string::npos);
    for (const auto& e : errors) CHECK(e.detail.find(secret) == std::string::npos);
  }
}

TEST_CASE("mailer-fake-ses refuses bad fault patches and verifies a session token", "[ses][integration]") {
  (void)curl_global();
  LoopbackSes fake({"--session-token", "required-token"});
  net::HttpClient http;
  auto bad = http.perform({"POST", fake.url() + "/_fake/faults", {}, R"({"error_rate":2})"});
  REQUIRE(bad);
  CHECK(bad->status == 400);
  auto unknown = http.perform({"POST", fake.url() + "/_fake/faults", {}, R"({"nope":1})"});
  REQUIRE(unknown);
  CHECK(unknown->status == 400);

  auto without = fake.client().get_account();
  REQUIRE_FALSE(without);
  CHECK(without.error().code == ErrorCode::upstream_permanent);
  CHECK(without.error().upstream_code == "UnrecognizedClientException");

  CredentialsProvider::Options options;
  options.explicit_config.access_key_id = k_key_id;
  options.explicit_config.secret_access_key = k_secret;
  options.explicit_config.session_token = "required-token";
  SesClient with({"us-east-1", *parse_ses_endpoint(fake.url(), "us-east-1"), {}},
                 std::make_shared<CredentialsProvider>(options));
  REQUIRE(with.get_account());
}
