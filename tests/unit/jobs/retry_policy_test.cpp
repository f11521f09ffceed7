#include <catch2/catch.hpp>

#include "mailer/jobs/retry_policy.hpp"

using namespace std::chrono_literals;
using mailer::Error;
using mailer::ErrorCode;
using mailer::from_ms;
using mailer::jobs::ConsumesAttempt;
using mailer::jobs::Decision;
using mailer::jobs::RetryPolicy;
using mailer::jobs::Rng;

namespace {

const auto k_retry_now = from_ms(1'800'000'000'000);

Rng fixed_rng(double u) {
  return [u] { return u; };
}

Error error_of(ErrorCode code, std::string detail = "boom", std::string upstream = "") {
  return Error{code, std::move(detail), {}, std::move(upstream)};
}

RetryPolicy default_policy() { return RetryPolicy(5, 1000ms, 3'600'000ms); }

}  // namespace

TEST_CASE("RetryPolicy::backoff_delay doubles from the base", "[jobs]") {
  auto policy = default_policy();
  Rng no_jitter = fixed_rng(0.0);
  CHECK(policy.backoff_delay(1, no_jitter) == 1000ms);
  CHECK(policy.backoff_delay(2, no_jitter) == 2000ms);
  CHECK(policy.backoff_delay(3, no_jitter) == 4000ms);
  CHECK(policy.backoff_delay(4, no_jitter) == 8000ms);
  CHECK(policy.backoff_delay(5, no_jitter) == 16000ms);
}

TEST_CASE("RetryPolicy::backoff_delay caps at backoff_max", "[jobs]") {
  RetryPolicy policy(50, 1000ms, 5000ms);
  Rng no_jitter = fixed_rng(0.0);
  CHECK(policy.backoff_delay(3, no_jitter) == 4000ms);
  CHECK(policy.backoff_delay(4, no_jitter) == 5000ms);
  CHECK(policy.backoff_delay(50, no_jitter) == 5000ms);
  SECTION("a huge attempt number does not overflow") { CHECK(policy.backoff_delay(1'000'000, no_jitter) == 5000ms); }
}

TEST_CASE("RetryPolicy::backoff_delay adds up to 20% jitter", "[jobs]") {
  auto policy = default_policy();
  SECTION("half the range") {
    Rng rng = fixed_rng(0.5);
    CHECK(policy.backoff_delay(1, rng) == 1100ms);
    CHECK(policy.backoff_delay(3, rng) == 4400ms);
  }
  SECTION("top of the range stays at 1.2 times the capped delay") {
    RetryPolicy capped(10, 1000ms, 5000ms);
    Rng rng = fixed_rng(0.999999);
    CHECK(capped.backoff_delay(1, rng) == 1199ms);
    CHECK(capped.backoff_delay(10, rng) == 5999ms);
  }
  SECTION("an rng outside [0, 1] is clamped") {
    Rng high = fixed_rng(7.0);
    Rng low = fixed_rng(-3.0);
    CHECK(policy.backoff_delay(1, high) == 1200ms);
    CHECK(policy.backoff_delay(1, low) == 1000ms);
  }
}

TEST_CASE("RetryPolicy::decide retries our own failures until attempts run out", "[jobs]") {
  auto policy = default_policy();
  Rng rng = fixed_rng(0.5);
  for (auto code : {ErrorCode::storage_unavailable, ErrorCode::internal}) {
    CAPTURE(mailer::to_string(code));
    auto first = policy.decide(1, error_of(code), k_retry_now, rng);
    CHECK(first.kind == Decision::Kind::retry);
    CHECK(first.retry_at == k_retry_now + 1100ms);
    CHECK(first.consumes_attempt == ConsumesAttempt::yes);
    auto fourth = policy.decide(4, error_of(code), k_retry_now, rng);
    CHECK(fourth.kind == Decision::Kind::retry);
    CHECK(fourth.retry_at == k_retry_now + 8800ms);
    auto last = policy.decide(5, error_of(code), k_retry_now, rng);
    CHECK(last.kind == Decision::Kind::dead_letter);
    CHECK(last.reason == std::string(mailer::to_string(code)) + ": 5 of 5 attempts used");
  }
}

TEST_CASE("RetryPolicy::decide never spends an attempt on an SES outage or refused credentials", "[jobs]") {
  auto policy = default_policy();
  Rng rng = fixed_rng(0.5);
  SECTION("transport error or 5xx, even past the last attempt") {
    auto unavailable = error_of(ErrorCode::upstream_transient, "SES answered HTTP 503", "ServiceUnavailable");
    for (int attempt : {1, 5, 50}) {
      CAPTURE(attempt);
      auto d = policy.decide(attempt, unavailable, k_retry_now, rng);
      CHECK(d.kind == Decision::Kind::retry);
      CHECK(d.consumes_attempt == ConsumesAttempt::no);
    }
    CHECK(policy.decide(1, unavailable, k_retry_now, rng).retry_at == k_retry_now + 1100ms);
  }
  SECTION("credentials refused by SES or not found at all") {
    for (const auto& e : {error_of(ErrorCode::upstream_permanent, "bad key", "UnrecognizedClientException"),
                          error_of(ErrorCode::upstream_permanent, "no", "AccessDeniedException"),
                          error_of(ErrorCode::unauthorized, "no AWS credentials found")}) {
      CAPTURE(e.detail);
      auto d = policy.decide(5, e, k_retry_now, rng);
      CHECK(d.kind == Decision::Kind::retry);
      CHECK(d.consumes_attempt == ConsumesAttempt::no);
    }
  }
}

