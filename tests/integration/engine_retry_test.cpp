// End to end: transient SES failures are retried until sent, throttling does
// not use up attempts, and a permanent reject goes to the DLQ until an
// operator retries it (SPEC §4 "Retries", "DLQ").
#include "engine_e2e.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

TEST_CASE("Injected 500s are retried and every message is finally sent", "[engine][e2e][integration]") {
  Stack stack(Env{{"MAILER_WORKER_ATTEMPTS", "10"}});
  stack.fake.set_faults({{"error_rate", 0.3}});
  auto emails = addresses(100);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 100);
  CHECK(state_count(done, "failed") == 0);
  CHECK(stack.fake.stats().errors > 0);  // the fault really fired
  CHECK(done["events"].value("DEFERRED", 0) > 0);
  check_each_once(stack, emails);
}

TEST_CASE("Throttling does not exhaust attempts", "[engine][e2e][integration]") {
  // Two attempts and 30 % of all requests throttled: were throttles counted as
  // attempts, about one message in eleven would end in the DLQ. Throttles in a
  // row double the wait (up to 60 s, as AWS advises), so a message can be
  // unlucky for a while; the generous deadline is not a speed target.
  Stack stack(Env{{"MAILER_WORKER_ATTEMPTS", "2"}, {"MAILER_SES_MAX_SEND_RATE", "200"}});
  stack.fake.set_faults({{"throttle_rate", 0.3}});
  auto emails = addresses(60);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(150));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 60);
  CHECK(state_count(done, "failed") == 0);
  CHECK(stack.fake.stats().throttled >= 10);
  check_each_once(stack, emails);
}

TEST_CASE("A permanent reject lands in the DLQ and mailerctl dlq retry sends it", "[engine][e2e][integration]") {
  Stack stack;
  const std::string rejected = "user3@example.com";
  stack.fake.set_faults({{"reject_addresses", {rejected}}});
  auto emails = addresses(5);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(20));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 4);
  CHECK(state_count(done, "failed") == 1);

  auto client = stack.mailerd->client();
  auto dlq = client->Get("/v1/admin/dlq", bearer(stack.key));
  REQUIRE(dlq);
  INFO(dlq->body);
  REQUIRE(dlq->status == 200);
  auto entries = json::parse(dlq->body).at("data");
  REQUIRE(entries.size() == 1);
  CHECK(entries[0].value("email", "") == rejected);
  CHECK(entries[0].value("last_error_code", "") == "MessageRejected");
  const std::string message_id = entries[0].at("id");
  CHECK(count_by_recipient(stack.fake.stored_messages())[rejected] == 0);

  SECTION("retried before the fault is removed it fails again") {
    auto retry = stack.mailerd->mailerctl({"dlq", "retry", message_id});
    INFO(retry.output << retry.errors);
    REQUIRE(retry.exit_code == 0);
    CHECK(wait_until([&] { return stack.fake.stats().rejected >= 2; }, std::chrono::seconds(10)));
    CHECK(count_by_recipient(stack.fake.stored_messages())[rejected] == 0);
  }
  SECTION("retried after the fault is removed it is sent") {
    stack.fake.set_faults({{"reject_addresses", json::array()}});
    auto retry = stack.mailerd->mailerctl({"dlq", "retry", message_id});
    INFO(retry.output << retry.errors);
    REQUIRE(retry.exit_code == 0);
    CHECK(wait_until([&] { return count_by_recipient(stack.fake.stored_messages())[rejected] == 1; },
                     std::chrono::seconds(10)));
    auto after = stack.wait_for_status(id, "completed", std::chrono::seconds(10));
    CHECK(state_count(after, "sent") == 5);
    CHECK(state_count(after, "failed") == 0);
    auto empty = client->Get("/v1/admin/dlq", bearer(stack.key));
    REQUIRE(empty);
    CHECK(json::parse(empty->body).at("data").empty());
  }
}
