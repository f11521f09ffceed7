#include <catch2/catch.hpp>

#include <atomic>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mailer/jobs/send_rate.hpp"

using namespace std::chrono_literals;
using mailer::jobs::DailyQuota;
using mailer::jobs::SendRate;
using mailer::jobs::Traffic;

namespace {

// Time stands still until the test moves it (tests/support/fake_clock.hpp is
// another helper's; this one is all these tests need).
class ManualClock final : public mailer::Clock {
 public:
  time_point now() const override { return m_now; }
  void advance(std::chrono::nanoseconds by) { m_now += std::chrono::duration_cast<duration>(by); }

 private:
  using duration = time_point::duration;
  time_point m_now = mailer::from_ms(1'800'000'000'000);
};

// Sends `count` single-recipient messages, each waiting as told; returns the
// fake time they took.
std::chrono::nanoseconds send_all(SendRate& rate, ManualClock& clock, int count) {
  std::chrono::nanoseconds total{0};
  for (int i = 0; i < count; ++i) {
    auto wait = rate.reserve(1);
    clock.advance(wait);
    total += wait;
  }
  return total;
}

}  // namespace

TEST_CASE("SendRate::reserve paces sends at the rate after the burst", "[jobs]") {
  ManualClock clock;
  SendRate rate(100, clock);  // a burst of 50 ms: 5 tokens
  SECTION("the burst goes at once") { CHECK(send_all(rate, clock, 5) == 0ns); }
  SECTION("N sends at R take about (N - burst) / R") {
    auto took = send_all(rate, clock, 105);
    CHECK(std::chrono::duration<double>(took).count() == Approx(1.0).margin(1e-6));
  }
  SECTION("waits queue up in order when reserved together") {
    send_all(rate, clock, 5);
    CHECK(rate.reserve(1) == 10ms);
    CHECK(rate.reserve(1) == 20ms);
    CHECK(rate.reserve(5) == 70ms);
  }
  SECTION("a message to many recipients costs many tokens") { CHECK(rate.reserve(30) == 250ms); }
  SECTION("an idle bucket saves at most the burst") {
    send_all(rate, clock, 5);
    clock.advance(1h);
    CHECK(rate.reserve(5) == 0ns);
    CHECK(rate.reserve(1) == 10ms);
  }
}

// The controller's first promise: whatever the start, no sliding second holds
// more than 5 % over the rate (SES counts its rate per second).
TEST_CASE("SendRate keeps every sliding second within 5 % of the rate", "[jobs]") {
  ManualClock clock;
  SendRate rate(500, clock);
  std::vector<mailer::Clock::time_point> sent;
  for (int i = 0; i < 2000; ++i) {
    clock.advance(rate.reserve(1));
    sent.push_back(clock.now());
  }
  std::size_t most = 0;
  std::size_t from = 0;
  for (std::size_t to = 0; to < sent.size(); ++to) {
    while (sent[to] - sent[from] >= 1s) ++from;
    most = std::max(most, to - from + 1);
  }
  CHECK(most <= 525);
  CHECK(most >= 500);
}

TEST_CASE("SendRate queues reservations after a rate change behind earlier ones", "[jobs]") {
  ManualClock clock;
  SendRate rate(10, clock);
  CHECK(rate.reserve(1) == 0ns);
  CHECK(rate.reserve(1) == 100ms);
  CHECK(rate.reserve(1) == 200ms);
  // The two waiting callers send at +100 ms and +200 ms whatever the new
  // rate; the next one goes 1/20 s after them, not between them.
  rate.set_ceiling(20);
  CHECK(rate.reserve(1) == 250ms);
}

TEST_CASE("SendRate holds at least one token at slow rates", "[jobs]") {
  ManualClock clock;
  SendRate rate(0.5, clock);
  CHECK(rate.reserve(1) == 0ns);
  CHECK(rate.reserve(1) == 2s);
  clock.advance(10s);
  CHECK(rate.reserve(1) == 0ns);
  CHECK(rate.reserve(1) == 2s);
}

