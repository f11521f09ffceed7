// mailer-fake-ses itself, spoken to with raw signed requests: the gate order,
// body validation, storage options and throughput.
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "mailer/aws/ses_client.hpp"
#include "mailer/aws/sigv4.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/net/http_client.hpp"
#include "support/child_process.hpp"
#include "support/temp_dir.hpp"
#include "support/aws_env.hpp"

using namespace mailer;
using nlohmann::json;

namespace {

const std::string k_key_id = "AKIDEXAMPLE";
const std::string k_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

using mailer::test::curl_global;

struct Fake {
  explicit Fake(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv{FAKE_SES_BIN,           "--port",   "0",        "--out-dir",
                                  (dir / "out").string(), "--region", "us-east-1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    child = std::make_unique<test::ChildProcess>(argv, dir / "fake.log");
    auto bound = child->wait_for_port();
    REQUIRE(bound);
    url = "http://127.0.0.1:" + std::to_string(*bound);
  }
  test::TempDir dir;
  std::unique_ptr<test::ChildProcess> child;
  std::string url;
};

net::HttpResponse signed_call(const Fake& fake, const std::string& method, const std::string& path,
                              const std::string& body, const std::string& region = "us-east-1") {
  net::HttpClient http;
  std::string host = fake.url.substr(7);
  std::vector<aws::Header> headers{{"Host", host}, {"Content-Type", "application/json"}};
  aws::add_signature_headers(headers, method, path, "", body,
                             {aws::format_amz_date(std::chrono::system_clock::now()), region, "ses"}, k_key_id,
                             k_secret, "");
  auto response = http.perform({method, fake.url + path, headers, body});
  REQUIRE(response);
  return std::move(*response);
}

json valid_body() {
  return json::parse(R"({"FromEmailAddress":"a@example.com",
    "Destination":{"ToAddresses":["b@example.net"]},
    "Content":{"Simple":{"Subject":{"Data":"Hi"},"Body":{"Text":{"Data":"plain only"}}}}})");
}

std::string error_type(const net::HttpResponse& r) { return r.header("x-amzn-ErrorType").value_or(""); }
std::string message(const net::HttpResponse& r) { return json::parse(r.body).value("message", ""); }

// One provider with the fake's key, for SesClients on several threads.
std::shared_ptr<aws::CredentialsProvider> fake_credentials() {
  aws::CredentialsProvider::Options options;
  options.explicit_config.access_key_id = k_key_id;
  options.explicit_config.secret_access_key = k_secret;
  return std::make_shared<aws::CredentialsProvider>(options);
}

}  // namespace

TEST_CASE("mailer-fake-ses rejects unsigned and mis-scoped requests", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  net::HttpClient http;
  auto unsigned_call = http.perform({"GET", fake.url + "/v2/email/account", {}, ""});
  REQUIRE(unsigned_call);
  CHECK(unsigned_call->status == 403);
  CHECK(error_type(*unsigned_call) == "MissingAuthenticationTokenException");

  auto malformed = http.perform({"GET", fake.url + "/v2/email/account", {{"Authorization", "AWS4-HMAC-SHA256 x"}}, ""});
  REQUIRE(malformed);
  CHECK(malformed->status == 400);
  CHECK(error_type(*malformed) == "IncompleteSignatureException");

  auto wrong_region = signed_call(fake, "GET", "/v2/email/account", "", "eu-west-1");
  CHECK(wrong_region.status == 403);
  CHECK(error_type(wrong_region) == "SignatureDoesNotMatch");

  // A signed body that is then changed in transit.
  std::string body = valid_body().dump();
  std::vector<aws::Header> headers{{"Host", fake.url.substr(7)}, {"Content-Type", "application/json"}};
  aws::add_signature_headers(headers, "POST", "/v2/email/outbound-emails", "", body,
                             {aws::format_amz_date(std::chrono::system_clock::now()), "us-east-1", "ses"}, k_key_id,
                             k_secret, "");
  auto tampered = http.perform({"POST", fake.url + "/v2/email/outbound-emails", headers, body + " "});
  REQUIRE(tampered);
  CHECK(tampered->status == 403);
  CHECK(error_type(*tampered) == "SignatureDoesNotMatch");

  // Signed correctly, but 20 minutes ago.
  std::vector<aws::Header> old_headers{{"Host", fake.url.substr(7)}};
  aws::add_signature_headers(
      old_headers, "GET", "/v2/email/account", "", "",
      {aws::format_amz_date(std::chrono::system_clock::now() - std::chrono::minutes(20)), "us-east-1", "ses"}, k_key_id,
      k_secret, "");
  auto stale = http.perform({"GET", fake.url + "/v2/email/account", old_headers, ""});
  REQUIRE(stale);
  CHECK(stale->status == 400);
  CHECK(error_type(*stale) == "RequestExpired");

  CHECK(signed_call(fake, "GET", "/v2/email/account", "").status == 200);
}

