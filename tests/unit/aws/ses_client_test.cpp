#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <atomic>

#include "mailer/aws/ses_client.hpp"
#include "mailer/aws/sigv4.hpp"
#include "support/fake_metadata.hpp"

using namespace mailer;
using namespace mailer::aws;

TEST_CASE("classify_ses_error follows the ses-v2.md table", "[aws][ses]") {
  struct Row {
    long status;
    std::string header, body;
    ErrorCode code;
    std::string upstream;
  };
  std::vector<Row> rows{
      {429, "", R"({"message":"Maximum sending rate exceeded."})", ErrorCode::upstream_throttled, "HTTP429"},
      {429, "TooManyRequestsException:http://internal.amazon.com/coral/x", "{}", ErrorCode::upstream_throttled,
       "TooManyRequestsException"},
      {400, "", R"({"__type":"com.amazonaws#ThrottlingException","message":"Rate exceeded"})",
       ErrorCode::upstream_throttled, "ThrottlingException"},
      {400, "LimitExceededException", R"({"message":"Daily message quota exceeded."})", ErrorCode::upstream_throttled,
       "LimitExceededException"},
      {400, "SendingPausedException", "{}", ErrorCode::upstream_throttled, "SendingPausedException"},
      {500, "InternalFailure", "", ErrorCode::upstream_transient, "InternalFailure"},
      {503, "", "<html>", ErrorCode::upstream_transient, "HTTP503"},
      {403, "ExpiredTokenException", "{}", ErrorCode::upstream_transient, "ExpiredTokenException"},
      {400, "", R"({"code":"MessageRejected","message":"Email address is not verified."})",
       ErrorCode::upstream_permanent, "MessageRejected"},
      {403, "SignatureDoesNotMatch", "{}", ErrorCode::upstream_permanent, "SignatureDoesNotMatch"},
      {400, "AccountSuspendedException", "{}", ErrorCode::upstream_permanent, "AccountSuspendedException"},
      {404, "NotFoundException", "{}", ErrorCode::upstream_permanent, "NotFoundException"},
      {413, "", "", ErrorCode::upstream_permanent, "HTTP413"},
  };
  for (const auto& row : rows) {
    INFO(row.status << " " << row.header << " " << row.body);
    auto error = classify_ses_error(row.status, row.header, row.body);
    CHECK(error.code == row.code);
    CHECK(error.upstream_code == row.upstream);
  }
  auto with_message = classify_ses_error(400, "", R"({"code":"MessageRejected","Message":"Bad MIME"})");
  CHECK(with_message.detail == "Bad MIME");
  CHECK(classify_ses_error(502, "", "").detail == "SES answered HTTP 502");
}

TEST_CASE("send_email_body builds Simple content with UTF-8 charsets", "[aws][ses]") {
  SendRequest request{"Shop <news@example.com>",
                      {"a@example.net"},
                      {"support@example.com"},
                      "Grüße",
                      "<p>hi</p>",
                      "hi",
                      {{"List-Unsubscribe", "<https://u>"}},
                      {{"campaign", "spring"}},
                      "prod"};
  auto body = nlohmann::json::parse(send_email_body(request));
  CHECK(body["FromEmailAddress"] == "Shop <news@example.com>");
  CHECK(body["Destination"]["ToAddresses"] == nlohmann::json::array({"a@example.net"}));
  CHECK(body["ReplyToAddresses"][0] == "support@example.com");
  const auto& simple = body["Content"]["Simple"];
  CHECK(simple["Subject"]["Data"] == "Grüße");
  CHECK(simple["Subject"]["Charset"] == "UTF-8");
  CHECK(simple["Body"]["Html"]["Data"] == "<p>hi</p>");
  CHECK(simple["Body"]["Text"]["Charset"] == "UTF-8");
  CHECK(simple["Headers"][0]["Name"] == "List-Unsubscribe");
  CHECK(body["EmailTags"][0]["Value"] == "spring");
  CHECK(body["ConfigurationSetName"] == "prod");

  SendRequest minimal{"a@b.c", {"d@e.f"}, {}, "s", "", "t", {}, {}, ""};
  auto small = nlohmann::json::parse(send_email_body(minimal));
  CHECK_FALSE(small.contains("ReplyToAddresses"));
  CHECK_FALSE(small.contains("EmailTags"));
  CHECK_FALSE(small.contains("ConfigurationSetName"));
  CHECK_FALSE(small["Content"]["Simple"]["Body"].contains("Html"));
  CHECK_FALSE(small["Destination"].contains("CcAddresses"));
  CHECK_FALSE(small["Destination"].contains("BccAddresses"));
  CHECK(minimal.recipient_count() == 1);

  minimal.cc = {"c1@e.f", "c2@e.f"};
  minimal.bcc = {"b@e.f"};
  auto copied = nlohmann::json::parse(send_email_body(minimal));
  CHECK(copied["Destination"]["CcAddresses"] == nlohmann::json::array({"c1@e.f", "c2@e.f"}));
  CHECK(copied["Destination"]["BccAddresses"] == nlohmann::json::array({"b@e.f"}));
  CHECK(minimal.recipient_count() == 4);
}