TEST_CASE("SendRate::on_throttled halves the rate down to a floor", "[jobs]") {
  ManualClock clock;
  SendRate rate(10, clock);
  CHECK(rate.on_throttled() == 1);
  CHECK(rate.current_rate() == 5.0);
  SECTION("throttles within the hold window count once") {
    clock.advance(999ms);
    CHECK(rate.on_throttled() == 1);
    CHECK(rate.current_rate() == 5.0);
  }
  SECTION("later throttles keep halving to 10% of the ceiling") {
    clock.advance(1s);
    CHECK(rate.on_throttled() == 2);
    CHECK(rate.current_rate() == 2.5);
    clock.advance(1s);
    rate.on_throttled();
    CHECK(rate.current_rate() == 1.25);
    clock.advance(1s);
    CHECK(rate.on_throttled() == 4);
    CHECK(rate.current_rate() == 1.0);
    CHECK(rate.throttle_streak() == 4);
  }
  SECTION("the slower rate paces reservations") {
    send_all(rate, clock, 5);
    CHECK(rate.reserve(1) == 200ms);
  }
}

TEST_CASE("SendRate::on_success recovers 15% of the ceiling per second", "[jobs]") {
  ManualClock clock;
  SendRate rate(10, clock);
  rate.on_throttled();  // 5/s
  SECTION("exact schedule") {
    clock.advance(2s);
    rate.on_success();
    CHECK(rate.current_rate() == Approx(8.0));
    clock.advance(1s);
    rate.on_success();
    CHECK(rate.current_rate() == Approx(9.5));
    clock.advance(10s);
    rate.on_success();
    CHECK(rate.current_rate() == 10.0);
  }
  SECTION("many small steps add up to the same line") {
    for (int i = 0; i < 20; ++i) {
      clock.advance(100ms);
      rate.on_success();
    }
    CHECK(rate.current_rate() == Approx(8.0));
  }
  SECTION("success resets the streak") {
    clock.advance(1s);
    CHECK(rate.on_throttled() == 2);
    rate.on_success();
    CHECK(rate.throttle_streak() == 0);
  }
  SECTION("a clock stepping back recovers nothing") {
    clock.advance(-5s);
    rate.on_success();
    CHECK(rate.current_rate() == 5.0);
  }
}

TEST_CASE("SendRate::set_ceiling follows GetAccount", "[jobs]") {
  ManualClock clock;
  SendRate rate(10, clock);
  SECTION("an unthrottled bucket moves to the new ceiling") {
    rate.set_ceiling(20);
    CHECK(rate.current_rate() == 20.0);
    CHECK(rate.ceiling() == 20.0);
    rate.set_ceiling(4);
    CHECK(rate.current_rate() == 4.0);
    send_all(rate, clock, 4);
    CHECK(rate.reserve(1) == 250ms);
  }
  SECTION("a throttled bucket keeps its rate and recovers toward the new ceiling") {
    rate.on_throttled();  // 5/s
    rate.set_ceiling(20);
    CHECK(rate.current_rate() == 5.0);
    clock.advance(1s);
    rate.on_success();  // + 15% of 20 per second
    CHECK(rate.current_rate() == Approx(8.0));
  }
  SECTION("a lower ceiling caps a throttled bucket") {
    rate.on_throttled();
    rate.set_ceiling(2);
    CHECK(rate.current_rate() == 2.0);
  }
  SECTION("nonsense is raised to the minimum rate") {
    rate.set_ceiling(0);
    CHECK(rate.ceiling() == SendRate::k_min_rate);
    rate.set_ceiling(std::numeric_limits<double>::quiet_NaN());
    CHECK(rate.ceiling() == SendRate::k_min_rate);
  }
}

TEST_CASE("SendRate::ceiling_from_account keeps 5% headroom", "[jobs]") {
  CHECK(SendRate::ceiling_from_account(14) == Approx(13.3));
  CHECK(SendRate::ceiling_from_account(1) == Approx(0.95));
  CHECK(SendRate::ceiling_from_account(-1) == SendRate::k_min_rate);
}