TEST_CASE("mailer-fake-ses validates SendEmail and names the field", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  struct Case {
    std::string pointer;
    json value;
    std::string expected;
  };
  std::vector<Case> cases{
      {"/FromEmailAddress", "", "FromEmailAddress: is required"},
      {"/Destination/ToAddresses", json::array(), "Destination.ToAddresses: needs at least one recipient"},
      {"/Destination/ToAddresses", json::array({1}), "Destination.ToAddresses: must be an array of strings"},
      {"/Content/Simple/Subject", json::object(), "Content.Simple.Subject.Data: must be a string"},
      {"/Content/Simple/Body", json::object(), "Content.Simple.Body: needs Text or Html"},
      {"/Content/Simple/Headers", json::array({{{"Name", "X-A"}, {"Value", "ü"}}}),
       "Content.Simple.Headers[0].Value: invalid"},
      {"/EmailTags", json::array({{{"Name", "bad tag"}, {"Value", "v"}}}), "EmailTags[0].Name: invalid"},
  };
  for (const auto& c : cases) {
    INFO(c.pointer);
    auto body = valid_body();
    body[json::json_pointer(c.pointer)] = c.value;
    auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
    CHECK(r.status == 400);
    CHECK(error_type(r) == "BadRequestException");
    CHECK(message(r) == c.expected);
  }
  auto fifty_one = valid_body();
  for (int i = 0; i < 50; ++i) fifty_one["Destination"]["ToAddresses"].push_back("x@example.net");
  CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", fifty_one.dump())) ==
        "Destination: at most 50 recipients");
  CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", "{not json")) == "body: not valid JSON");
}

TEST_CASE("mailer-fake-ses refuses sending options SES would refuse", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  const std::string arn_rule = ": must be an SES identity ARN (arn:aws:ses:REGION:ACCOUNT:identity/IDENTITY)";
  std::vector<std::pair<json, std::string>> cases{
      {{{"FromEmailAddressIdentityArn", "arn:aws:ses:us-east-1:123:identity/example.com"}},
       "FromEmailAddressIdentityArn" + arn_rule},
      {{{"FeedbackForwardingEmailAddress", "b@example.com"},
        {"FeedbackForwardingEmailAddressIdentityArn", "arn:aws:sns:us-east-1:123456789012:identity/x.com"}},
       "FeedbackForwardingEmailAddressIdentityArn" + arn_rule},
      {{{"FeedbackForwardingEmailAddress", "not an address"}},
       "FeedbackForwardingEmailAddress: must be an email address"},
      {{{"ListManagementOptions", {{"TopicName", "orders"}}}}, "ListManagementOptions.ContactListName: is required"},
      {{{"ListManagementOptions", "customers"}}, "ListManagementOptions: must be an object"},
      {{{"ListManagementOptions", {{"ContactListName", "customers"}, {"TopicName", "has space"}}}},
       "ListManagementOptions.TopicName: must be 1-64 of A-Z a-z 0-9 _ -"},
  };
  for (const auto& [members, expected] : cases) {
    INFO(expected);
    auto body = valid_body();
    body.update(members);
    auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
    CHECK(r.status == 400);
    CHECK(error_type(r) == "BadRequestException");
    CHECK(message(r) == expected);
  }
}