TEST_CASE("send_email_body sends identity ARNs, feedback forwarding and list management only when set",
          "[aws][ses]") {
  SendRequest request{"news@example.com", {"d@e.f"}, {}, "s", "", "t", {}, {}, ""};
  auto bare = nlohmann::json::parse(send_email_body(request));
  for (const char* key : {"FromEmailAddressIdentityArn", "FeedbackForwardingEmailAddress",
                          "FeedbackForwardingEmailAddressIdentityArn", "ListManagementOptions"}) {
    INFO(key);
    CHECK_FALSE(bare.contains(key));
  }

  request.from_identity_arn = "arn:aws:ses:us-east-1:123456789012:identity/example.com";
  request.feedback_forwarding_address = "bounces@example.com";
  request.list_management = ListManagement{"customers", ""};
  auto body = nlohmann::json::parse(send_email_body(request));
  CHECK(body["FromEmailAddressIdentityArn"] == "arn:aws:ses:us-east-1:123456789012:identity/example.com");
  CHECK(body["FeedbackForwardingEmailAddress"] == "bounces@example.com");
  CHECK_FALSE(body.contains("FeedbackForwardingEmailAddressIdentityArn"));
  CHECK(body["ListManagementOptions"] == nlohmann::json{{"ContactListName", "customers"}});

  request.feedback_forwarding_identity_arn = "arn:aws:ses:us-east-1:210987654321:identity/example.com";
  request.list_management->topic_name = "orders";
  body = nlohmann::json::parse(send_email_body(request));
  CHECK(body["FeedbackForwardingEmailAddressIdentityArn"] == "arn:aws:ses:us-east-1:210987654321:identity/example.com");
  CHECK(body["ListManagementOptions"] == nlohmann::json{{"ContactListName", "customers"}, {"TopicName", "orders"}});

  // The identity ARN of the feedback address means nothing without the address.
  request.feedback_forwarding_address.clear();
  body = nlohmann::json::parse(send_email_body(request));
  CHECK_FALSE(body.contains("FeedbackForwardingEmailAddress"));
  CHECK_FALSE(body.contains("FeedbackForwardingEmailAddressIdentityArn"));
}

TEST_CASE("send_email_body sends attachments as Content.Simple.Attachments", "[aws][ses]") {
  SendRequest request{"a@b.c", {"d@e.f"}, {}, "s", "<img src=\"cid:logo\">", "", {}, {}, ""};
  CHECK_FALSE(nlohmann::json::parse(send_email_body(request))["Content"]["Simple"].contains("Attachments"));
  request.attachments.push_back(
      {"invoice.pdf", "application/pdf", Disposition::attachment, "", std::make_shared<const std::string>("%PDF")});
  request.attachments.push_back({"logo.png", "image/png", Disposition::inlined, "logo",
                                 std::make_shared<const std::string>(std::string("\x89PNG\0", 5))});
  auto body = nlohmann::json::parse(send_email_body(request));
  const auto& files = body["Content"]["Simple"]["Attachments"];
  REQUIRE(files.size() == 2);
  CHECK(files[0] == nlohmann::json{{"FileName", "invoice.pdf"},
                                   {"ContentType", "application/pdf"},
                                   {"ContentDisposition", "ATTACHMENT"},
                                   {"ContentTransferEncoding", "BASE64"},
                                   {"RawContent", "JVBERg=="}});
  CHECK(files[1]["ContentDisposition"] == "INLINE");
  CHECK(files[1]["ContentId"] == "logo");
  CHECK(files[1]["RawContent"] == "iVBORwA=");
}

