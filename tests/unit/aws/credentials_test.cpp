#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "mailer/aws/credentials.hpp"
#include "mailer/net/http_client.hpp"
#include "support/aws_env.hpp"
#include "support/fake_metadata.hpp"
#include "support/temp_dir.hpp"

using namespace mailer;
using namespace mailer::aws;
using mailer::test::curl_global;
using mailer::test::env_of;

namespace {

class ManualClock final : public Clock {
 public:
  time_point now() const override { return m_now; }
  void advance(std::chrono::seconds by) { m_now += by; }
  time_point m_now = time_point(std::chrono::seconds(1767225600));  // 2026-01-01T00:00:00Z
};

using mailer::test::write_file;

const char* const k_two_profiles = R"(# shared credentials
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key = default-secret-value

[work]
AWS_ACCESS_KEY_ID=AKIDWORK
aws_secret_access_key=work/secret+value==
aws_session_token = work-token
)";

}  // namespace

TEST_CASE("parse_ini reads sections and reports the malformed line", "[aws][credentials]") {
  auto ok = parse_ini("; c\n[a]\nk = v = w\n\n[profile b]\n  x=1\n");
  REQUIRE(ok);
  CHECK((*ok)["a"]["k"] == "v = w");
  CHECK((*ok)["profile b"]["x"] == "1");
  auto bad = parse_ini("[a]\nnot-a-pair-secretvalue\n");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail == "line 2: expected key = value inside a section");
  CHECK_FALSE(parse_ini("orphan=1\n"));
  CHECK_FALSE(parse_ini("[open\n"));
}

TEST_CASE("credentials_from_env", "[aws][credentials]") {
  SECTION("both keys and a token") {
    auto c = credentials_from_env(
        env_of({{"AWS_ACCESS_KEY_ID", "AKIDENV"}, {"AWS_SECRET_ACCESS_KEY", "s3cr3t"}, {"AWS_SESSION_TOKEN", "tok"}}));
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->access_key_id == "AKIDENV");
    CHECK((*c)->secret_access_key == "s3cr3t");
    CHECK((*c)->session_token == "tok");
    CHECK((*c)->source == "env");
  }
  SECTION("none set") {
    auto c = credentials_from_env(env_of({}));
    REQUIRE(c);
    CHECK_FALSE(*c);
  }
  SECTION("only the secret set is an error that does not show it") {
    auto c = credentials_from_env(env_of({{"AWS_SECRET_ACCESS_KEY", "lonely-secret"}}));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::invalid_input);
    CHECK(c.error().detail.find("lonely-secret") == std::string::npos);
  }
}

TEST_CASE("credentials_from_shared_file with two profiles", "[aws][credentials]") {
  test::TempDir dir;
  auto path = (dir / "credentials").string();
  write_file(path, k_two_profiles);
  SECTION("default profile") {
    auto c = credentials_from_shared_file(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path}}));
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->access_key_id == "AKIDDEFAULT");
    CHECK((*c)->session_token.empty());
    CHECK((*c)->source == "file:default");
  }
  SECTION("AWS_PROFILE selects another") {
    auto c = credentials_from_shared_file(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path}, {"AWS_PROFILE", "work"}}));
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->access_key_id == "AKIDWORK");
    CHECK((*c)->secret_access_key == "work/secret+value==");
    CHECK((*c)->session_token == "work-token");
  }
  SECTION("a missing named profile is an error") {
    auto c = credentials_from_shared_file(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path}, {"AWS_PROFILE", "nope"}}));
    REQUIRE_FALSE(c);
    CHECK(c.error().detail.find("[nope]") != std::string::npos);
  }
  SECTION("~/.aws/credentials under HOME") {
    std::filesystem::create_directories(dir / ".aws");
    write_file(dir / ".aws/credentials", k_two_profiles);
    auto c = credentials_from_shared_file(env_of({{"HOME", dir.path().string()}}));
    REQUIRE(c);
    REQUIRE(*c);
    CHECK((*c)->access_key_id == "AKIDDEFAULT");
  }
  SECTION("a missing file means not here") {
    auto c = credentials_from_shared_file(env_of({{"AWS_SHARED_CREDENTIALS_FILE", (dir / "absent").string()}}));
    REQUIRE(c);
    CHECK_FALSE(*c);
  }
  SECTION("a profile without its secret is an error that shows no value") {
    write_file(path, "[default]\naws_access_key_id = AKIDHALF\n");
    auto c = credentials_from_shared_file(env_of({{"AWS_SHARED_CREDENTIALS_FILE", path}}));
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::invalid_input);
  }
}