TEST_CASE("mailer-fake-ses shows sending options and SES's unsubscribe link in the .eml", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  auto body = valid_body();
  body["Content"]["Simple"]["Body"] = {{"Text", {{"Data", "Leave: {{amazonSESUnsubscribeUrl}}"}}},
                                       {"Html", {{"Data", "<a href=\"{{amazonSESUnsubscribeUrl}}\">leave</a>"}}}};
  body["FromEmailAddressIdentityArn"] = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
  body["FeedbackForwardingEmailAddress"] = "bounces@example.org";
  body["FeedbackForwardingEmailAddressIdentityArn"] = "arn:aws:ses:us-east-1:210987654321:identity/example.org";
  body["ListManagementOptions"] = {{"ContactListName", "customers"}, {"TopicName", "orders"}};
  auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
  REQUIRE(r.status == 200);
  std::string id = json::parse(r.body)["MessageId"];
  std::ifstream in(fake.dir / "out" / (id + ".eml"), std::ios::binary);
  std::stringstream eml_stream;
  eml_stream << in.rdbuf();
  const std::string eml = eml_stream.str();
  const std::string link = fake.url + "/_fake/unsubscribe/" + id + "?list=customers&topic=orders";
  CHECK(eml.find("Return-Path: <bounces@example.org>\r\n") != std::string::npos);
  CHECK(eml.find("X-SES-FROM-ARN: arn:aws:ses:us-east-1:123456789012:identity/example.com\r\n") != std::string::npos);
  CHECK(eml.find("X-SES-RETURN-PATH-ARN: arn:aws:ses:us-east-1:210987654321:identity/example.org\r\n") !=
        std::string::npos);
  CHECK(eml.find("X-SES-LIST-MANAGEMENT-OPTIONS: customers; topic=orders\r\n") != std::string::npos);
  CHECK(eml.find("List-Unsubscribe: <" + link + ">\r\n") != std::string::npos);
  CHECK(eml.find("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n") != std::string::npos);
  CHECK(eml.find("Leave: " + link) != std::string::npos);
  CHECK(eml.find("<a href=\"" + link + "\">leave</a>") != std::string::npos);
  CHECK(eml.find("amazonSESUnsubscribeUrl") == std::string::npos);
  // The stored request keeps what was sent, placeholder included.
  std::ifstream stored(fake.dir / "out" / (id + ".json"));
  auto record = json::parse(stored);
  CHECK(record["Request"]["ListManagementOptions"]["ContactListName"] == "customers");
  CHECK(record["Request"]["Content"]["Simple"]["Body"]["Text"]["Data"] == "Leave: {{amazonSESUnsubscribeUrl}}");
}

TEST_CASE("mailer-fake-ses stores a text-only message and folds long subjects", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  auto body = valid_body();
  std::string subject;
  for (int i = 0; i < 30; ++i) subject += "ü";  // 60 bytes: two encoded words
  body["Content"]["Simple"]["Subject"]["Data"] = subject;
  auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
  REQUIRE(r.status == 200);
  std::string id = json::parse(r.body)["MessageId"];
  std::ifstream in(fake.dir / "out" / (id + ".eml"), std::ios::binary);
  std::stringstream eml;
  eml << in.rdbuf();
  CHECK(eml.str().find("?=\r\n =?UTF-8?B?") != std::string::npos);
  CHECK(eml.str().find("Content-Type: text/plain; charset=UTF-8") != std::string::npos);
  CHECK(eml.str().find("multipart") == std::string::npos);
  CHECK(eml.str().find("plain only") != std::string::npos);
}

