// examples/api-tests.sh against a real mailerd: the script documents the API
// by use, so it must keep passing as the routes change.

#include <catch2/catch.hpp>

#include <string>

#include "support/child_process.hpp"
#include "support/mailerd_fixture.hpp"

using mailer::test::CommandResult;
using mailer::test::MailerdFixture;
using mailer::test::MailerdOptions;

namespace {

const std::string k_script = std::string(MAILER_SOURCE_DIR) + "/examples/api-tests.sh";

// Bulk batches are refused without an unsubscribe secret.
MailerdOptions options_with_secret() {
  MailerdOptions options;
  options.env["MAILER_UNSUBSCRIBE_SECRET"] = "api-script-test-secret-0123456789";
  return options;
}

CommandResult run_script(const MailerdFixture& fixture, const std::string& key) {
  return mailer::test::run_command(
      {"/bin/bash", k_script},
      {{"MAILERD_URL", "http://127.0.0.1:" + std::to_string(fixture.port())}, {"MAILERD_KEY", key}});
}

}  // namespace

TEST_CASE("examples/api-tests.sh passes against mailerd with an admin key", "[integration][api-script]") {
  MailerdFixture fixture(options_with_secret());
  auto key = fixture.create_key("x", "admin");
  auto result = run_script(fixture, key.key);
  INFO("stdout:\n" << result.output << "\nstderr:\n" << result.errors);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.output, Catch::Contains("api-tests: OK"));
}

TEST_CASE("examples/api-tests.sh fails, naming the step, when the key lacks a scope", "[integration][api-script]") {
  MailerdFixture fixture(options_with_secret());
  auto key = fixture.create_key("reader", "read");
  auto result = run_script(fixture, key.key);
  INFO("stdout:\n" << result.output << "\nstderr:\n" << result.errors);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.errors, Catch::Contains("FAILED at step 'POST /v1/templates creates a template (201)'"));
  CHECK_THAT(result.errors, Catch::Contains("expected HTTP 201, got 403"));
}

TEST_CASE("examples/api-tests.sh fails when mailerd is not reachable", "[integration][api-script]") {
  // A port nobody listens on: bind one via a fixture, then stop it.
  int port = 0;
  {
    MailerdFixture fixture(options_with_secret());
    port = fixture.port();
  }
  auto result = mailer::test::run_command(
      {"/bin/bash", k_script}, {{"MAILERD_URL", "http://127.0.0.1:" + std::to_string(port)}, {"MAILERD_KEY", "k"}});
  INFO("stdout:\n" << result.output << "\nstderr:\n" << result.errors);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.errors, Catch::Contains("FAILED at step 'GET /health is 200'"));
}