TEST_CASE("parse_iso8601_utc", "[aws][credentials]") {
  Clock::time_point t;
  REQUIRE(parse_iso8601_utc("2026-01-01T00:00:00Z", t));
  CHECK(t == Clock::time_point(std::chrono::seconds(1767225600)));
  REQUIRE(parse_iso8601_utc("2026-01-01T00:00:01.250Z", t));
  CHECK_FALSE(parse_iso8601_utc("2026-01-01 00:00:00", t));
  CHECK_FALSE(parse_iso8601_utc("2026-01-01T00:00:00+02:00", t));
}

TEST_CASE("parse_iso8601_utc refuses times a Clock::time_point cannot hold", "[aws][credentials]") {
  // Found by fuzz/ses_response: year 226 overflowed the seconds -> nanoseconds
  // conversion (undefined behaviour, a garbage expiry in practice).
  Clock::time_point t;
  CHECK_FALSE(parse_iso8601_utc("226-11-30T22:39:16Z", t));
  CHECK_FALSE(parse_iso8601_utc("1600-01-01T00:00:00Z", t));
  CHECK_FALSE(parse_iso8601_utc("9999-12-31T23:59:59Z", t));
  REQUIRE(parse_iso8601_utc("2200-01-01T00:00:00Z", t));
  CHECK(t == Clock::time_point(std::chrono::seconds(7258118400)));
}