TEST_CASE("mailer-fake-ses --no-store writes nothing and stops promptly", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake({"--no-store", "--keep-alive-seconds", "1"});
  CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump()).status == 200);
  CHECK_FALSE(std::filesystem::exists(fake.dir / "out"));
  auto started = std::chrono::steady_clock::now();
  CHECK(fake.child->stop(SIGTERM) == std::optional<int>(0));
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("SesClients on several threads share one credentials provider", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake({"--no-store", "--threads", "8"});
  auto provider = fake_credentials();
  std::atomic<int> ok{0};
  constexpr int k_threads = 4;
  constexpr int k_per_thread = 50;
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < k_threads; ++t) {
      workers.emplace_back([&] {
        aws::SesClient client({"us-east-1", *aws::parse_ses_endpoint(fake.url, "us-east-1"), {}}, provider);
        for (int i = 0; i < k_per_thread; ++i) {
          if (client.send_email({"a@example.com", {"b@example.net"}, {}, "s", "", "t", {}, {}, ""})) ++ok;
        }
      });
    }
  }
  CHECK(ok == k_threads * k_per_thread);
}

TEST_CASE("mailer-fake-ses throughput", "[.][bench]") {
  (void)curl_global();
  Fake fake({"--no-store", "--threads", "8"});
  auto provider = fake_credentials();
  std::atomic<int> ok{0};
  auto started = std::chrono::steady_clock::now();
  {
    std::vector<std::jthread> workers;
    for (int t = 0; t < 4; ++t) {
      workers.emplace_back([&] {
        aws::SesClient client({"us-east-1", *aws::parse_ses_endpoint(fake.url, "us-east-1"), {}}, provider);
        for (int i = 0; i < 2500; ++i) {
          if (client.send_email({"a@example.com", {"b@example.net"}, {}, "s", "", "t", {}, {}, ""})) ++ok;
        }
      });
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  WARN("sent " << ok << " in " << seconds << " s: " << ok / seconds << " req/s");
  CHECK(ok == 10000);
}

TEST_CASE("mailer-fake-ses refuses a port another fake listens on", "[fake_ses][integration]") {
  // cpp-httplib's default SO_REUSEPORT let a second fake bind the same port,
  // and the kernel then split the requests between the two.
  Fake first;
  auto port = first.url.substr(first.url.rfind(':') + 1);
  test::TempDir dir;
  test::ChildProcess second({FAKE_SES_BIN, "--port", port, "--out-dir", (dir / "out").string()}, dir / "fake.log");
  auto exit_code = second.wait(std::chrono::seconds(10));
  INFO(second.log());
  CHECK(exit_code == 1);
  CHECK(second.log().find("cannot bind") != std::string::npos);
  CHECK(second.log().find("Address already in use") != std::string::npos);
}

TEST_CASE("mailer-fake-ses logs each request's real status", "[fake_ses][integration]") {
  // The log read res.status before httplib set it: every success logged -1.
  (void)curl_global();
  Fake fake({"--log-requests"});
  REQUIRE(signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump()).status == 200);
  REQUIRE(signed_call(fake, "GET", "/v2/email/account", "").status == 200);
  auto bad = valid_body();
  bad.erase("FromEmailAddress");
  REQUIRE(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump()).status == 400);
  std::vector<json> requests;
  for (int tries = 0; tries < 100 && requests.size() < 3; ++tries) {
    requests.clear();
    std::istringstream lines(fake.child->log());
    for (std::string line; std::getline(lines, line);) {
      auto parsed = json::parse(line, nullptr, false);
      if (parsed.is_object() && parsed.value("msg", "") == "request") requests.push_back(parsed);
    }
    if (requests.size() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(fake.child->log());
  REQUIRE(requests.size() == 3);
  CHECK(requests[0]["status"] == 200);
  CHECK(requests[0]["error"] == "");
  CHECK(requests[1]["status"] == 200);
  CHECK(requests[2]["status"] == 400);
  CHECK(requests[2]["error"] == "BadRequestException");
}

TEST_CASE("mailer-fake-ses answers operations it does not implement with a typed SES error",
          "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  SECTION("Raw and Template content") {
    for (const char* kind : {"Raw", "Template"}) {
      INFO(kind);
      auto body = valid_body();
      body["Content"] = {{kind, {{"Data", "TUlNRQ=="}}}};
      auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
      CHECK(r.status == 400);
      CHECK(error_type(r) == "BadRequestException");
      CHECK(message(r) ==
            std::string("Content.") + kind + ": not implemented by mailer-fake-ses; it accepts Simple content only");
      // mailerd's SES client reads it as a typed, permanent error.
      auto error = aws::classify_ses_error(r.status, error_type(r), r.body);
      CHECK(error.code == ErrorCode::upstream_permanent);
      CHECK(error.upstream_code == "BadRequestException");
    }
  }
  SECTION("SendBulkEmail and other routes") {
    auto bulk = signed_call(fake, "POST", "/v2/email/outbound-bulk-emails", "{}");
    CHECK(bulk.status == 400);
    CHECK(error_type(bulk) == "BadRequestException");
    CHECK(message(bulk) == "SendBulkEmail is not implemented by mailer-fake-ses (it serves SendEmail and GetAccount)");
    auto templates = signed_call(fake, "GET", "/v2/email/templates", "");
    CHECK(templates.status == 400);
    CHECK(error_type(templates) == "BadRequestException");
    CHECK(message(templates).find("GET /v2/email/templates is not implemented") == 0);
  }
  SECTION("still signed: an unsigned call to an unknown operation is refused first") {
    net::HttpClient http;
    auto r = http.perform({"POST", fake.url + "/v2/email/outbound-bulk-emails", {}, "{}"});
    REQUIRE(r);
    CHECK(r->status == 403);
  }
}

TEST_CASE("mailer-fake-ses writes attachments into the .eml", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake;
  std::string pdf = "%PDF-1.4 fake\n";
  for (int i = 0; i < 20; ++i) pdf += "binary \x01\x02\xff line\n";
  auto body = valid_body();
  body["Content"]["Simple"]["Body"]["Html"] = {{"Data", "<p>see <img src=\"cid:logo\"></p>"}};
  body["Content"]["Simple"]["Attachments"] = json::array({{{"RawContent", crypto::base64_encode(pdf)},
                                                           {"FileName", "invoice \"march\".pdf"},
                                                           {"ContentType", "application/pdf"}},
                                                          {{"RawContent", crypto::base64_encode("PNG")},
                                                           {"FileName", "logo.png"},
                                                           {"ContentType", "image/png"},
                                                           {"ContentDisposition", "INLINE"},
                                                           {"ContentId", "logo"}}});
  auto r = signed_call(fake, "POST", "/v2/email/outbound-emails", body.dump());
  INFO(r.body);
  REQUIRE(r.status == 200);
  std::string id = json::parse(r.body)["MessageId"];
  std::ifstream in(fake.dir / "out" / (id + ".eml"), std::ios::binary);
  std::stringstream read;
  read << in.rdbuf();
  const std::string eml = read.str();
  INFO(eml);
  CHECK(eml.find("Content-Type: multipart/mixed; boundary=") != std::string::npos);
  CHECK(eml.find("Content-Type: multipart/alternative; boundary=") != std::string::npos);
  CHECK(eml.find("Content-Type: application/pdf; name=\"invoice \\\"march\\\".pdf\"\r\n"
                 "Content-Disposition: attachment; filename=\"invoice \\\"march\\\".pdf\"\r\n"
                 "Content-Transfer-Encoding: base64\r\n") != std::string::npos);
  CHECK(eml.find("Content-Disposition: inline; filename=\"logo.png\"\r\nContent-ID: <logo>\r\n") != std::string::npos);
  // The attachment's bytes come back from its base64 lines, each at most 76 characters.
  auto start = eml.find("base64\r\n\r\n") + 10;
  auto end = eml.find("--", start);
  std::string encoded, line;
  std::istringstream lines(eml.substr(start, end - start));
  while (std::getline(lines, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    CHECK(line.size() <= 76);
    encoded += line;
  }
  std::string decoded;
  REQUIRE(crypto::base64_decode(encoded, decoded));
  CHECK(decoded == pdf);

  SECTION("bounded and validated") {
    auto bad = valid_body();
    bad["Content"]["Simple"]["Attachments"] = json::array({{{"RawContent", "not base64!"}, {"FileName", "a"}}});
    CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump())) ==
          "Content.Simple.Attachments[0].RawContent: must be base64");
    bad["Content"]["Simple"]["Attachments"] =
        json::array({{{"RawContent", "QQ=="}, {"FileName", "a\r\nBcc: x@example.net"}}});
    CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump())) ==
          "Content.Simple.Attachments[0].FileName: must be a one-line string");
    auto many = json::array();
    for (int i = 0; i < 51; ++i) many.push_back({{"RawContent", "QQ=="}, {"FileName", "a"}});
    bad["Content"]["Simple"]["Attachments"] = many;
    CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump())) ==
          "Content.Simple.Attachments: at most 50 attachments");
  }
  SECTION("file types SES refuses, as SES refuses them") {
    auto bad = valid_body();
    for (const char* name : {"setup.exe", "RUN.BAT", "x.tar.js", "macro.vbs"}) {
      INFO(name);
      bad["Content"]["Simple"]["Attachments"] = json::array({{{"RawContent", "QQ=="}, {"FileName", name}}});
      auto answer = signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump());
      CHECK(answer.status == 400);
      CHECK(message(answer) == std::string("Content.Simple.Attachments[0].FileName: attachment type is not supported: ") +
                                   name);
    }
    bad["Content"]["Simple"]["Attachments"] =
        json::array({{{"RawContent", "QQ=="}, {"FileName", "a.pdf"}, {"ContentTransferEncoding", "UUENCODE"}}});
    CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump())) ==
          "Content.Simple.Attachments[0].ContentTransferEncoding: must be BASE64, QUOTED_PRINTABLE or SEVEN_BIT");
    bad["Content"]["Simple"]["Attachments"] =
        json::array({{{"RawContent", "QQ=="}, {"FileName", "a.pdf"}, {"ContentId", std::string(79, 'c')}}});
    CHECK(message(signed_call(fake, "POST", "/v2/email/outbound-emails", bad.dump())) ==
          "Content.Simple.Attachments[0].ContentId: must be 1 to 78 characters");
  }
}

