#include <catch2/catch.hpp>

#include "mailer/jobs/circuit_breaker.hpp"

using mailer::Clock;
using mailer::jobs::CircuitBreaker;
using mailer::jobs::ServiceFault;
using Change = CircuitBreaker::Change;
using State = CircuitBreaker::State;
using namespace std::chrono_literals;

namespace {

const Clock::time_point k_now{std::chrono::hours(1000)};

// A breaker put on hold at k_now by k_trip_after outage faults.
CircuitBreaker tripped() {
  CircuitBreaker breaker;
  for (int i = 0; i < CircuitBreaker::k_trip_after; ++i) {
    (void)breaker.on_service_fault(ServiceFault::unavailable, "connection refused", k_now);
  }
  return breaker;
}

}  // namespace

TEST_CASE("CircuitBreaker holds after k_trip_after service faults in a row", "[jobs]") {
  CircuitBreaker breaker;
  CHECK(breaker.clean());
  SECTION("fewer faults keep sending") {
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "503", k_now) == Change::none);
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "503", k_now) == Change::none);
    CHECK_FALSE(breaker.on_hold());
    CHECK_FALSE(breaker.clean());
  }
  SECTION("an answer in between starts the count over") {
    (void)breaker.on_service_fault(ServiceFault::unavailable, "503", k_now);
    (void)breaker.on_service_fault(ServiceFault::unavailable, "503", k_now);
    breaker.on_answer();
    CHECK(breaker.clean());
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "503", k_now) == Change::none);
    CHECK_FALSE(breaker.on_hold());
  }
  SECTION("the third starts the hold, with its reason and the first probe 1 s later") {
    (void)breaker.on_service_fault(ServiceFault::unavailable, "503", k_now);
    (void)breaker.on_service_fault(ServiceFault::credentials, "bad key", k_now);
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "connection refused", k_now) == Change::hold_started);
    CHECK(breaker.on_hold());
    CHECK(breaker.fault() == ServiceFault::unavailable);
    CHECK(breaker.detail() == "connection refused");
    CHECK_FALSE(breaker.probe_due(k_now + 999ms));
    CHECK(breaker.probe_due(k_now + 1s));
  }
  SECTION("faults while on hold change nothing") {
    breaker = tripped();
    CHECK(breaker.on_service_fault(ServiceFault::credentials, "late", k_now + 5s) == Change::none);
    CHECK(breaker.detail() == "connection refused");
    CHECK(breaker.next_probe() == k_now + 1s);
  }
  SECTION("ServiceFault::none is not a fault") {
    for (int i = 0; i < 10; ++i) (void)breaker.on_service_fault(ServiceFault::none, "x", k_now);
    CHECK(breaker.clean());
  }
}

TEST_CASE("CircuitBreaker probes with a doubling delay capped at 30 s", "[jobs]") {
  auto breaker = tripped();
  auto at = k_now + 1s;
  for (auto expected : {2s, 4s, 8s, 16s, 30s, 30s}) {
    CAPTURE(expected.count());
    REQUIRE(breaker.probe_due(at));
    CHECK(breaker.on_probe(false, ServiceFault::unavailable, "timeout", at) == Change::none);
    CHECK(breaker.on_hold());
    CHECK(breaker.next_probe() == at + expected);
    CHECK(breaker.detail() == "timeout");
    at += expected;
  }
  CHECK(CircuitBreaker::probe_delay(-3) == 1s);
  CHECK(CircuitBreaker::probe_delay(1000) == 30s);
}

TEST_CASE("CircuitBreaker resumes when a probe answers", "[jobs]") {
  auto breaker = tripped();
  REQUIRE(breaker.on_probe(false, ServiceFault::unavailable, "down", k_now + 1s) == Change::none);
  CHECK(breaker.on_probe(true, ServiceFault::none, "", k_now + 3s) == Change::hold_ended);
  CHECK(breaker.state() == State::half_open);
  CHECK_FALSE(breaker.on_hold());
  SECTION("the first answered send closes it") {
    breaker.on_answer();
    CHECK(breaker.clean());
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "503", k_now) == Change::none);
  }
  SECTION("a fault of the trial send holds again at once, the delay going on") {
    CHECK(breaker.on_service_fault(ServiceFault::unavailable, "503", k_now + 4s) == Change::hold_started);
    CHECK(breaker.next_probe() == k_now + 4s + 4s);  // two probes so far: 1 s * 2^2
  }
  SECTION("a probe result while not on hold is ignored") {
    CHECK(breaker.on_probe(false, ServiceFault::unavailable, "late", k_now + 4s) == Change::none);
    CHECK(breaker.state() == State::half_open);
  }
}