TEST_CASE("resolve_ses_endpoint precedence", "[aws][ses]") {
  std::map<std::string, std::string> vars;
  EnvGetter env = [&vars](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    return it == vars.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  SesConfig config;
  config.region = "eu-west-1";
  CHECK(resolve_ses_endpoint(config, env) == "https://email.eu-west-1.amazonaws.com");
  vars["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1/";
  CHECK(resolve_ses_endpoint(config, env) == "http://127.0.0.1:1");
  vars["AWS_ENDPOINT_URL_SESV2"] = "http://127.0.0.1:2";
  CHECK(resolve_ses_endpoint(config, env) == "http://127.0.0.1:2");
  config.endpoint = "http://127.0.0.1:3";
  CHECK(resolve_ses_endpoint(config, env) == "http://127.0.0.1:3");
  config.endpoint.clear();
  vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
  CHECK(resolve_ses_endpoint(config, env) == "https://email.eu-west-1.amazonaws.com");
}

TEST_CASE("parse_ses_endpoint splits an endpoint once for every request", "[aws][ses]") {
  CHECK(*parse_ses_endpoint("http://127.0.0.1:4566/ses/", "us-east-1") ==
        SesEndpoint{"http://127.0.0.1:4566", "127.0.0.1:4566", "/ses"});
  CHECK(*parse_ses_endpoint("", "eu-west-1") ==
        SesEndpoint{"https://email.eu-west-1.amazonaws.com", "email.eu-west-1.amazonaws.com", ""});
  CHECK(*parse_ses_endpoint("ses.example:8443", "us-east-1") ==
        SesEndpoint{"https://ses.example:8443", "ses.example:8443", ""});
}

TEST_CASE("parse_ses_endpoint refuses an endpoint no request could use", "[aws][ses]") {
  auto refusal = [](std::string_view text) {
    auto parsed = parse_ses_endpoint(text, "us-east-1");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::invalid_input);
    return parsed.error().detail;
  };
  CHECK(refusal("ftp://ses.example") == "ses.endpoint ftp://ses.example: scheme must be http or https");
  CHECK(refusal("http:///v2") == "ses.endpoint http:///v2: has no host");
  CHECK(refusal("http://user@ses.example") == "ses.endpoint http://user@ses.example: must not contain user info");
  CHECK(refusal("http://ses.example/?a=1") == "ses.endpoint http://ses.example/?a=1: must not contain a query");
  CHECK(refusal("http://ses.example/#f") == "ses.endpoint http://ses.example/#f: must not contain a fragment");
  CHECK(refusal("http://ses .example") ==
        "ses.endpoint http://ses .example: must not contain whitespace or control characters");
}

TEST_CASE("parse_ses_endpoint names why a malformed endpoint is refused", "[aws][ses]") {
  auto refusal = [](std::string_view text) {
    auto parsed = parse_ses_endpoint(text, "us-east-1");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::invalid_input);
    return parsed.error().detail;
  };
  SECTION("unclosed IPv6 literal") {
    CHECK(refusal("https://[::1") == "ses.endpoint https://[::1: has a malformed IPv6 address");
  }
  SECTION("no host before the port") { CHECK(refusal("http://:80").ends_with(": has no host")); }
  SECTION("port out of range") {
    CHECK(refusal("http://h:99999") == "ses.endpoint http://h:99999: port 99999 is out of range 1-65535");
    CHECK(refusal("http://h:0") == "ses.endpoint http://h:0: port 0 is out of range 1-65535");
  }
  SECTION("port not a number") {
    CHECK(refusal("http://h:abc") == "ses.endpoint http://h:abc: port \"abc\" is not a number in 1-65535");
  }
  SECTION("percent escape in the host") { CHECK(refusal("http://h%00x").starts_with("ses.endpoint http://h%00x: ")); }
  SECTION("host longer than 253 bytes, shown truncated") {
    auto detail = refusal("http://" + std::string(5000, 'a'));
    CHECK(detail.starts_with("ses.endpoint http://aaaa"));
    CHECK(detail.find("...: ") != std::string::npos);
    CHECK(detail.size() < 200);
  }
  SECTION("label longer than 63 bytes") {
    CHECK(refusal("http://" + std::string(64, 'a') + ".example").ends_with("has a label longer than 63 bytes"));
  }
  SECTION("a NUL byte") { CHECK(refusal(std::string("http://h\0x", 10)).starts_with("ses.endpoint ")); }
}