TEST_CASE("mailer-fake-ses --version and exit codes 0/1/2", "[fake_ses][integration]") {
  auto version = test::run_command({FAKE_SES_BIN, "--version"});
  CHECK(version.exit_code == 0);
  CHECK(version.output == std::string("mailer-fake-ses ") + MAILER_VERSION + "\n");
  CHECK(test::run_command({FAKE_SES_BIN, "--help"}).exit_code == 0);
  auto unknown = test::run_command({FAKE_SES_BIN, "--bogus"});
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.errors.find("--bogus") != std::string::npos);
  CHECK(test::run_command({FAKE_SES_BIN, "--threads", "0"}).exit_code == 2);
  auto bad_endpoint = test::run_command({FAKE_SES_BIN, "--sns-endpoint", "ftp://x"});
  CHECK(bad_endpoint.exit_code == 2);
  CHECK(bad_endpoint.errors.find("--sns-endpoint") != std::string::npos);
  // 1 for a runtime failure: "mailer-fake-ses refuses a port another fake listens on".
}

TEST_CASE("mailer-fake-ses enforces max_send_rate with a bucket of burst_seconds", "[fake_ses][integration]") {
  (void)curl_global();
  const auto send = [](const Fake& fake) {
    return signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump());
  };
  SECTION("a bucket of 0.5 s at 4/s holds two recipients") {
    // A token comes back every 250 ms: three calls in a row meet an empty bucket.
    Fake fake({"--no-store", "--fault-max-send-rate", "4", "--fault-burst-seconds", "0.5"});
    CHECK(send(fake).status == 200);
    CHECK(send(fake).status == 200);
    auto refused = send(fake);
    CHECK(refused.status == 429);
    CHECK(error_type(refused) == "TooManyRequestsException");
    CHECK(message(refused) == "Maximum sending rate exceeded.");
    auto stats = json::parse(signed_call(fake, "GET", "/_fake/stats", "").body);
    CHECK(stats["accepted"] == 2);
    CHECK(stats["throttled"] == 1);
    CHECK(json::parse(signed_call(fake, "GET", "/_fake/faults", "").body)["burst_seconds"] == 0.5);
  }
  SECTION("burst_seconds is set at runtime, over 0 and at most 1") {
    Fake fake({"--no-store"});
    CHECK(json::parse(signed_call(fake, "GET", "/_fake/faults", "").body)["burst_seconds"] == 1.0);
    for (const char* bad : {R"({"burst_seconds":0})", R"({"burst_seconds":1.5})", R"({"burst_seconds":"1"})"}) {
      INFO(bad);
      auto res = signed_call(fake, "POST", "/_fake/faults", bad);
      CHECK(res.status == 400);
      CHECK(message(res) == "burst_seconds: invalid value");
    }
    auto set = signed_call(fake, "POST", "/_fake/faults", R"({"burst_seconds":0.25,"max_send_rate":8})");
    CHECK(set.status == 200);
    CHECK(json::parse(set.body)["burst_seconds"] == 0.25);
    CHECK(send(fake).status == 200);  // the bucket holds 2 at 8/s: one token back every 125 ms
    CHECK(send(fake).status == 200);
    CHECK(send(fake).status == 429);
  }
  SECTION("a message to more recipients than the bucket holds goes once it is full, in debt") {
    // At 1/s the bucket holds one recipient: refusing three forever would
    // leave such a message unsendable, which SES does not do.
    Fake fake({"--no-store", "--fault-max-send-rate", "1"});
    auto three = valid_body();
    three["Destination"]["CcAddresses"] = json::array({"c@example.net", "d@example.net"});
    CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", three.dump()).status == 200);
    CHECK(send(fake).status == 429);  // two recipients of debt: about 3 s until the next
  }
  SECTION("the flag refuses 0 and more than 1") {
    for (const char* bad : {"0", "1.5", "x"}) {
      INFO(bad);
      auto run = test::run_command({FAKE_SES_BIN, "--fault-burst-seconds", bad});
      CHECK(run.exit_code == 2);
      CHECK(run.errors.find("--fault-burst-seconds") != std::string::npos);
    }
  }
}

