#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <map>

#include "mailer/aws/credentials_profile.hpp"
#include "mailer/core/config.hpp"
#include "mailer/net/http_client.hpp"
#include "support/aws_env.hpp"
#include "support/fake_container.hpp"
#include "support/fake_sts.hpp"
#include "support/temp_dir.hpp"

using namespace mailer;
using namespace mailer::aws;
using mailer::test::curl_global;
using mailer::test::env_of;

namespace {

using mailer::test::write_file;

// Config and credentials files in a temporary directory, the fake STS as the
// endpoint, HOME unset so the real ~/.aws never leaks in.
struct Setup {
  test::TempDir dir;
  test::FakeStsServer sts;
  std::map<std::string, std::string> vars;

  Setup(const std::string& config, const std::string& credentials) {
    curl_global();
    write_file(dir / "config", config);
    write_file(dir / "credentials", credentials);
    vars = {{"AWS_CONFIG_FILE", (dir / "config").string()},
            {"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()},
            {"AWS_ENDPOINT_URL_STS", sts.url()}};
    sts.add_key("AKIDBASE", "base-secret");
  }
  ProfileChainOptions options() const {
    ProfileChainOptions out;
    out.env = env_of(vars);
    out.fallback_region = "us-east-1";
    out.sts_timeout = std::chrono::milliseconds(2000);
    return out;
  }
  std::string profile_error() const {
    auto result = credentials_from_profile(options());
    REQUIRE_FALSE(result);
    CHECK(result.error().detail.find("base-secret") == std::string::npos);
    return result.error().detail;
  }
};

const char* const k_credentials = "[base]\naws_access_key_id = AKIDBASE\naws_secret_access_key = base-secret\n";

}  // namespace

TEST_CASE("merged_profile lets the credentials file win over the config file", "[aws][profile]") {
  Setup setup(
      "[default]\nregion = eu-west-1\n[profile work]\nregion = eu-north-1\naws_access_key_id = FROMCONFIG\n"
      "[sso-session x]\nregion = us-west-2\n[work]\nignored = 1\n",
      "[work]\naws_access_key_id = FROMCREDENTIALS\naws_secret_access_key = s\n");
  auto files = load_profile_files(setup.options().env);
  REQUIRE(files);
  auto work = merged_profile(*files, "work");
  REQUIRE(work);
  CHECK((*work)["aws_access_key_id"] == "FROMCREDENTIALS");
  CHECK((*work)["region"] == "eu-north-1");
  CHECK(work->count("ignored") == 0);  // "[work]" in the config file is no profile
  CHECK_FALSE(merged_profile(*files, "x"));
  CHECK_FALSE(merged_profile(*files, "sso-session x"));

  auto settings = profile_settings(setup.options().env);
  REQUIRE(settings);
  CHECK(settings->region == "eu-west-1");
  setup.vars["AWS_PROFILE"] = "work";
  auto credentials = credentials_from_profile(setup.options());
  REQUIRE(credentials);
  REQUIRE(*credentials);
  CHECK((*credentials)->source == "file:work");
  CHECK((*credentials)->access_key_id == "FROMCREDENTIALS");
}

TEST_CASE("profile files are bounded and their errors name the file", "[aws][profile]") {
  Setup setup("", "");
  write_file(setup.dir / "config", std::string(k_max_profile_file_bytes + 1, '#'));
  auto huge = load_profile_files(setup.options().env);
  REQUIRE_FALSE(huge);
  CHECK(huge.error().code == ErrorCode::too_large);
  CHECK(huge.error().detail == (setup.dir / "config").string() + " is larger than 1048576 bytes");
  write_file(setup.dir / "config", "[default]\nno pair here\n");
  auto bad = load_profile_files(setup.options().env);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().detail == (setup.dir / "config").string() + ": line 2: expected key = value inside a section");
  setup.vars.erase("AWS_CONFIG_FILE");
  setup.vars.erase("AWS_SHARED_CREDENTIALS_FILE");
  auto none = credentials_from_profile(setup.options());  // no HOME, no files
  REQUIRE(none);
  CHECK_FALSE(*none);
}

