// mailerd on short-lived container credentials (the ECS / EKS Pod Identity
// flow): a batch keeps flowing while the credentials are fetched again every
// couple of seconds, with no failed send and no pause while a fetch runs.
#include <algorithm>
#include <chrono>

#include "engine_e2e.hpp"
#include "support/fake_container.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_pod_token = "Bearer e2e-pod-identity-token";

// Only the container step can answer: no keys in the configuration or the
// environment, no shared files, no metadata service.
Env container_env(const FakeContainerServer& container, const TempDir& dir) {
  return {{"MAILER_SES_ACCESS_KEY_ID", ""},
          {"MAILER_SES_SECRET_ACCESS_KEY", ""},
          {"AWS_ACCESS_KEY_ID", ""},
          {"AWS_SECRET_ACCESS_KEY", ""},
          {"AWS_SHARED_CREDENTIALS_FILE", (dir / "no-credentials").string()},
          {"AWS_CONFIG_FILE", (dir / "no-config").string()},
          {"AWS_CONTAINER_CREDENTIALS_FULL_URI", container.url() + "/v1/credentials"},
          {"AWS_CONTAINER_AUTHORIZATION_TOKEN", k_pod_token},
          {"MAILER_SES_MAX_SEND_RATE", "10"}};
}

std::int64_t longest_gap_ms(const std::vector<StoredMessage>& messages) {
  std::int64_t longest = 0;
  for (std::size_t i = 1; i < messages.size(); ++i) {
    longest = std::max(longest, messages[i].received_ms - messages[i - 1].received_ms);
  }
  return longest;
}

}  // namespace

TEST_CASE("a batch drains without a pause across container credential refreshes", "[integration][credentials]") {
  FakeContainerServer container;  // hands out the keys mailer-fake-ses checks
  // mailerd refreshes 300 s before expiry, so these are due again after ~2 s;
  // each refresh takes 1.2 s, a pause every sender would show if they waited.
  container.set_expires_in(302s);
  container.set_slow_refresh(1200ms);
  container.require_authorization(k_pod_token);
  TempDir dir;
  Stack stack(container_env(container, dir));

  const auto emails = addresses(150);  // 15 s at 10 per second
  auto batch = stack.post_batch(batch_body(emails));
  auto done = stack.wait_for_status(batch["id"], "completed", 90s);
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 150);
  CHECK(state_count(done, "failed") == 0);
  check_each_once(stack, emails);

  auto stats = stack.fake.stats();
  CHECK(stats.rejected == 0);
  CHECK(stats.errors == 0);
  // The first fetch plus at least three refreshes while sending.
  CHECK(container.requests() >= 4);
  CHECK(container.last_authorization() == k_pod_token);
  const auto gap = longest_gap_ms(stack.fake.stored_messages());
  INFO("refreshes: " << container.requests() - 1);
  CHECK(gap <= 1000);

  const auto log = stack.mailerd->log();
  CHECK(log.find("test-secret-not-real") == std::string::npos);
  CHECK(log.find("e2e-pod-identity-token") == std::string::npos);
  CHECK(log.find("AWS credentials refresh failed") == std::string::npos);
}

TEST_CASE("mailerd logs why container credentials are refused and sends nothing", "[integration][credentials]") {
  FakeContainerServer container;
  container.require_authorization("Bearer the-right-token");
  TempDir dir;
  auto env = container_env(container, dir);
  env["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "Bearer a-wrong-token";
  Stack stack(env);
  auto batch = stack.post_batch(batch_body(addresses(1)));
  REQUIRE(wait_until([&] { return !json_log_lines(stack.mailerd->log(), "no usable AWS credentials").empty(); },
                     20s));
  auto lines = json_log_lines(stack.mailerd->log(), "no usable AWS credentials");
  auto line = nlohmann::json::parse(lines.front());
  CHECK(line["provider"] == "container");
  CHECK(line["reason"].get<std::string>().find("answered HTTP 401") != std::string::npos);
  CHECK(stack.mailerd->log().find("a-wrong-token") == std::string::npos);
  CHECK(stack.fake.stats().accepted == 0);
}
