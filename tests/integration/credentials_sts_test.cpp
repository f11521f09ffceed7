// End to end: mailerd without keys of its own gets them from a loopback STS
// stand-in (web identity from the environment; AssumeRole from an AWS
// profile) and sends through mailer-fake-ses with them; an STS refusal shows
// in /ready naming STS, the role, the endpoint and the error code.
#include <filesystem>
#include <fstream>

#include "engine_e2e.hpp"
#include "support/fake_sts.hpp"
#include "support/temp_dir.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

using mailer::test::write_file;

// STS hands out the keys mailer-fake-ses checks signatures with; set before
// mailerd starts, since it resolves credentials at once and keeps them.
void answer_with_fake_ses_keys(FakeStsServer& sts, const std::string& action) {
  // NOTE: FakeSesFixture starts the fake with these (tests/support/fake_ses_fixture.cpp).
  const std::string id = "AKIDTESTMAILERD";
  const std::string secret = "test-secret-not-real";
  sts.set_answer(200, FakeStsServer::credentials_xml(action, id, secret, "sts-session-token", "2099-01-01T00:00:00Z"));
}

// No keys in mailerd's configuration: the chain must find them.
Env chain_env(const TempDir& dir, const std::string& sts_url) {
  return {{"MAILER_SES_ACCESS_KEY_ID", ""},
          {"MAILER_SES_SECRET_ACCESS_KEY", ""},
          {"AWS_ENDPOINT_URL_STS", sts_url},
          {"AWS_CONFIG_FILE", (dir / "config").string()},
          {"AWS_SHARED_CREDENTIALS_FILE", (dir / "credentials").string()}};
}

void send_one(Stack& stack) {
  auto id = stack.post_batch(batch_body(addresses(1)))["id"].get<std::string>();
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  INFO(done.dump());
  CHECK(state_count(done, "sent") == 1);
}

}  // namespace

TEST_CASE("mailerd sends with web identity credentials from STS", "[integration][credentials]") {
  TempDir dir;
  FakeStsServer sts;
  write_file(dir / "token", "eks.jwt.token\n");
  auto env = chain_env(dir, sts.url());
  env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir / "token").string();
  env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/mailerd";
  env["AWS_ROLE_SESSION_NAME"] = "mailerd-pod";
  FakeSesOptions fake_options;
  fake_options.args = {"--session-token", "sts-session-token"};
  answer_with_fake_ses_keys(sts, "AssumeRoleWithWebIdentity");
  Stack stack(env, fake_options);
  send_one(stack);
  auto requests = sts.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].form["Action"] == "AssumeRoleWithWebIdentity");
  CHECK(requests[0].form["WebIdentityToken"] == "eks.jwt.token");
  CHECK(requests[0].form["RoleSessionName"] == "mailerd-pod");
  CHECK(stack.mailerd->log().find("eks.jwt.token") == std::string::npos);
}

TEST_CASE("mailerd assumes the role of its AWS profile", "[integration][credentials]") {
  TempDir dir;
  FakeStsServer sts;
  sts.add_key("AKIDBASEPROFILE", "base-profile-secret");
  write_file(dir / "config",
             "[profile ses]\nrole_arn = arn:aws:iam::123456789012:role/ses\nsource_profile = base\n"
             "region = eu-west-1\n");
  write_file(dir / "credentials",
             "[base]\naws_access_key_id = AKIDBASEPROFILE\n"
             "aws_secret_access_key = base-profile-secret\n");
  auto env = chain_env(dir, sts.url());
  env["AWS_PROFILE"] = "ses";
  FakeSesOptions fake_options;
  fake_options.args = {"--session-token", "sts-session-token"};
  answer_with_fake_ses_keys(sts, "AssumeRole");
  Stack stack(env, fake_options);
  send_one(stack);
  auto requests = sts.requests();
  REQUIRE_FALSE(requests.empty());
  CHECK(requests[0].form["Action"] == "AssumeRole");
  CHECK(requests[0].form["RoleArn"] == "arn:aws:iam::123456789012:role/ses");
  CHECK(requests[0].signature_valid);
  CHECK(requests[0].signing_region == "eu-west-1");
  CHECK(stack.mailerd->log().find("base-profile-secret") == std::string::npos);
}

TEST_CASE("an STS refusal shows in /ready naming the role, the endpoint and the code", "[integration][credentials]") {
  TempDir dir;
  FakeStsServer sts;
  sts.set_error(403, "AccessDenied", "not authorized to perform sts:AssumeRoleWithWebIdentity");
  write_file(dir / "token", "eks.jwt.token");
  auto env = chain_env(dir, sts.url());
  env["AWS_WEB_IDENTITY_TOKEN_FILE"] = (dir / "token").string();
  env["AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/mailerd";
  Stack stack(env);
  auto res = stack.mailerd->client()->Get("/ready");
  REQUIRE(res);
  INFO(res->body);
  CHECK(res->status == 503);
  CHECK(res->body.find("SES credentials: STS AssumeRoleWithWebIdentity of arn:aws:iam::123456789012:role/mailerd at " +
                       sts.url() + ": HTTP 403: AccessDenied: not authorized") != std::string::npos);
}