TEST_CASE("credentials_from_profile assumes a chain of roles", "[aws][profile]") {
  Setup setup(
      "[profile a]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\nexternal_id = ext-a\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = a\nrole_session_name = sess-b\n"
      "duration_seconds = 1800\nregion = eu-central-1\n",
      k_credentials);
  setup.vars["AWS_PROFILE"] = "b";
  auto credentials = credentials_from_profile(setup.options());
  REQUIRE(credentials);
  REQUIRE(*credentials);
  CHECK((*credentials)->source == "assume-role:b");
  CHECK((*credentials)->access_key_id == "ASIAFAKE2");
  REQUIRE((*credentials)->expiration);
  auto requests = setup.sts.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].form["Action"] == "AssumeRole");
  CHECK(requests[0].form["RoleArn"] == "arn:aws:iam::1:role/a");
  CHECK(requests[0].form["ExternalId"] == "ext-a");
  CHECK(requests[0].form["RoleSessionName"].starts_with("mailerd-"));
  CHECK(requests[0].access_key_id == "AKIDBASE");
  CHECK(requests[0].signature_valid);
  CHECK(requests[0].signing_region == "eu-central-1");  // the selected profile's region
  CHECK(requests[1].form["RoleArn"] == "arn:aws:iam::1:role/b");
  CHECK(requests[1].form["RoleSessionName"] == "sess-b");
  CHECK(requests[1].form["DurationSeconds"] == "1800");
  CHECK(requests[1].access_key_id == "ASIAFAKE1");
  CHECK(requests[1].security_token == "fake-token-1");
  CHECK(requests[1].signature_valid);

  SECTION("AWS_REGION wins over the profile's region") {
    setup.vars["AWS_REGION"] = "ap-south-1";
    REQUIRE(credentials_from_profile(setup.options()));
    CHECK(setup.sts.requests().back().signing_region == "ap-south-1");
  }
  SECTION("an STS refusal names the profile, the role, the endpoint and the code") {
    setup.sts.set_error(403, "AccessDenied", "not authorized to perform sts:AssumeRole");
    CHECK(setup.profile_error() == "profile [a]: STS AssumeRole of arn:aws:iam::1:role/a at " + setup.sts.url() +
                                       ": HTTP 403: AccessDenied: not authorized to perform sts:AssumeRole");
  }
  SECTION("an STS answer that is no STS error still names profile, role, endpoint and status") {
    setup.sts.set_answer(404, "not found");
    setup.vars["AWS_PROFILE"] = "a";
    auto result = credentials_from_profile(setup.options());
    REQUIRE_FALSE(result);
    CHECK(result.error().code == ErrorCode::unauthorized);
    CHECK(result.error().detail ==
          "profile [a]: STS AssumeRole of arn:aws:iam::1:role/a at " + setup.sts.url() + ": HTTP 404");
  }
}

TEST_CASE("credentials_from_profile refuses half-configured roles", "[aws][profile]") {
  auto error_for = [](const std::string& config) {
    Setup setup(config, k_credentials);
    setup.vars["AWS_PROFILE"] = "r";
    return setup.profile_error();
  };
  CHECK(error_for("[profile r]\nrole_arn = arn:r\n") ==
        "profile [r]: role_arn needs source_profile, credential_source or web_identity_token_file");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\nsource_profile = ghost\n") ==
        "profile [r]: source_profile [ghost] does not exist");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\nsource_profile = q\n[profile q]\nrole_arn = arn:q\n"
                  "source_profile = r\n") == "profile [q]: source_profile [r] loops back to an earlier profile");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\nsource_profile = base\ncredential_source = Environment\n") ==
        "profile [r]: source_profile and credential_source exclude each other");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\ncredential_source = Somewhere\n") ==
        "profile [r]: credential_source 'Somewhere': must be Environment, Ec2InstanceMetadata or EcsContainer");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\nsource_profile = base\nduration_seconds = 60\n") ==
        "profile [r]: duration_seconds '60': must be 900-43200");
  CHECK(error_for("[profile r]\nrole_arn = arn:r\nsource_profile = r\n") ==
        "profile [r]: source_profile names itself but the profile has no static keys");
  CHECK(error_for("[profile r]\naws_access_key_id = AKID\n") ==
        "profile [r]: needs aws_access_key_id and aws_secret_access_key");
  CHECK(error_for("[profile r]\nweb_identity_token_file = /t\n") ==
        "profile [r]: web_identity_token_file needs role_arn");
  CHECK(error_for("[profile q]\nregion = eu-west-1\n").starts_with("AWS_PROFILE: no profile [r] in /"));
}

TEST_CASE("credentials_from_profile limits the length of a role chain", "[aws][profile]") {
  std::string config;
  for (int i = 0; i < 7; ++i) {
    config += "[profile p" + std::to_string(i) + "]\nrole_arn = arn:" + std::to_string(i) +
              "\nsource_profile = " + (i == 6 ? std::string("base") : "p" + std::to_string(i + 1)) + "\n";
  }
  Setup setup(config, k_credentials);
  setup.vars["AWS_PROFILE"] = "p0";
  CHECK(setup.profile_error() == "profile [p5]: source_profile chain is longer than 5 roles");
  CHECK(setup.sts.requests().empty());
}