TEST_CASE("parse_ses_endpoint accepts ports, IPv6 literals and prefixes", "[aws][ses]") {
  CHECK(*parse_ses_endpoint("http://[::1]:4566/p/", "us-east-1") ==
        SesEndpoint{"http://[::1]:4566", "[::1]:4566", "/p"});
  CHECK(*parse_ses_endpoint("http://h:65535", "us-east-1") == SesEndpoint{"http://h:65535", "h:65535", ""});
  CHECK((*parse_ses_endpoint("http://" + std::string(63, 'a') + ".example", "us-east-1")).host.size() == 71);
}

TEST_CASE("SesClient drops cached credentials after ExpiredTokenException", "[aws][ses]") {
  static net::CurlGlobal curl;
  test::FakeMetadataServer imds;
  imds.set_credentials("ASIAONE", "imds-secret", "imds-token", "2099-01-01T00:00:00Z");
  test::LoopbackServer ses;
  std::atomic<int> calls{0};
  std::string seen_token, seen_host;  // written by the server thread while the client waits
  ses.server().Get("/v2/email/account", [&](const httplib::Request& req, httplib::Response& res) {
    ++calls;
    seen_token = req.get_header_value("X-Amz-Security-Token");
    seen_host = req.get_header_value("Host");
    res.status = 403;
    res.set_header("x-amzn-ErrorType", "ExpiredTokenException");
    res.set_content(R"({"message":"The security token included in the request is expired"})", "application/json");
  });
  ses.start();
  CredentialsProvider::Options options;
  options.env = [&imds](const char* name) -> std::optional<std::string> {
    if (std::string(name) == "AWS_EC2_METADATA_SERVICE_ENDPOINT") return imds.url();
    if (std::string(name) == "HOME") return "/nonexistent";
    return std::nullopt;
  };
  auto provider = std::make_shared<CredentialsProvider>(options);
  SesClient client({"us-east-1", *parse_ses_endpoint(ses.url() + "/", "us-east-1"), {}}, provider);
  auto first = client.get_account();
  REQUIRE_FALSE(first);
  CHECK(first.error().code == ErrorCode::upstream_transient);
  CHECK(first.error().detail == "The security token included in the request is expired");
  CHECK(imds.credential_requests() == 1);
  REQUIRE_FALSE(client.get_account());
  CHECK(imds.credential_requests() == 2);  // fetched again, not served from the cache
  CHECK(calls == 2);
  CHECK(seen_token == "imds-token");
  CHECK(seen_host == "127.0.0.1:" + std::to_string(ses.port()));
}

TEST_CASE("SesClient keeps an endpoint path prefix and parses GetAccount", "[aws][ses]") {
  static net::CurlGlobal curl;
  test::LoopbackServer ses;
  std::string seen_target, seen_authorization;
  ses.server().Get(".*", [&](const httplib::Request& req, httplib::Response& res) {
    seen_target = req.target;
    seen_authorization = req.get_header_value("Authorization");
    res.set_content(R"({"SendQuota":{"Max24HourSend":-1,"MaxSendRate":0.5,"SentLast24Hours":7},
                        "SendingEnabled":false,"ProductionAccessEnabled":true})",
                    "application/json");
  });
  ses.start();
  CredentialsProvider::Options options;
  options.explicit_config.access_key_id = "AKIDPREFIX";
  options.explicit_config.secret_access_key = "prefix-secret";
  SesClient client({"eu-central-1", *parse_ses_endpoint(ses.url() + "/prefix/", "eu-central-1"), {}},
                   std::make_shared<CredentialsProvider>(options));
  auto quota = client.get_account();
  REQUIRE(quota);
  CHECK(quota->max_24_hour_send == -1);
  CHECK(quota->max_send_rate == 0.5);
  CHECK(quota->sent_last_24_hours == 7);
  CHECK_FALSE(quota->sending_enabled);
  CHECK(quota->production_access_enabled);
  CHECK(seen_target == "/prefix/v2/email/account");
  auto auth = parse_authorization(seen_authorization);
  REQUIRE(auth.ok);
  CHECK(auth.access_key_id == "AKIDPREFIX");
  CHECK(auth.region == "eu-central-1");
  CHECK(auth.service == "ses");
}