TEST_CASE("service_fault tells an SES outage from an answer about the message", "[jobs]") {
  using mailer::jobs::service_fault;
  using mailer::jobs::ServiceFault;
  CHECK(service_fault(error_of(ErrorCode::upstream_transient, "POST ...: connection refused")) ==
        ServiceFault::unavailable);
  CHECK(service_fault(error_of(ErrorCode::upstream_transient, "x", "InternalFailure")) == ServiceFault::unavailable);
  CHECK(service_fault(error_of(ErrorCode::upstream_permanent, "x", "SignatureDoesNotMatch")) ==
        ServiceFault::credentials);
  CHECK(service_fault(error_of(ErrorCode::upstream_permanent, "x", "MessageRejected")) == ServiceFault::none);
  CHECK(service_fault(error_of(ErrorCode::upstream_permanent, "x", "BadRequestException")) == ServiceFault::none);
  CHECK(service_fault(error_of(ErrorCode::upstream_throttled, "x", "TooManyRequestsException")) == ServiceFault::none);
  CHECK(service_fault(error_of(ErrorCode::internal)) == ServiceFault::none);
  CHECK(std::string(mailer::jobs::to_string(ServiceFault::unavailable)) == "ses_unavailable");
  CHECK(std::string(mailer::jobs::to_string(ServiceFault::credentials)) == "ses_credentials");
}

TEST_CASE("RetryPolicy::decide sends permanent errors to the DLQ at once", "[jobs]") {
  auto policy = default_policy();
  Rng rng = fixed_rng(0.5);
  SECTION("message rejected") {
    auto d = policy.decide(1, error_of(ErrorCode::upstream_permanent, "rejected", "MessageRejected"), k_retry_now, rng);
    CHECK(d.kind == Decision::Kind::dead_letter);
    CHECK(d.reason == "upstream_permanent: not retryable");
  }
  SECTION("invalid input") {
    auto d = policy.decide(1, error_of(ErrorCode::invalid_input), k_retry_now, rng);
    CHECK(d.kind == Decision::Kind::dead_letter);
    CHECK(d.reason == "invalid_input: not retryable");
  }
  SECTION("template gone") {
    auto d = policy.decide(2, error_of(ErrorCode::not_found), k_retry_now, rng);
    CHECK(d.kind == Decision::Kind::dead_letter);
  }
}

TEST_CASE("RetryPolicy::decide never uses an attempt on throttling", "[jobs]") {
  auto policy = RetryPolicy(1, 1000ms, 3'600'000ms);
  Rng rng = fixed_rng(0.0);
  auto throttled =
      error_of(ErrorCode::upstream_throttled, "Maximum sending rate exceeded.", "TooManyRequestsException");
  SECTION("even on the last attempt it retries") {
    auto d = policy.decide(1, throttled, k_retry_now, rng);
    CHECK(d.kind == Decision::Kind::retry);
    CHECK(d.consumes_attempt == ConsumesAttempt::no);
    CHECK(d.retry_at == k_retry_now + 1s);
  }
  SECTION("the delay grows with the streak from 1 s to 10 s") {
    CHECK(policy.decide(1, throttled, k_retry_now, rng, 2).retry_at == k_retry_now + 2s);
    CHECK(policy.decide(1, throttled, k_retry_now, rng, 4).retry_at == k_retry_now + 8s);
    CHECK(policy.decide(1, throttled, k_retry_now, rng, 5).retry_at == k_retry_now + 10s);
    CHECK(policy.decide(9, throttled, k_retry_now, rng, 500).retry_at == k_retry_now + 10s);
    CHECK(policy.decide(1, throttled, k_retry_now, rng, 0).retry_at == k_retry_now + 1s);
  }
  SECTION("with jitter") {
    Rng half = fixed_rng(0.5);
    CHECK(RetryPolicy::throttle_delay(7, half) == 11s);
  }
}

TEST_CASE("RetryPolicy::decide pauses on the daily quota", "[jobs]") {
  auto policy = RetryPolicy(1, 1000ms, 3'600'000ms);
  Rng rng = fixed_rng(0.5);
  auto quota = error_of(ErrorCode::upstream_permanent, "Daily message quota exceeded.", "LimitExceededException");
  auto d = policy.decide(1, quota, k_retry_now, rng);
  CHECK(d.kind == Decision::Kind::quota_pause);
  CHECK(d.consumes_attempt == ConsumesAttempt::no);
  CHECK(d.retry_at == k_retry_now + RetryPolicy::k_quota_recheck);
}

TEST_CASE("is_daily_quota_error reads the SES message and bulk status", "[jobs]") {
  using mailer::jobs::is_daily_quota_error;
  CHECK(is_daily_quota_error(error_of(ErrorCode::upstream_throttled, "SES Throttling: Daily message quota exceeded.")));
  CHECK(is_daily_quota_error(error_of(ErrorCode::upstream_permanent, "DAILY MESSAGE QUOTA EXCEEDED")));
  CHECK(is_daily_quota_error(error_of(ErrorCode::upstream_throttled, "", "ACCOUNT_DAILY_QUOTA_EXCEEDED")));
  CHECK_FALSE(is_daily_quota_error(
      error_of(ErrorCode::upstream_throttled, "Maximum sending rate exceeded.", "TooManyRequestsException")));
  CHECK_FALSE(
      is_daily_quota_error(error_of(ErrorCode::upstream_permanent, "Daily message quota", "LimitExceededException")));
}

TEST_CASE("RetryPolicy normalises out-of-range settings", "[jobs]") {
  RetryPolicy policy(0, 0ms, -5ms);
  CHECK(policy.attempts() == 1);
  CHECK(policy.backoff_base() == 1ms);
  CHECK(policy.backoff_max() == 1ms);
  RetryPolicy inverted(3, 2000ms, 500ms);
  Rng rng = fixed_rng(0.0);
  CHECK(inverted.backoff_delay(4, rng) == 2000ms);
}
