#include <catch2/catch.hpp>

#include "http/body_budget.hpp"

using mailer::http::BodyBudget;
using mailer::http::BodyReservation;
using mailer::http::k_min_counted_body_bytes;

namespace {
constexpr std::size_t k_mib = 1024 * 1024;
}

TEST_CASE("BodyBudget refuses what would pass its maximum and takes it back", "[http][body_budget]") {
  BodyBudget budget(4 * k_mib);
  CHECK(budget.try_reserve(3 * k_mib));
  CHECK_FALSE(budget.try_reserve(k_mib + 1));
  CHECK(budget.in_use() == 3 * k_mib);
  CHECK(budget.try_reserve(k_mib));
  budget.release(3 * k_mib);
  CHECK(budget.in_use() == k_mib);
  budget.release(10 * k_mib);  // never below zero
  CHECK(budget.in_use() == 0);
}

TEST_CASE("BodyReservation grows with a body, ignores small ones and returns its share", "[http][body_budget]") {
  BodyBudget budget(4 * k_mib);
  {
    BodyReservation small;
    CHECK(small.grow_to(budget, k_min_counted_body_bytes));
    CHECK(budget.in_use() == 0);

    BodyReservation chunked;
    CHECK(chunked.grow_to(budget, 2 * k_mib));
    CHECK(chunked.grow_to(budget, 3 * k_mib));
    CHECK(budget.in_use() == 3 * k_mib);
    BodyReservation other;
    CHECK_FALSE(other.grow_to(budget, 2 * k_mib));
    CHECK(other.held() == 0);
    CHECK_FALSE(chunked.grow_to(budget, 5 * k_mib));
    CHECK(chunked.held() == 3 * k_mib);  // what was held stays held
    chunked.reset();
    CHECK(budget.in_use() == 0);
    CHECK(other.grow_to(budget, 2 * k_mib));
  }
  CHECK(budget.in_use() == 0);  // destroyed: the connection ended
}
