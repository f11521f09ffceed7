// End to end: what an SES outage and an unwritable database do to sending.
// An outage puts sending on hold instead of spending attempts (nothing is
// dead-lettered, /ready and /metrics say why); an outcome the database refuses
// is kept and recorded later, and its message is never sent a second time.
#include "engine_e2e.hpp"

#include <algorithm>

#include <SQLiteCpp/Database.h>

#include "mailer/store/database.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

struct Ready {
  int status = 0;
  std::vector<std::string> reasons;
};

Ready ready(const Stack& stack) {
  auto res = stack.mailerd->client()->Get("/ready");
  if (!res) return {};
  Ready out{res->status, {}};
  auto body = json::parse(res->body, nullptr, false);
  if (body.is_object() && body.contains("reasons")) {
    for (const auto& reason : body["reasons"]) out.reasons.push_back(reason.get<std::string>());
  }
  return out;
}

bool has_reason(const Ready& answer, const std::string& text) {
  for (const auto& reason : answer.reasons) {
    if (reason.find(text) != std::string::npos) return true;
  }
  return false;
}

// Polls /ready until it answers 503 with a reason containing each of `texts`.
bool not_ready_for(const Stack& stack, const std::vector<std::string>& texts, std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        auto answer = ready(stack);
        return answer.status == 503 &&
               std::all_of(texts.begin(), texts.end(), [&](const auto& text) { return has_reason(answer, text); });
      },
      timeout);
}

double metric(const Stack& stack, const std::string& series) {
  auto res = stack.mailerd->client()->Get("/metrics");
  if (!res || res->status != 200) return -1;
  return sample_value(res->body, series).value_or(-1);
}

}  // namespace

TEST_CASE("An SES outage holds sending and dead-letters nothing", "[engine][e2e][integration]") {
  // worker.attempts stays at its default (5). A 250 ms backoff base would
  // spend all five within 0.25+0.5+1+2 s (+20 % jitter) of the outage's
  // start: the outage below lasts about twice that.
  Stack stack(Env{{"MAILER_WORKER_BACKOFF_BASE_MS", "250"}, {"MAILER_WORKER_BACKOFF_MAX_MS", "60000"}});
  stack.fake.set_faults({{"error_rate", 1.0}});  // every SendEmail and GetAccount: 500 InternalFailure
  const auto outage_began = SteadyClock::now();
  auto emails = addresses(100);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");

  REQUIRE(not_ready_for(stack, {"sending on hold: ses_unavailable"}, std::chrono::seconds(20)));
  CHECK(wait_until([&] { return metric(stack, R"(mailer_sending_on_hold{reason="ses_unavailable"})") == 1; },
                   std::chrono::seconds(10)));
  CHECK(metric(stack, R"(mailer_sending_holds_total{reason="ses_unavailable"})") >= 1);
  CHECK(json_log_lines(stack.mailerd->log(), "sending on hold; probing SES with GetAccount").size() >= 1);

  // Cleared just before the hold's third probe (1 + 2 + 4 s after it began).
  std::this_thread::sleep_until(outage_began + std::chrono::milliseconds(6500));
  auto held = stack.batch(id);
  CHECK(state_count(held, "failed") == 0);
  CHECK(state_count(held, "sent") == 0);
  const auto errors_during = stack.fake.stats().errors;
  // Probes, not a message after message: a few sends tripped the breaker
  // (the workers' requests in flight at that moment), then GetAccount only.
  CHECK(errors_during < 60);
  stack.fake.set_faults({{"error_rate", 0.0}});

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(60));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 100);
  CHECK(state_count(done, "failed") == 0);
  check_each_once(stack, emails);
  CHECK(wait_until([&] { return ready(stack).status == 200; }, std::chrono::seconds(10)));
  CHECK(metric(stack, R"(mailer_sending_on_hold{reason="ses_unavailable"})") == 0);
  CHECK(json_log_lines(stack.mailerd->log(), "sending resumed: SES answered").size() >= 1);
}

