#include <catch2/catch.hpp>

#include "mailer/jobs/sender.hpp"
#include "mailer/net/http_client.hpp"

using mailer::ErrorCode;
namespace aws = mailer::aws;
namespace jobs = mailer::jobs;

TEST_CASE("ses_sender_factory refuses an endpoint before any sender is built", "[jobs][ses]") {
  mailer::Config config;
  auto credentials = std::make_shared<aws::CredentialsProvider>(aws::CredentialsProvider::Options{});
  SECTION("bad endpoint: a configuration error at start") {
    config.ses.endpoint = "ftp://ses.example";
    auto factory = jobs::ses_sender_factory(config, credentials);
    REQUIRE_FALSE(factory);
    CHECK(factory.error().code == ErrorCode::invalid_input);
    CHECK(factory.error().detail == "ses.endpoint ftp://ses.example: scheme must be http or https");
  }
  SECTION("good endpoint: every sender shares it") {
    static mailer::net::CurlGlobal curl;
    config.ses.endpoint = "http://127.0.0.1:1/";
    auto factory = jobs::ses_sender_factory(config, credentials);
    REQUIRE(factory);
    CHECK((*factory)() != nullptr);
  }
}