TEST_CASE("SendRate::acquire returns false when stopped", "[jobs]") {
  mailer::SystemClock clock;
  SendRate rate(0.1, clock);  // one token, then one every 10 s
  std::stop_source stop;
  CHECK(rate.acquire(1, stop.get_token()));
  SECTION("stop already requested") {
    stop.request_stop();
    CHECK_FALSE(rate.acquire(1, stop.get_token()));
  }
  SECTION("stop_waiting ends a wait and refuses later ones") {
    auto started = std::chrono::steady_clock::now();
    std::jthread stopper([&rate] {
      std::this_thread::sleep_for(50ms);
      rate.stop_waiting();
    });
    CHECK_FALSE(rate.acquire(1, stop.get_token()));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
    stopper.join();
    CHECK_FALSE(rate.acquire(1, stop.get_token()));
  }
  SECTION("stop requested during the wait ends it early") {
    auto started = std::chrono::steady_clock::now();
    std::jthread stopper([&stop] {
      std::this_thread::sleep_for(50ms);
      stop.request_stop();
    });
    CHECK_FALSE(rate.acquire(1, stop.get_token()));
    CHECK(std::chrono::steady_clock::now() - started < 5s);
  }
}

TEST_CASE("SendRate is shared by threads without losing tokens", "[jobs][slow]") {
  mailer::SystemClock clock;
  SendRate rate(200, clock);
  auto deadline = clock.now() + 500ms;
  std::atomic<int> granted{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        // Bounded: at 200/s about 27 grants per thread fit in the window.
        for (int i = 0; i < 10'000; ++i) {
          auto wait = rate.reserve(1);
          if (clock.now() + wait > deadline) return;
          std::this_thread::sleep_for(wait);
          ++granted;
        }
      });
    }
  }
  // A full bucket (10) plus 0.5 s at 200/s.
  CHECK(granted.load() >= 90);
  CHECK(granted.load() <= 125);
}

TEST_CASE("DailyQuota stops bulk before Max24HourSend", "[jobs]") {
  DailyQuota quota;
  SECTION("unlimited before the first refresh and for -1") {
    CHECK(quota.allows(1'000'000));
    quota.refresh(-1, 5'000'000);
    CHECK(quota.try_take(1'000'000));
    CHECK(std::isinf(quota.remaining()));
  }
  SECTION("bulk keeps 1% for transactional mail") {
    quota.refresh(1000, 985);
    CHECK(quota.allows(5, Traffic::bulk));
    CHECK_FALSE(quota.allows(6, Traffic::bulk));
    CHECK(quota.allows(15, Traffic::transactional));
    CHECK_FALSE(quota.allows(16, Traffic::transactional));
    CHECK(quota.remaining(Traffic::bulk) == 5.0);
  }
  SECTION("local sends count until the next refresh") {
    quota.refresh(200, 190);
    CHECK(quota.try_take(8));
    CHECK_FALSE(quota.try_take(1));
    CHECK(quota.try_take(2, Traffic::transactional));
    CHECK_FALSE(quota.try_take(1, Traffic::transactional));
    quota.give_back(3);
    CHECK(quota.try_take(1));
    quota.refresh(200, 100);
    CHECK(quota.allows(98));
  }
  SECTION("SES saying the quota is spent blocks everything until refresh") {
    quota.refresh(1000, 10);
    quota.on_quota_exceeded();
    CHECK_FALSE(quota.allows(1, Traffic::transactional));
    CHECK(quota.remaining() == 0.0);
    quota.refresh(1000, 10);
    CHECK(quota.allows(1));
  }
  SECTION("already over the quota") {
    quota.refresh(200, 250);
    CHECK_FALSE(quota.allows(1, Traffic::transactional));
    CHECK(quota.remaining(Traffic::transactional) == 0.0);
  }
}

TEST_CASE("DailyQuota::reserve gives its slot back unless kept", "[jobs]") {
  DailyQuota quota;
  quota.refresh(100, 90);
  SECTION("a send that failed or threw returns its slot") {
    try {
      auto slot = quota.reserve(9, Traffic::transactional);
      REQUIRE(slot);
      CHECK(quota.remaining(Traffic::transactional) == 1.0);
      throw std::runtime_error("send threw");
    } catch (const std::runtime_error&) {
    }
    CHECK(quota.remaining(Traffic::transactional) == 10.0);
  }
  SECTION("a kept slot stays counted") {
    {
      auto slot = quota.reserve(4, Traffic::transactional);
      REQUIRE(slot);
      slot->keep();
    }
    CHECK(quota.remaining(Traffic::transactional) == 6.0);
  }
  SECTION("no slot when the quota does not allow it") {
    CHECK_FALSE(quota.reserve(11, Traffic::transactional));
    CHECK(quota.remaining(Traffic::transactional) == 10.0);
  }
}