TEST_CASE("credential_source Environment signs with the environment's keys", "[aws][profile]") {
  Setup setup("[default]\nrole_arn = arn:aws:iam::1:role/env\ncredential_source = Environment\n", "");
  SECTION("keys set") {
    setup.vars["AWS_ACCESS_KEY_ID"] = "AKIDBASE";
    setup.vars["AWS_SECRET_ACCESS_KEY"] = "base-secret";
    auto credentials = credentials_from_profile(setup.options());
    REQUIRE(credentials);
    REQUIRE(*credentials);
    CHECK((*credentials)->source == "assume-role:default");
    CHECK(setup.sts.requests().at(0).signature_valid);
  }
  SECTION("keys missing") {
    CHECK(setup.profile_error() == "profile [default]: credential_source Environment: AWS_ACCESS_KEY_ID is not set");
  }
}

TEST_CASE("credential_source EcsContainer signs with the container's keys", "[aws][profile]") {
  Setup setup("[default]\nrole_arn = arn:aws:iam::1:role/ecs\ncredential_source = EcsContainer\n", "");
  SECTION("container credentials set") {
    test::FakeContainerServer container("AKIDBASE", "base-secret");
    setup.vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = container.url() + "/creds";
    auto credentials = credentials_from_profile(setup.options());
    REQUIRE(credentials);
    REQUIRE(*credentials);
    CHECK((*credentials)->source == "assume-role:default");
    REQUIRE(setup.sts.requests().size() == 1);
    CHECK(setup.sts.requests().at(0).signature_valid);
  }
  SECTION("container credentials missing") {
    CHECK(setup.profile_error() ==
          "profile [default]: credential_source EcsContainer: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or "
          "AWS_CONTAINER_CREDENTIALS_FULL_URI is not set");
  }
}

TEST_CASE("web identity re-reads the token file on every call", "[aws][profile]") {
  Setup setup("[profile pod]\nrole_arn = arn:aws:iam::1:role/pod\nweb_identity_token_file = " +
                  (std::filesystem::temp_directory_path() / "unused").string() + "\n",
              "");
  auto token = setup.dir / "token";
  write_file(token, "first.jwt\n");
  setup.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = token.string();
  setup.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/env";
  setup.vars["AWS_ROLE_SESSION_NAME"] = "pod-session";
  auto first = credentials_from_web_identity_env(setup.options());
  REQUIRE(first);
  REQUIRE(*first);
  CHECK((*first)->source == "web-identity");
  write_file(token, "second.jwt");
  REQUIRE(credentials_from_web_identity_env(setup.options()));
  auto requests = setup.sts.requests();
  REQUIRE(requests.size() == 2);
  CHECK(requests[0].form["WebIdentityToken"] == "first.jwt");
  CHECK(requests[1].form["WebIdentityToken"] == "second.jwt");
  CHECK(requests[1].form["RoleArn"] == "arn:aws:iam::1:role/env");
  CHECK(requests[1].form["RoleSessionName"] == "pod-session");
  CHECK_FALSE(requests[1].signed_request);

  SECTION("from a profile") {
    setup.vars.erase("AWS_WEB_IDENTITY_TOKEN_FILE");
    setup.vars.erase("AWS_ROLE_ARN");
    setup.vars.erase("AWS_ROLE_SESSION_NAME");
    setup.vars["AWS_PROFILE"] = "pod";
    write_file(setup.dir / "config",
               "[profile pod]\nrole_arn = arn:aws:iam::1:role/pod\nweb_identity_token_file = " + token.string() + "\n");
    auto credentials = credentials_from_profile(setup.options());
    REQUIRE(credentials);
    REQUIRE(*credentials);
    CHECK((*credentials)->source == "web-identity:pod");
    CHECK(setup.sts.requests().back().form["RoleArn"] == "arn:aws:iam::1:role/pod");
    CHECK(setup.sts.requests().back().form["RoleSessionName"].starts_with("mailerd-"));
  }
  SECTION("missing token file") {
    std::filesystem::remove(token);
    auto missing = credentials_from_web_identity_env(setup.options());
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code == ErrorCode::unauthorized);
    CHECK(missing.error().detail == "web identity: token file " + token.string() + ": does not exist");
  }
  SECTION("empty token file") {
    write_file(token, "\n");
    auto empty = credentials_from_web_identity_env(setup.options());
    REQUIRE_FALSE(empty);
    CHECK(empty.error().detail == "web identity: token file " + token.string() + ": empty");
  }
  SECTION("half configured") {
    setup.vars.erase("AWS_ROLE_ARN");
    auto half = credentials_from_web_identity_env(setup.options());
    REQUIRE_FALSE(half);
    CHECK(half.error().code == ErrorCode::invalid_input);
    CHECK(half.error().detail == "environment: AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN must be set together");
  }
  SECTION("bad session name") {
    setup.vars["AWS_ROLE_SESSION_NAME"] = "has space";
    auto bad = credentials_from_web_identity_env(setup.options());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().detail ==
          "web identity: role session name 'has space': must be 2-64 of A-Z a-z 0-9 + = , . @ _ -");
  }
}

