// End to end: what survives the process dying (docs/ARCHITECTURE.md
// "Durability guarantees") and what a graceful stop promises (SPEC §8).
#include "engine_e2e.hpp"

#include <csignal>

using namespace mailer::test;
using namespace mailer::test::e2e;

TEST_CASE("kill -9 mid-batch then restart: nothing lost, duplicates at most worker.concurrency",
          "[engine][e2e][integration]") {
  constexpr int k_recipients = 5000;
  constexpr int k_concurrency = 16;
  // 1,000/s: the batch takes ~5 s, so the kill lands in the middle of it.
  Stack stack(Env{{"MAILER_WORKER_CONCURRENCY", std::to_string(k_concurrency)}, {"MAILER_SES_MAX_SEND_RATE", "1000"}});
  auto emails = addresses(k_recipients);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");
  REQUIRE(wait_until([&] { return stack.fake.stats().accepted >= 1000; }, std::chrono::seconds(30)));

  REQUIRE(stack.mailerd->process().stop(SIGKILL) == 128 + SIGKILL);
  const auto at_kill = stack.fake.stats().accepted;
  INFO("accepted when killed: " << at_kill);
  REQUIRE(at_kill < static_cast<std::uint64_t>(k_recipients));  // really mid-batch

  // Same database, same fake: the new process requeues the orphaned claims.
  auto env = stack.mailerd->env();
  MailerdFixture restarted(MailerdOptions{env, {}});
  json done;
  REQUIRE(wait_until(
      [&] {
        auto client = restarted.client();
        auto res = client->Get(("/v1/batches/" + id).c_str(), bearer(stack.key));
        if (!res || res->status != 200) return false;
        done = json::parse(res->body);
        return done.value("status", "") == "completed";
      },
      std::chrono::seconds(60)));
  CHECK(state_count(done, "sent") == k_recipients);

  auto counts = count_by_recipient(stack.fake.stored_messages());
  int lost = 0;
  int duplicates = 0;
  for (const auto& email : emails) {
    if (counts[email] == 0) ++lost;
    if (counts[email] > 1) duplicates += counts[email] - 1;
  }
  INFO("duplicates: " << duplicates);
  CHECK(lost == 0);
  CHECK(duplicates <= k_concurrency);
  CHECK(counts.size() == emails.size());
}

TEST_CASE("SIGTERM drains in-flight sends and exits 0", "[engine][e2e][integration]") {
  // Slow answers keep every worker mid-request when the signal arrives.
  Stack stack(Env{{"MAILER_WORKER_CONCURRENCY", "8"}});
  stack.fake.set_faults({{"latency_ms", 300}});
  auto emails = addresses(200);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");
  REQUIRE(wait_until([&] { return stack.fake.stats().accepted >= 16; }, std::chrono::seconds(15)));
  REQUIRE(stack.fake.stats().total_requests > stack.fake.stats().accepted);  // requests in flight

  auto code = stack.mailerd->process().stop(SIGTERM, std::chrono::seconds(20));
  REQUIRE(code);
  CHECK(*code == 0);
  const auto sent_at_fake = stack.fake.stats().accepted;
  CHECK(sent_at_fake < 200);

  // The database after the stop, through mailerctl: nothing left `sending`,
  // and every message the fake accepted is recorded as sent (none was
  // abandoned mid-flight to be sent a second time).
  auto shown = stack.mailerd->mailerctl({"--json", "batches", "show", id});
  INFO(shown.output << shown.errors);
  REQUIRE(shown.exit_code == 0);
  auto batch = json::parse(shown.output);
  auto states = batch.at("states");
  CHECK(states.value("sending", 0) == 0);
  CHECK(states.value("sent", std::uint64_t{0}) == sent_at_fake);
  CHECK(states.value("sent", 0) + states.value("queued", 0) == 200);
  CHECK(json_log_lines(stack.mailerd->log(), "job engine stopped").size() == 1);
}

TEST_CASE("SIGTERM does not wait for send-rate tokens: waiting workers give their messages back",
          "[engine][e2e][integration][send_rate]") {
  // One message every 20 s: after the first, every worker that claimed one
  // waits for a token far beyond the test, and the shutdown grace is 30 s.
  Stack stack(Env{{"MAILER_SES_MAX_SEND_RATE", "0.05"}, {"MAILER_WORKER_CONCURRENCY", "4"}});
  const std::string id = stack.post_batch(batch_body(addresses(6))).at("id");
  REQUIRE(wait_until([&] { return stack.fake.stats().accepted >= 1; }, std::chrono::seconds(15)));
  REQUIRE(wait_until([&] { return state_count(stack.batch(id), "sending") >= 1; }, std::chrono::seconds(15)));

  const auto asked = SteadyClock::now();
  auto code = stack.mailerd->process().stop(SIGTERM, std::chrono::seconds(40));
  REQUIRE(code);
  CHECK(*code == 0);
  CHECK(SteadyClock::now() - asked < std::chrono::seconds(10));

  auto shown = stack.mailerd->mailerctl({"--json", "batches", "show", id});
  INFO(shown.output << shown.errors);
  REQUIRE(shown.exit_code == 0);
  auto states = json::parse(shown.output).at("states");
  CHECK(states.value("sending", 0) == 0);
  CHECK(states.value("sent", 0) == 1);
  CHECK(states.value("queued", 0) == 5);
}