TEST_CASE("SesClient treats a 2xx SendEmail without MessageId as permanent", "[aws][ses]") {
  static net::CurlGlobal curl;
  test::LoopbackServer ses;
  ses.server().Post("/v2/email/outbound-emails",
                    [](const httplib::Request&, httplib::Response& res) { res.set_content("{}", "application/json"); });
  ses.start();
  CredentialsProvider::Options options;
  options.explicit_config.access_key_id = "AKID";
  options.explicit_config.secret_access_key = "secret";
  SesClient client({"us-east-1", *parse_ses_endpoint(ses.url(), "us-east-1"), {}},
                   std::make_shared<CredentialsProvider>(options));
  auto id = client.send_email({"a@b.c", {"d@e.f"}, {}, "s", "", "t", {}, {}, ""});
  REQUIRE_FALSE(id);
  CHECK(id.error().code == ErrorCode::upstream_permanent);
  CHECK(id.error().upstream_code == "MalformedResponse");
}

namespace {

const std::string k_deep = std::string(100'000, '[') + std::string(100'000, ']');
const std::string k_good_account =
    R"({"SendQuota":{"Max24HourSend":200,"MaxSendRate":1,"SentLast24Hours":0},"SendingEnabled":true,"ProductionAccessEnabled":false})";

// A GetAccount answer with `member` (a path such as "SendQuota.MaxSendRate") set to `value`, or removed when null.
std::string account_with(const std::string& member, const nlohmann::json& value) {
  auto body = nlohmann::json::parse(k_good_account);
  auto dot = member.find('.');
  auto& parent = dot == std::string::npos ? body : body[member.substr(0, dot)];
  auto name = dot == std::string::npos ? member : member.substr(dot + 1);
  if (value.is_null()) parent.erase(name);
  else parent[name] = value;
  return body.dump();
}

}  // namespace

TEST_CASE("parse_account refuses wrong types and missing fields without throwing", "[aws][ses]") {
  // Once an uncaught json::type_error that killed mailerd a second after start.
  REQUIRE(parse_account(k_good_account));
  struct Row {
    std::string body, detail;
  };
  std::vector<Row> rows{
      {account_with("SendQuota.MaxSendRate", "fast"), "SendQuota.MaxSendRate: must be a number"},
      {account_with("SendQuota.Max24HourSend", nlohmann::json::array()), "SendQuota.Max24HourSend: must be a number"},
      {account_with("SendQuota.SentLast24Hours", nullptr), "SendQuota.SentLast24Hours: missing"},
      {account_with("SendingEnabled", "yes"), "SendingEnabled: must be a boolean"},
      {account_with("ProductionAccessEnabled", 1), "ProductionAccessEnabled: must be a boolean"},
      {account_with("SendingEnabled", nullptr), "SendingEnabled: missing"},
      {account_with("SendQuota", "none"), "SendQuota: missing or not an object"},
      {"[]", "SendQuota: missing or not an object"},
      {"<html>", "answer is not valid JSON (at byte 1)"},
      {"", "answer is not valid JSON (at byte 1)"},
  };
  for (const auto& row : rows) {
    INFO(row.body);
    Result<AccountQuota> quota = make_error(ErrorCode::internal, "not run");
    REQUIRE_NOTHROW(quota = parse_account(row.body));
    REQUIRE_FALSE(quota);
    CHECK(quota.error().code == ErrorCode::invalid_input);
    CHECK(quota.error().detail == row.detail);
  }
  CHECK(parse_account(R"({"SendQuota":)" + k_deep + "}").error().detail.starts_with("answer nests deeper than 64"));
  CHECK(parse_account(std::string(2 * 1024 * 1024, ' ')).error().code == ErrorCode::too_large);
}

TEST_CASE("parse_account refuses numbers that cannot be a quota", "[aws][ses]") {
  struct Row {
    const char* member;
    nlohmann::json value;
    std::string detail;
  };
  std::vector<Row> rows{
      {"SendQuota.MaxSendRate", -5, "SendQuota.MaxSendRate: -5: must be a positive number"},
      {"SendQuota.MaxSendRate", 0, "SendQuota.MaxSendRate: 0: must be a positive number"},
      {"SendQuota.Max24HourSend", -2, "SendQuota.Max24HourSend: -2: must be -1 (unlimited) or a number, 0 or more"},
      {"SendQuota.Max24HourSend", -0.5, "SendQuota.Max24HourSend: -0.5: must be -1 (unlimited) or a number, 0 or more"},
      {"SendQuota.SentLast24Hours", -1, "SendQuota.SentLast24Hours: -1: must be a number, 0 or more"},
  };
  for (const auto& row : rows) {
    INFO(row.member << " = " << row.value);
    auto quota = parse_account(account_with(row.member, row.value));
    REQUIRE_FALSE(quota);
    CHECK(quota.error().code == ErrorCode::invalid_input);
    CHECK(quota.error().detail == row.detail);
  }
  // 1e400 is past a double: refused whether the parser reads it as infinity or not.
  CHECK_FALSE(parse_account(R"({"SendQuota":{"Max24HourSend":-1,"MaxSendRate":1e400,"SentLast24Hours":0},)"
                            R"("SendingEnabled":true,"ProductionAccessEnabled":true})"));
  auto unlimited = parse_account(account_with("SendQuota.Max24HourSend", -1));
  REQUIRE(unlimited);
  CHECK(unlimited->max_24_hour_send == -1);
}

TEST_CASE("parse_send_email_answer wants a non-empty string MessageId", "[aws][ses]") {
  CHECK(parse_send_email_answer(R"({"MessageId":"0100-abc"})").value() == "0100-abc");
  const std::vector<std::string> bodies{
      "{}", R"({"MessageId":""})", R"({"MessageId":7})", "[]", "", "<html>", R"({"MessageId":)" + k_deep + "}"};
  for (const auto& body : bodies) {
    INFO(body.substr(0, 40));
    auto id = parse_send_email_answer(body);
    REQUIRE_FALSE(id);
    CHECK(id.error().code == ErrorCode::upstream_permanent);
    CHECK(id.error().upstream_code == "MalformedResponse");
    CHECK(id.error().detail.starts_with("SendEmail: 2xx answer without a MessageId ("));
  }
}

TEST_CASE("SesClient turns malformed 2xx answers into errors of the call", "[aws][ses]") {
  static net::CurlGlobal curl;
  test::LoopbackServer ses;
  std::string answer;  // written before each call, read by the server thread during it
  ses.server().Get("/v2/email/account", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(answer, "application/json");
  });
  ses.server().Post("/v2/email/outbound-emails", [&](const httplib::Request&, httplib::Response& res) {
    res.set_content(answer, "application/json");
  });
  ses.start();
  CredentialsProvider::Options options;
  options.explicit_config.access_key_id = "AKID";
  options.explicit_config.secret_access_key = "secret";
  SesClient client({"us-east-1", *parse_ses_endpoint(ses.url(), "us-east-1"), {}},
                   std::make_shared<CredentialsProvider>(options));
  SECTION("GetAccount") {
    for (std::string body :
         {account_with("SendQuota.MaxSendRate", "fast"), account_with("SendingEnabled", "yes"), std::string("not json"),
          R"({"SendQuota":)" + k_deep + "}", R"({"x":")" + std::string(2 * 1024 * 1024, 'x') + R"("})"}) {
      INFO(body.substr(0, 80));
      answer = body;
      Result<AccountQuota> quota = make_error(ErrorCode::internal, "not run");
      REQUIRE_NOTHROW(quota = client.get_account());
      REQUIRE_FALSE(quota);
      CHECK(quota.error().code == ErrorCode::upstream_transient);
      CHECK(quota.error().upstream_code == "MalformedResponse");
      CHECK(quota.error().detail.starts_with("GetAccount: "));
    }
    answer = account_with("SendQuota.MaxSendRate", "fast");
    CHECK(client.get_account().error().detail == "GetAccount: SendQuota.MaxSendRate: must be a number");
  }
  SECTION("SendEmail") {
    for (std::string body : {std::string(R"({"MessageId":42})"), std::string(R"({"MessageId":""})"), std::string("[]"),
                             std::string("not json"), R"({"MessageId":)" + k_deep + "}"}) {
      INFO(body.substr(0, 80));
      answer = body;
      Result<std::string> id = make_error(ErrorCode::internal, "not run");
      REQUIRE_NOTHROW(id = client.send_email({"a@b.c", {"d@e.f"}, {}, "s", "", "t", {}, {}, ""}));
      REQUIRE_FALSE(id);
      CHECK(id.error().code == ErrorCode::upstream_permanent);
      CHECK(id.error().upstream_code == "MalformedResponse");
    }
    answer = R"({"MessageId":42})";
    CHECK(client.send_email({"a@b.c", {"d@e.f"}, {}, "s", "", "t", {}, {}, ""}).error().detail ==
          "SendEmail: 2xx answer without a MessageId (MessageId: must be a string)");
  }
}