TEST_CASE("credential_process in a profile", "[aws][profile]") {
  Setup setup("", "");
  auto tool = setup.dir / "creds";
  write_file(tool, "#!/bin/sh\necho '{\"Version\":1,\"AccessKeyId\":\"AKIDP\",\"SecretAccessKey\":\"S\"}'\n");
  std::filesystem::permissions(tool, std::filesystem::perms::owner_all);
  write_file(setup.dir / "config", "[profile tool]\ncredential_process = " + tool.string() + " --flag\n");
  setup.vars["AWS_PROFILE"] = "tool";
  auto credentials = credentials_from_profile(setup.options());
  REQUIRE(credentials);
  REQUIRE(*credentials);
  CHECK((*credentials)->source == "process:tool");
  CHECK((*credentials)->access_key_id == "AKIDP");
}

TEST_CASE("CredentialsProvider tries env keys, env web identity, then the profile", "[aws][profile]") {
  Setup setup("[default]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = base\n", k_credentials);
  write_file(setup.dir / "token", "jwt");
  setup.vars["AWS_EC2_METADATA_DISABLED"] = "true";
  auto source = [&] {
    CredentialsProvider::Options options;
    options.env = setup.options().env;
    auto credentials = CredentialsProvider(options).get();
    REQUIRE(credentials);
    return credentials->source;
  };
  CHECK(source() == "assume-role:default");
  setup.vars["AWS_WEB_IDENTITY_TOKEN_FILE"] = (setup.dir / "token").string();
  setup.vars["AWS_ROLE_ARN"] = "arn:aws:iam::1:role/web";
  CHECK(source() == "web-identity");
  setup.vars["AWS_ACCESS_KEY_ID"] = "AKIDENV";
  setup.vars["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  CHECK(source() == "env");
}

TEST_CASE("apply_profile_settings fills ses.region and ses.endpoint left at their defaults", "[aws][profile]") {
  Setup setup("[profile eu]\nregion = eu-west-3\nendpoint_url = http://127.0.0.1:4566\n", "");
  setup.vars["AWS_PROFILE"] = "eu";
  auto env = setup.options().env;
  auto entry = [](const LoadedConfig& loaded, const std::string& key) {
    return *std::find_if(loaded.entries.begin(), loaded.entries.end(), [&](const auto& e) { return e.key == key; });
  };
  auto loaded = load_config("", env, {});
  REQUIRE(loaded);
  REQUIRE(apply_profile_settings(*loaded, env));
  CHECK(loaded->config.ses.region == "eu-west-3");
  CHECK(loaded->config.ses.endpoint == "http://127.0.0.1:4566");
  CHECK(entry(*loaded, "ses.region").source == ConfigSource::env);
  CHECK(entry(*loaded, "ses.region").env_name == "AWS profile [eu]");
  CHECK(entry(*loaded, "ses.region").value_json == "\"eu-west-3\"");

  SECTION("the environment wins over the profile") {
    setup.vars["AWS_REGION"] = "us-west-2";
    setup.vars["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true";
    auto from_env = load_config("", setup.options().env, {});
    REQUIRE(from_env);
    REQUIRE(apply_profile_settings(*from_env, setup.options().env));
    CHECK(from_env->config.ses.region == "us-west-2");
    CHECK(from_env->config.ses.endpoint.empty());
  }
  SECTION("a malformed region is refused, naming the profile") {
    write_file(setup.dir / "config", "[profile eu]\nregion = EU west\n");
    auto bad = load_config("", env, {});
    REQUIRE(bad);
    auto refused = apply_profile_settings(*bad, env);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().detail == "profile [eu]: region 'EU west': must be an AWS region such as us-east-1");
  }
}