TEST_CASE("A message SES rejects still uses its attempts during normal sending", "[engine][e2e][integration]") {
  // The breaker counts faults of SES itself; an answer about the message is
  // an answer, so sending is never put on hold by it.
  Stack stack;
  std::vector<std::string> rejected = {"user1@example.com", "user2@example.com", "user3@example.com",
                                       "user4@example.com"};
  stack.fake.set_faults({{"reject_addresses", rejected}});
  auto emails = addresses(8);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(20));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "failed") == 4);
  CHECK(state_count(done, "sent") == 4);
  CHECK(json_log_lines(stack.mailerd->log(), "sending on hold; probing SES with GetAccount").empty());
}

TEST_CASE("A locked database holds outcomes, nothing is sent twice and /ready recovers", "[engine][e2e][integration]") {
  // Slow answers keep sends going when the lock is taken; the 5 s lease (the
  // smallest allowed) runs out while the lock is held for 9 s, so a reaper
  // that requeued expired leases would hand the held messages out again. The
  // engine's first round under the lock fails after SQLite's 5 s busy
  // timeout; from then on /ready says outcomes are held.
  Stack stack(Env{{"MAILER_WORKER_CONCURRENCY", "4"}, {"MAILER_WORKER_LEASE_SECONDS", "5"}});
  stack.fake.set_faults({{"latency_ms", 100}});
  auto emails = addresses(60);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");
  REQUIRE(wait_until([&] { return stack.fake.stats().accepted >= 8; }, std::chrono::seconds(20)));

  auto blocker = mailer::store::Database::open(stack.mailerd->db_path().string());
  REQUIRE(blocker);
  (*blocker)->sql().exec("BEGIN IMMEDIATE");  // the write lock, as a stuck writer would hold it
  const auto locked_at = SteadyClock::now();
  CHECK(not_ready_for(stack, {"database not writable", "outcomes held in memory"}, std::chrono::milliseconds(8500)));
  const auto accepted_while_locked = stack.fake.stats().accepted;
  std::this_thread::sleep_until(locked_at + std::chrono::seconds(9));
  // Every worker waits for its outcome's commit: at most one send each.
  CHECK(stack.fake.stats().accepted <= accepted_while_locked + 4);
  (*blocker)->sql().exec("ROLLBACK");

  CHECK(wait_until([&] { return ready(stack).status == 200; }, std::chrono::seconds(30)));
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(60));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 60);
  check_each_once(stack, emails);
  CHECK(json_log_lines(stack.mailerd->log(), "outcome fenced off: the lease had moved on").empty());
}

TEST_CASE("A database that refuses outcomes (disk full) holds them until it takes them", "[engine][e2e][integration]") {
  // A trigger that fails every record of a send stands in for a full disk:
  // SQLite answers at once instead of waiting for a lock, and reads go on.
  Stack stack(Env{{"MAILER_WORKER_CONCURRENCY", "2"}, {"MAILER_WORKER_LEASE_SECONDS", "5"}});
  stack.fake.set_faults({{"latency_ms", 50}});
  auto blocker = mailer::store::Database::open(stack.mailerd->db_path().string());
  REQUIRE(blocker);
  (*blocker)->sql().exec(
      "CREATE TRIGGER refuse_sent BEFORE UPDATE OF state ON messages WHEN NEW.state = 'sent'"
      " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
  auto emails = addresses(10);
  const std::string id = stack.post_batch(batch_body(emails)).at("id");

  REQUIRE(not_ready_for(stack, {"database not writable", "outcomes held in memory"}, std::chrono::seconds(15)));
  CHECK(wait_until([&] { return metric(stack, "mailer_storage_on_hold") == 1; }, std::chrono::seconds(10)));
  // Past the lease and a few reaper ticks: nothing is handed out again.
  std::this_thread::sleep_for(std::chrono::seconds(8));
  CHECK(stack.fake.stats().accepted <= 2);  // one send per worker, then each waits for its record
  (*blocker)->sql().exec("DROP TRIGGER refuse_sent");

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(60));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 10);
  check_each_once(stack, emails);
  CHECK(wait_until([&] { return ready(stack).status == 200; }, std::chrono::seconds(15)));
  CHECK(metric(stack, "mailer_storage_on_hold") == 0);
}