TEST_CASE("mailer-fake-ses counts the recipients it accepts in each second", "[fake_ses][integration]") {
  (void)curl_global();
  Fake fake({"--no-store"});
  auto two = valid_body();
  two["Destination"]["CcAddresses"] = json::array({"c@example.net"});
  const auto started = std::chrono::steady_clock::now();
  CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", two.dump()).status == 200);
  CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump()).status == 200);
  const bool within_a_second = std::chrono::steady_clock::now() - started < std::chrono::milliseconds(900);
  // A throttled send is not accepted, so it is not counted.
  signed_call(fake, "POST", "/_fake/faults", R"({"throttle_rate":1})");
  CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump()).status == 429);
  signed_call(fake, "POST", "/_fake/faults", R"({"throttle_rate":0})");

  auto stats = json::parse(signed_call(fake, "GET", "/_fake/stats", "").body);
  if (within_a_second) CHECK(stats["max_accepted_in_any_second"] == 3);
  CHECK(stats["throttled"] == 1);
  auto seconds = stats["accepted_per_second"].get<std::vector<std::uint64_t>>();
  CHECK(std::accumulate(seconds.begin(), seconds.end(), std::uint64_t{0}) == 3);

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  CHECK(signed_call(fake, "POST", "/v2/email/outbound-emails", valid_body().dump()).status == 200);
  stats = json::parse(signed_call(fake, "GET", "/_fake/stats", "").body);
  seconds = stats["accepted_per_second"].get<std::vector<std::uint64_t>>();
  REQUIRE(seconds.size() >= 2);
  CHECK(seconds.back() == 1);
  CHECK(std::accumulate(seconds.begin(), seconds.end(), std::uint64_t{0}) == 4);
  CHECK(stats["max_accepted_in_any_second"] <= 3);  // the last send came more than a second later
}
