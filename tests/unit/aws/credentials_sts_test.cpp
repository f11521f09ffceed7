#include <catch2/catch.hpp>

#include <map>

#include "mailer/aws/credentials_sts.hpp"
#include "mailer/net/http_client.hpp"
#include "support/aws_env.hpp"
#include "support/fake_sts.hpp"

using namespace mailer;
using namespace mailer::aws;
using mailer::test::curl_global;
using mailer::test::env_of;

namespace {

const std::string k_web = "AssumeRoleWithWebIdentity";

}  // namespace

TEST_CASE("parse_sts_credentials reads the Credentials of an STS answer", "[aws][sts]") {
  auto xml = test::FakeStsServer::credentials_xml(k_web, "ASIAX", "s3cr3t", "tok", "2026-11-09T13:34:41Z");
  auto credentials = parse_sts_credentials(xml, k_web, "web-identity");
  REQUIRE(credentials);
  CHECK(credentials->access_key_id == "ASIAX");
  CHECK(credentials->secret_access_key == "s3cr3t");
  CHECK(credentials->session_token == "tok");
  CHECK(credentials->source == "web-identity");
  REQUIRE(credentials->expiration);
  CHECK(credentials->expiration->time_since_epoch() == std::chrono::seconds(1794231281));
}

TEST_CASE("parse_sts_credentials refuses malformed answers without echoing them", "[aws][sts]") {
  auto fails_with = [](const std::string& body, const std::string& action = "AssumeRole") {
    auto result = parse_sts_credentials(body, action, "x");
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::upstream_transient);
    CHECK(result.error().upstream_code == "MalformedResponse");
    CHECK(result.error().detail.find("s3cr3t") == std::string::npos);
    return result.error().detail;
  };
  SECTION("missing element") {
    auto xml = test::FakeStsServer::credentials_xml("AssumeRole", "A", "s3cr3t", "", "2026-11-09T13:34:41Z");
    CHECK(fails_with(xml) ==
          "STS AssumeRole: answer has an empty AssumeRoleResponse/AssumeRoleResult/"
          "Credentials/SessionToken");
  }
  SECTION("answer to another action") {
    auto xml = test::FakeStsServer::credentials_xml(k_web, "A", "s3cr3t", "t", "2026-11-09T13:34:41Z");
    CHECK(fails_with(xml) ==
          "STS AssumeRole: answer has no AssumeRoleResponse/AssumeRoleResult/"
          "Credentials/AccessKeyId");
  }
  SECTION("bad expiration") {
    auto xml = test::FakeStsServer::credentials_xml("AssumeRole", "A", "s3cr3t", "t", "tomorrow");
    CHECK(fails_with(xml) ==
          "STS AssumeRole: answer AssumeRoleResponse/AssumeRoleResult/Credentials/Expiration is not an ISO 8601 UTC "
          "time");
  }
  SECTION("not XML") {
    CHECK(fails_with("<a><b>s3cr3t</a>") == "STS AssumeRole: answer is not well-formed XML (line 1)");
  }
  SECTION("too deep") {
    std::string deep;
    for (int i = 0; i < 100; ++i) deep += "<a>";
    CHECK(fails_with(deep) == "STS AssumeRole: answer nests deeper than 16 levels");
  }
  SECTION("too large") {
    std::string huge = "<a>" + std::string(k_max_sts_answer_bytes, 'x') + "</a>";
    CHECK(fails_with(huge) == "STS AssumeRole: answer is larger than 65536 bytes");
  }
  SECTION("entity expansion") {
    std::string bomb =
        R"(<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "s3cr3ts3cr3t"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>)";
    CHECK(fails_with(bomb) == "STS AssumeRole: answer has a DOCTYPE");
  }
}

TEST_CASE("classify_sts_error names STS, the action, the status and the code", "[aws][sts]") {
  std::string body =
      R"(<ErrorResponse><Error><Code>AccessDenied</Code><Message>not allowed</Message></Error></ErrorResponse>)";
  auto denied = classify_sts_error(403, body, "AssumeRole");
  CHECK(denied.code == ErrorCode::unauthorized);
  CHECK(denied.upstream_code == "AccessDenied");
  CHECK(denied.detail == "STS AssumeRole: HTTP 403: AccessDenied: not allowed");
  auto throttled =
      classify_sts_error(400, R"(<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>)", k_web);
  CHECK(throttled.code == ErrorCode::upstream_transient);
  CHECK(throttled.detail == "STS AssumeRoleWithWebIdentity: HTTP 400: Throttling");
  auto proxy = classify_sts_error(502, "<html>bad gateway", "AssumeRole");
  CHECK(proxy.code == ErrorCode::upstream_transient);
  CHECK(proxy.detail == "STS AssumeRole: HTTP 502");
  CHECK(proxy.upstream_code == "HTTP502");  // the metrics label keeps its form
  auto labelled = classify_sts_error(404, "", "AssumeRole", "STS AssumeRole of arn:x at http://h");
  CHECK(labelled.code == ErrorCode::unauthorized);
  CHECK(labelled.detail == "STS AssumeRole of arn:x at http://h: HTTP 404");
}

TEST_CASE("classify_sts_error keeps the answer's code and message to one bounded line", "[aws][sts]") {
  const std::string hostile_message = "line one\r\n{\"level\":\"error\"}\t" + std::string(500, 'm');
  std::string body = "<ErrorResponse><Error><Code>Access\nDenied\x7f</Code><Message>" + hostile_message +
                     "</Message></Error></ErrorResponse>";
  auto hostile = classify_sts_error(403, body, "AssumeRole");
  CHECK(hostile.upstream_code == "Access Denied");
  CHECK(hostile.detail.starts_with(R"(STS AssumeRole: HTTP 403: Access Denied: line one {"level":"error"} mmm)"));
  CHECK(hostile.detail.find_first_of("\r\n\t\x7f") == std::string::npos);
  CHECK(hostile.detail.size() < 300);
  CHECK(hostile.detail.ends_with("…"));
}

