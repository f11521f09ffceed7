#include <catch2/catch.hpp>

#include <chrono>
#include <fstream>
#include <map>

#include "mailer/aws/credentials_container.hpp"
#include "mailer/net/http_client.hpp"
#include "support/aws_env.hpp"
#include "support/fake_container.hpp"
#include "support/temp_dir.hpp"

using namespace mailer;
using namespace mailer::aws;
using mailer::test::curl_global;
using mailer::test::env_of;

namespace {

using mailer::test::write_file;

// Short timeouts and pauses: every endpoint here is on loopback.
ContainerOptions quick() {
  ContainerOptions options;
  options.retry_pause = std::chrono::milliseconds(1);
  return options;
}

const char* const k_full = "AWS_CONTAINER_CREDENTIALS_FULL_URI";

}  // namespace

TEST_CASE("container credentials from FULL_URI with a token", "[aws][credentials][container]") {
  curl_global();
  test::FakeContainerServer fake;
  fake.require_authorization("Bearer pod-token");
  auto c = credentials_from_container(
      env_of({{k_full, fake.url() + "/v1/credentials"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", " Bearer pod-token\n"}}),
      quick());
  REQUIRE(c);
  REQUIRE(*c);
  CHECK((*c)->access_key_id == "AKIDTESTMAILERD");
  CHECK((*c)->secret_access_key == "test-secret-not-real");
  CHECK((*c)->session_token == "container-session-token-1");
  CHECK((*c)->source == "container");
  REQUIRE((*c)->expiration);
  CHECK(*(*c)->expiration > Clock::time_point(std::chrono::system_clock::now().time_since_epoch()));
  CHECK(fake.last_path() == "/v1/credentials");
  CHECK(fake.last_authorization() == "Bearer pod-token");
}

TEST_CASE("container credentials are not configured without a URI", "[aws][credentials][container]") {
  auto c = credentials_from_container(env_of({{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "t"}, {k_full, " "}}));
  REQUIRE(c);
  CHECK_FALSE(*c);
}

TEST_CASE("RELATIVE_URI goes to the ECS address and wins over FULL_URI", "[aws][credentials][container]") {
  curl_global();
  test::FakeContainerServer ecs;
  ContainerOptions options = quick();
  options.ecs_endpoint = ecs.url();
  auto c = credentials_from_container(
      env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc-123"}, {k_full, "http://127.0.0.1:9/x"}}),
      options);
  REQUIRE(c);
  REQUIRE(*c);
  CHECK(ecs.last_path() == "/v2/credentials/abc-123");
  CHECK_FALSE(ecs.last_authorization());
  CHECK(container_credentials_url(env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/x"}}), {}).value() ==
        std::optional<std::string>("http://169.254.170.2/v2/x"));

  for (const char* bad : {"v2/credentials", "/v2/a b", "/v2/a\r\nX: y"}) {
    auto refused = container_credentials_url(env_of({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", bad}}), options);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::invalid_input);
    CHECK(refused.error().detail.rfind("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: ", 0) == 0);
  }
}

TEST_CASE("the token file wins over the token and is read at each fetch", "[aws][credentials][container]") {
  curl_global();
  test::TempDir dir;
  test::FakeContainerServer fake;
  const auto file = dir / "token";
  write_file(file, "token-from-file-1\n");
  auto env = env_of({{k_full, fake.url() + "/c"},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file.string()},
                     {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "token-from-env"}});
  REQUIRE(credentials_from_container(env, quick()));
  CHECK(fake.last_authorization() == "token-from-file-1");
  write_file(file, "  token-from-file-2  \n");
  REQUIRE(credentials_from_container(env, quick()));
  CHECK(fake.last_authorization() == "token-from-file-2");
  CHECK(fake.requests() == 2);
}

TEST_CASE("a token that could add a header line is refused", "[aws][credentials][container]") {
  test::TempDir dir;
  write_file(dir / "token", "secret-part\r\nX-Injected: 1");
  write_file(dir / "empty", " \n");
  struct Case {
    std::map<std::string, std::string> env;
    std::string variable;
    std::string reason;
  };
  const Case cases[] = {
      {{{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-part\nX-Injected: 1"}},
       "AWS_CONTAINER_AUTHORIZATION_TOKEN",
       "control character"},
      {{{"AWS_CONTAINER_AUTHORIZATION_TOKEN", "secret-part\x01"}}, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "control"},
      {{{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir / "token").string()}},
       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
       "control character"},
      {{{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir / "missing").string()}},
       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
       "cannot read"},
      {{{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir / "empty").string()}},
       "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
       "is empty"},
  };
  for (const auto& c : cases) {
    auto env = c.env;
    env[k_full] = "http://127.0.0.1:9/never-reached";
    auto result = credentials_from_container(env_of(env), quick());
    INFO(c.variable << " " << c.reason);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::invalid_input);
    CHECK(result.error().detail.rfind(c.variable + ": ", 0) == 0);
    CHECK(result.error().detail.find(c.reason) != std::string::npos);
    CHECK(result.error().detail.find("secret-part") == std::string::npos);
  }
}

TEST_CASE("a large token file is refused", "[aws][credentials][container]") {
  test::TempDir dir;
  write_file(dir / "token", std::string(20000, 'a'));
  auto result = container_authorization(env_of({{"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", (dir / "token").string()}}));
  REQUIRE_FALSE(result);
  CHECK(result.error().detail.find("larger than 16384 bytes") != std::string::npos);
}

TEST_CASE("FULL_URI hosts follow the SDK rules", "[aws][credentials][container]") {
  for (const char* allowed :
       {"https://creds.example.com/role", "https://10.0.0.1/x", "http://127.0.0.1:8080/creds", "http://127.1.2.3/c",
        "http://[::1]:80/c", "http://169.254.170.2/v2/credentials", "http://169.254.170.23/v1/credentials",
        "http://[fd00:ec2::23]/v1/credentials", "http://[FD00:EC2:0:0:0:0:0:23]/x", "http://localhost:1234/c"}) {
    INFO(allowed);
    CHECK(check_container_full_uri(allowed));
  }
  for (const char* refused :
       {"http://10.0.0.1/x", "http://169.254.169.254/latest", "http://169.254.170.3/", "http://[fd00:ec2::24]/",
        "http://example.com/creds", "http://localhost.example.com/", "ftp://127.0.0.1/x", "file:///etc/passwd"}) {
    INFO(refused);
    auto result = check_container_full_uri(refused);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::invalid_input);
    CHECK(result.error().detail.rfind("AWS_CONTAINER_CREDENTIALS_FULL_URI: ", 0) == 0);
  }
  auto refused = check_container_full_uri("http://10.0.0.1/x");
  CHECK(refused.error().detail ==
        "AWS_CONTAINER_CREDENTIALS_FULL_URI: http to 10.0.0.1 is not allowed (only https, or http to loopback, "
        "169.254.170.2, 169.254.170.23 or fd00:ec2::23)");
  auto garbled = credentials_from_container(env_of({{k_full, "http://[::1"}}));
  REQUIRE_FALSE(garbled);
  CHECK(garbled.error().detail.rfind("AWS_CONTAINER_CREDENTIALS_FULL_URI: ", 0) == 0);
}

TEST_CASE("container endpoint errors: 4xx at once, 5xx after retries", "[aws][credentials][container]") {
  curl_global();
  test::FakeContainerServer fake;
  auto env = env_of({{k_full, fake.url() + "/c"}, {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong-secret-token"}});
  SECTION("a wrong token: 401, not retried") {
    fake.require_authorization("right");
    auto result = credentials_from_container(env, quick());
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::unauthorized);
    CHECK(result.error().detail.find("answered HTTP 401") != std::string::npos);
    CHECK(result.error().detail.find("wrong-secret-token") == std::string::npos);
    CHECK(fake.requests() == 1);
  }
  SECTION("two 503s, then an answer") {
    fake.fail_next(2, 503);
    auto result = credentials_from_container(env, quick());
    REQUIRE(result);
    CHECK(fake.requests() == 3);
  }
  SECTION("500 on every attempt") {
    fake.fail_next(10, 500);
    auto result = credentials_from_container(env, quick());
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::upstream_transient);
    CHECK(result.error().detail.find("answered HTTP 500") != std::string::npos);
    CHECK(fake.requests() == 3);
  }
}

TEST_CASE("an endpoint that does not answer fails within the timeouts", "[aws][credentials][container]") {
  curl_global();
  const auto started = std::chrono::steady_clock::now();
  auto result = credentials_from_container(env_of({{k_full, "http://127.0.0.1:9/c"}}), quick());
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::upstream_transient);
  CHECK(result.error().detail.rfind("container credentials: ", 0) == 0);
  CHECK(std::chrono::steady_clock::now() - started < std::chrono::seconds(8));
}

TEST_CASE("malformed or huge container answers are refused by field", "[aws][credentials][container]") {
  curl_global();
  test::FakeContainerServer fake;
  auto env = env_of({{k_full, fake.url() + "/c"}});
  struct Case {
    std::string body;
    ErrorCode code;
    std::string detail;
  };
  const Case cases[] = {
      {"not json", ErrorCode::invalid_input, "container credentials is not valid JSON"},
      {R"({"AccessKeyId":"AKID"})", ErrorCode::invalid_input, "container credentials SecretAccessKey: missing"},
      {R"({"AccessKeyId":"","SecretAccessKey":"top-secret"})", ErrorCode::invalid_input,
       "container credentials AccessKeyId: empty"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"top-secret","Token":7})", ErrorCode::invalid_input,
       "container credentials Token: must be a string"},
      {R"({"AccessKeyId":"A","SecretAccessKey":"top-secret","Expiration":"tomorrow"})", ErrorCode::invalid_input,
       "container credentials Expiration: not an ISO 8601 UTC time"},
      {"[" + std::string(200, '[') + std::string(201, ']'), ErrorCode::invalid_input, "nests deeper"},
      {R"({"AccessKeyId":")" + std::string(100000, 'A') + R"("})", ErrorCode::too_large, "larger than 65536 bytes"},
  };
  for (const auto& c : cases) {
    fake.set_raw_answer(200, c.body);
    auto result = credentials_from_container(env, quick());
    INFO(c.detail);
    REQUIRE_FALSE(result);
    CHECK(result.error().code == c.code);
    CHECK(result.error().detail.find(c.detail) != std::string::npos);
    CHECK(result.error().detail.find("top-secret") == std::string::npos);
  }
}

TEST_CASE("parse_container_credentials: Token and Expiration are optional", "[aws][credentials][container]") {
  auto c = parse_container_credentials(R"({"AccessKeyId":"AKID","SecretAccessKey":"s"})");
  REQUIRE(c);
  CHECK(c->session_token.empty());
  CHECK_FALSE(c->expiration);
  auto timed = parse_container_credentials(
      R"({"AccessKeyId":"AKID","SecretAccessKey":"s","Token":"t","Expiration":"2026-12-06T22:00:00Z"})");
  REQUIRE(timed);
  CHECK(timed->expiration == Clock::time_point(std::chrono::seconds(1796594400)));
}