TEST_CASE("CredentialsProvider follows the chain in order", "[aws][credentials]") {
  (void)curl_global();
  test::TempDir dir;
  write_file(dir / "credentials", k_two_profiles);
  std::map<std::string, std::string> vars{{"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()},
                                          {"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                          {"AWS_SECRET_ACCESS_KEY", "envsecret"}};
  SECTION("explicit config beats everything") {
    CredentialsProvider::Options options;
    options.explicit_config.access_key_id = "AKIDCONF";
    options.explicit_config.secret_access_key = "confsecret";
    options.env = env_of(vars);
    CredentialsProvider provider(options);
    auto c = provider.get();
    REQUIRE(c);
    CHECK(c->access_key_id == "AKIDCONF");
  }
  SECTION("half explicit config is an error") {
    CredentialsProvider::Options options;
    options.explicit_config.secret_access_key = "confsecret";
    options.env = env_of(vars);
    auto c = CredentialsProvider(options).get();
    REQUIRE_FALSE(c);
    CHECK(c.error().detail.find("confsecret") == std::string::npos);
  }
  SECTION("env beats the file") {
    CredentialsProvider provider({{}, env_of(vars)});
    auto c = provider.get();
    REQUIRE(c);
    CHECK(c->source == "env");
  }
  SECTION("the file beats IMDS") {
    vars.erase("AWS_ACCESS_KEY_ID");
    vars.erase("AWS_SECRET_ACCESS_KEY");
    CredentialsProvider provider({{}, env_of(vars)});
    auto c = provider.get();
    REQUIRE(c);
    CHECK(c->source == "file:default");
  }
  SECTION("nothing anywhere and IMDS disabled is unauthorized") {
    CredentialsProvider provider({{}, env_of({{"HOME", dir.path().string()}, {"AWS_EC2_METADATA_DISABLED", "true"}})});
    auto c = provider.get();
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::unauthorized);
  }
}

TEST_CASE("CredentialsProvider uses IMDSv2 and refreshes before expiry", "[aws][credentials]") {
  (void)curl_global();
  test::FakeMetadataServer imds;
  ManualClock clock;
  imds.set_credentials("ASIAFIRST", "imds-secret-1", "imds-token-1", "2026-01-01T01:00:00Z");
  CredentialsProvider::Options options;
  options.env = env_of({{"HOME", "/nonexistent"}, {"AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.url() + "/"}});
  options.clock = &clock;
  CredentialsProvider provider(options);

  auto first = provider.get();
  REQUIRE(first);
  CHECK(first->access_key_id == "ASIAFIRST");
  CHECK(first->session_token == "imds-token-1");
  CHECK(first->source == "imds");
  CHECK(imds.token_requests() == 1);
  CHECK(imds.credential_requests() == 1);

  // Cached while more than 5 minutes remain.
  clock.advance(std::chrono::minutes(54));
  imds.set_credentials("ASIASECOND", "imds-secret-2", "imds-token-2", "2026-01-01T02:00:00Z");
  auto cached = provider.get();
  REQUIRE(cached);
  CHECK(cached->access_key_id == "ASIAFIRST");
  CHECK(imds.credential_requests() == 1);

  // Within 5 minutes of Expiration: fetched again, in the background.
  clock.advance(std::chrono::minutes(2));
  for (int i = 0; i < 500 && provider.get()->access_key_id != "ASIASECOND"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto refreshed = provider.get();
  REQUIRE(refreshed);
  CHECK(refreshed->access_key_id == "ASIASECOND");
  CHECK(imds.credential_requests() == 2);

  provider.invalidate();
  REQUIRE(provider.get());
  CHECK(imds.credential_requests() == 3);
}

TEST_CASE("IMDS failures are transient and name no secret", "[aws][credentials]") {
  (void)curl_global();
  test::FakeMetadataServer imds;
  SECTION("token PUT refused") {
    imds.set_fail_token(true);
    auto c = credentials_from_imds({imds.url(), std::chrono::milliseconds(1000), 60});
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::upstream_transient);
    CHECK(c.error().detail.find("403") != std::string::npos);
  }
  SECTION("malformed role JSON") {
    imds.set_credentials("ASIAX", "secret-in-json", "tok", "not-a-date");
    auto c = credentials_from_imds({imds.url(), std::chrono::milliseconds(1000), 60});
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::invalid_input);
    CHECK(c.error().detail.find("secret-in-json") == std::string::npos);
  }
  SECTION("nothing listening") {
    test::LoopbackServer closed;
    int port = closed.start();
    closed.stop();
    auto c = credentials_from_imds({"http://127.0.0.1:" + std::to_string(port), std::chrono::milliseconds(300), 60});
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::upstream_transient);
  }
}

TEST_CASE("parse_imds_credentials reads every field without throwing or naming a secret", "[aws][credentials]") {
  const nlohmann::json good = {{"Code", "Success"},
                               {"AccessKeyId", "ASIAX"},
                               {"SecretAccessKey", "secret-value"},
                               {"Token", "token-value"},
                               {"Expiration", "2026-01-01T00:00:00Z"}};
  REQUIRE(parse_imds_credentials(good.dump()));
  auto with = [&good](const char* name, const nlohmann::json& value) {
    auto body = good;
    if (value.is_null()) body.erase(name);
    else body[name] = value;
    return body.dump();
  };
  struct Row {
    std::string body;
    ErrorCode code;
    std::string detail;
  };
  // Wrong types used to escape as json::type_error from json::value().
  std::vector<Row> rows{
      {with("Code", 1), ErrorCode::invalid_input, "IMDS: role credentials Code: must be a string"},
      {with("Code", "Failure"), ErrorCode::upstream_transient, "IMDS: role credentials Code is not Success"},
      {with("AccessKeyId", 5), ErrorCode::invalid_input, "IMDS: role credentials AccessKeyId: must be a string"},
      {with("SecretAccessKey", nullptr), ErrorCode::invalid_input, "IMDS: role credentials SecretAccessKey: missing"},
      {with("Token", ""), ErrorCode::invalid_input, "IMDS: role credentials Token: empty"},
      {with("Expiration", 1767225600), ErrorCode::invalid_input, "IMDS: role credentials Expiration: must be a string"},
      {with("Expiration", "soon"), ErrorCode::invalid_input,
       "IMDS: role credentials Expiration: not an ISO 8601 UTC time"},
      {"secret-value", ErrorCode::invalid_input, "IMDS: role credentials is not valid JSON (at byte 1)"},
      {R"({"Code":"Success","Token":)" + std::string(100'000, '[') + std::string(100'000, ']') + "}",
       ErrorCode::invalid_input, "IMDS: role credentials nests deeper than 64 levels at Token[0][0]"},
      {std::string(2 * 1024 * 1024, ' '), ErrorCode::too_large, "IMDS: role credentials is larger than 1048576 bytes"},
  };
  for (const auto& row : rows) {
    INFO(row.body.substr(0, 80));
    Result<Credentials> parsed = make_error(ErrorCode::internal, "not run");
    REQUIRE_NOTHROW(parsed = parse_imds_credentials(row.body));
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == row.code);
    CHECK(parsed.error().detail.starts_with(row.detail));
    CHECK(parsed.error().detail.find("secret-value") == std::string::npos);
  }
}

TEST_CASE("credentials_from_imds refuses a token or role name it cannot pass on", "[aws][credentials]") {
  (void)curl_global();
  test::LoopbackServer imds;
  std::string token = "tok", role = "role";
  imds.server().Put("/latest/api/token",
                    [&](const httplib::Request&, httplib::Response& res) { res.set_content(token, "text/plain"); });
  imds.server().Get("/latest/meta-data/iam/security-credentials/",
                    [&](const httplib::Request&, httplib::Response& res) { res.set_content(role, "text/plain"); });
  imds.start();
  ImdsOptions options{imds.url(), std::chrono::milliseconds(1000), 60};
  SECTION("a token with a header line in it") {
    token = "tok\r\nX-Injected: 1";
    auto c = credentials_from_imds(options);
    REQUIRE_FALSE(c);
    CHECK(c.error().code == ErrorCode::upstream_transient);
    CHECK(c.error().detail == "IMDS: the session token answer is malformed");
  }
  SECTION("a role name with a path in it") {
    role = "../../latest/user-data";
    auto c = credentials_from_imds(options);
    REQUIRE_FALSE(c);
    CHECK(c.error().detail == "IMDS: the role name answer is malformed");
  }
}
