// End to end: how closely the real mailerd keeps to the send rate SES allows,
// seen from a fake SES that counts what it accepted per sliding second and,
// like SES, refuses sends over its own rate. The targets are bench/run.sh's
// rate cases (docs/PERFORMANCE.md); the margins here are wider, for a loaded
// machine. Run alone with "[send_rate]".
#include "engine_e2e.hpp"

#include <vector>

#include <fmt/ranges.h>

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

// The fake's GetAccount rate and enforced rate, with a bucket of 1 s, as an
// SES account of 50/s; mailerd takes its rate from GetAccount ("auto").
FakeSesOptions rate_enforcing_fake() {
  return {false, {"--max-send-rate", "50", "--fault-max-send-rate", "50", "--fault-burst-seconds", "1"}};
}
const Env k_rate_auto{{"MAILER_SES_MAX_SEND_RATE", "auto"}};

// One reading of the fake's accepted count.
struct RateSample {
  SteadyClock::time_point at;
  std::uint64_t accepted = 0;
};

RateSample rate_sample(const Stack& stack) {
  const auto before = SteadyClock::now();
  auto accepted = stack.fake.stats().accepted;
  return {before + (SteadyClock::now() - before) / 2, accepted};
}

// The most sends the fake accepted between two samples at most 1 s apart,
// both taken at or after `from`.
std::uint64_t rate_best_second(const std::vector<RateSample>& samples, SteadyClock::time_point from) {
  std::uint64_t best = 0;
  std::size_t start = 0;
  for (std::size_t end = 0; end < samples.size(); ++end) {
    if (samples[end].at < from) continue;
    while (samples[start].at < from || samples[end].at - samples[start].at > std::chrono::seconds(1)) ++start;
    best = std::max(best, samples[end].accepted - samples[start].accepted);
  }
  return best;
}

}  // namespace

TEST_CASE("mailerd sends at most 10 % over ses.max_send_rate in any second", "[send_rate][e2e][integration]") {
  Stack stack(Env{{"MAILER_SES_MAX_SEND_RATE", "50"}}, FakeSesOptions{false, {}});
  const std::string id = stack.post_batch(batch_body(addresses(150))).at("id");
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(20));
  REQUIRE(state_count(done, "sent") == 150);
  auto stats = stack.fake.stats();
  INFO("accepted per second: " << fmt::format("{}", fmt::join(stats.accepted_per_second, " ")));
  // Target 55; 60 leaves room for a late answer counted in the next window.
  CHECK(stats.max_accepted_in_any_second <= 60);
}

TEST_CASE("mailerd with an auto rate sends 200 messages through an SES of 50/s with few throttles",
          "[send_rate][e2e][integration]") {
  Stack stack(k_rate_auto, rate_enforcing_fake());
  constexpr int k_messages = 200;
  const std::string id = stack.post_batch(batch_body(addresses(k_messages))).at("id");
  const auto accepted_at = SteadyClock::now();
  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - accepted_at).count();
  REQUIRE(state_count(done, "sent") == k_messages);
  auto stats = stack.fake.stats();
  INFO("took " << seconds << " s; throttled " << stats.throttled << "; most in a second "
               << stats.max_accepted_in_any_second);
  // 95 % of 50/s is the ideal pace: 4.2 s. Half as slow again, plus start-up.
  CHECK(seconds <= k_messages / 47.5 * 1.5 + 3);
  CHECK(stats.throttled <= 5);
}

TEST_CASE("mailerd recovers most of the allowed rate soon after a burst of throttling",
          "[send_rate][e2e][integration]") {
  Stack stack(k_rate_auto, rate_enforcing_fake());
  stack.post_batch(batch_body(addresses(1000)));
  REQUIRE(wait_until([&] { return stack.fake.stats().accepted >= 100; }, std::chrono::seconds(15)));

  stack.fake.set_faults({{"throttle_rate", 1}});
  std::this_thread::sleep_for(std::chrono::seconds(2));
  stack.fake.set_faults({{"throttle_rate", 0}});
  const auto burst_end = SteadyClock::now();
  CHECK(stack.fake.stats().throttled > 0);

  // Target: 45 (90 % of 50) within 10 s of the burst's end.
  std::vector<RateSample> samples;
  std::uint64_t best = 0;
  while (SteadyClock::now() < burst_end + std::chrono::seconds(15) && best < 40) {
    samples.push_back(rate_sample(stack));
    best = rate_best_second(samples, burst_end);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // a window of 0.95-1 s
  }
  INFO("most accepted within 1 s in the 15 s after the burst: " << best);
  CHECK(best >= 40);
}