TEST_CASE("resolve_sts_endpoint follows the SDK endpoint settings", "[aws][sts]") {
  CHECK(resolve_sts_endpoint(env_of({}), "eu-west-1", "") == "https://sts.eu-west-1.amazonaws.com");
  CHECK(resolve_sts_endpoint(env_of({}), "eu-west-1", "http://127.0.0.1:9/") == "http://127.0.0.1:9");
  CHECK(resolve_sts_endpoint(env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:2"}}), "eu-west-1", "http://x:9") ==
        "http://127.0.0.1:2");
  CHECK(resolve_sts_endpoint(
            env_of({{"AWS_ENDPOINT_URL", "http://127.0.0.1:2"}, {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:3/"}}),
            "eu-west-1", "") == "http://127.0.0.1:3");
  CHECK(resolve_sts_endpoint(
            env_of({{"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:3"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}}),
            "eu-west-1", "http://x:9") == "https://sts.eu-west-1.amazonaws.com");
}

TEST_CASE("sts_form_body percent-encodes names and values", "[aws][sts]") {
  CHECK(sts_form_body({{"Action", "AssumeRole"}, {"RoleSessionName", "a b"}, {"RoleArn", "arn:aws:iam::1:role/x"}}) ==
        "Action=AssumeRole&RoleSessionName=a%20b&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fx");
  CHECK(is_role_session_name("mailerd-1767225600"));
  CHECK_FALSE(is_role_session_name("a"));
  CHECK_FALSE(is_role_session_name("has space"));
  CHECK_FALSE(is_role_session_name(std::string(65, 'a')));
}

TEST_CASE("assume_role_with_web_identity posts the token unsigned", "[aws][sts]") {
  curl_global();
  test::FakeStsServer sts;
  StsOptions options{sts.url(), "eu-west-1"};
  auto credentials = assume_role_with_web_identity(options, {"arn:aws:iam::1:role/web", "pod-1", "jwt.token"});
  REQUIRE(credentials);
  CHECK(credentials->access_key_id == "ASIAFAKE1");
  CHECK(credentials->source == "web-identity");
  auto requests = sts.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].form["Action"] == "AssumeRoleWithWebIdentity");
  CHECK(requests[0].form["Version"] == "2011-06-15");
  CHECK(requests[0].form["RoleArn"] == "arn:aws:iam::1:role/web");
  CHECK(requests[0].form["RoleSessionName"] == "pod-1");
  CHECK(requests[0].form["WebIdentityToken"] == "jwt.token");
  CHECK(requests[0].content_type == "application/x-www-form-urlencoded; charset=utf-8");
  CHECK_FALSE(requests[0].signed_request);

  SECTION("an STS refusal names the code") {
    sts.set_error(400, "InvalidIdentityToken", "Token expired");
    auto refused = assume_role_with_web_identity(options, {"arn:aws:iam::1:role/web", "pod-1", "jwt.token"});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::unauthorized);
    CHECK(refused.error().detail == "STS AssumeRoleWithWebIdentity of arn:aws:iam::1:role/web at " + sts.url() +
                                        ": HTTP 400: InvalidIdentityToken: Token expired");
  }
  SECTION("a bad endpoint is named") {
    auto bad = assume_role_with_web_identity({"ftp://x", "eu-west-1"}, {"arn", "pod-1", "t"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().detail == "STS endpoint ftp://x: scheme must be http or https");
  }
}

TEST_CASE("assume_role signs the call for service sts", "[aws][sts]") {
  curl_global();
  test::FakeStsServer sts;
  sts.add_key("AKIDBASE", "base-secret");
  StsOptions options{sts.url(), "eu-west-1"};
  Credentials caller{"AKIDBASE", "base-secret", "base-token", std::nullopt, "file:base"};
  auto credentials =
      assume_role(options, {"arn:aws:iam::1:role/send", "s-1", "ext-9", 3600}, caller, "assume-role:send");
  REQUIRE(credentials);
  CHECK(credentials->source == "assume-role:send");
  CHECK(credentials->session_token == "fake-token-1");
  auto requests = sts.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].form["Action"] == "AssumeRole");
  CHECK(requests[0].form["RoleArn"] == "arn:aws:iam::1:role/send");
  CHECK(requests[0].form["ExternalId"] == "ext-9");
  CHECK(requests[0].form["DurationSeconds"] == "3600");
  CHECK(requests[0].signature_valid);
  CHECK(requests[0].signing_region == "eu-west-1");
  CHECK(requests[0].security_token == "base-token");

  SECTION("a wrong secret fails the signature, and the error says so") {
    caller.secret_access_key = "wrong";
    auto refused = assume_role(options, {"arn:aws:iam::1:role/send", "s-1", "", std::nullopt}, caller, "x");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().detail == "STS AssumeRole of arn:aws:iam::1:role/send at " + sts.url() +
                                        ": HTTP 403: SignatureDoesNotMatch: bad signature");
    CHECK_FALSE(sts.requests().back().signature_valid);
    CHECK(sts.requests().back().form.count("ExternalId") == 0);
  }
  SECTION("no answer is transient") {
    auto down = assume_role({"http://127.0.0.1:1", "eu-west-1", std::chrono::milliseconds(500)},
                            {"arn", "s-1", "", std::nullopt}, caller, "x");
    REQUIRE_FALSE(down);
    CHECK(down.error().code == ErrorCode::upstream_transient);
    CHECK(down.error().detail.starts_with("STS AssumeRole of arn at http://127.0.0.1:1: "));
  }
}
