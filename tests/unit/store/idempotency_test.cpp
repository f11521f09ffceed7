#include <catch2/catch.hpp>

#include "mailer/store/idempotency.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::store::IdempotencyRepo;
using namespace std::chrono_literals;

TEST_CASE("IdempotencyRepo replays the first response for the same request", "[store]") {
  mailer::test::TestDb t;
  IdempotencyRepo repo(t.db(), t.clock());
  auto first = repo.lookup("key_a", "k1", "hash1");
  REQUIRE(first);
  CHECK_FALSE(first->has_value());
  REQUIRE(repo.store("key_a", "k1", "hash1", 202, R"({"id":"bat_1"})"));
  auto again = repo.lookup("key_a", "k1", "hash1");
  REQUIRE(again);
  REQUIRE(again->has_value());
  CHECK((*again)->status == 202);
  CHECK((*again)->body == R"({"id":"bat_1"})");
  SECTION("another API key has its own namespace") {
    auto other = repo.lookup("key_b", "k1", "hash2");
    REQUIRE(other);
    CHECK_FALSE(other->has_value());
  }
}

TEST_CASE("IdempotencyRepo refuses a reused key with a different request", "[store]") {
  mailer::test::TestDb t;
  IdempotencyRepo repo(t.db(), t.clock());
  REQUIRE(repo.store("key_a", "k1", "hash1", 202, "{}"));
  auto other = repo.lookup("key_a", "k1", "hash2");
  REQUIRE_FALSE(other);
  CHECK(other.error().code == ErrorCode::conflict);
  auto racing = repo.store("key_a", "k1", "hash1", 202, "{}");
  REQUIRE_FALSE(racing);
  CHECK(racing.error().code == ErrorCode::conflict);
}

TEST_CASE("IdempotencyRepo forgets keys after 24 hours", "[store]") {
  mailer::test::TestDb t;
  IdempotencyRepo repo(t.db(), t.clock());
  REQUIRE(repo.store("key_a", "k1", "hash1", 202, "{}"));
  REQUIRE(repo.store("key_a", "k2", "hash1", 202, "{}"));
  t.clock().advance(24h - 1ms);
  auto still = repo.lookup("key_a", "k1", "other");
  CHECK_FALSE(still);
  t.clock().advance(1ms);
  auto expired = repo.lookup("key_a", "k1", "other");
  REQUIRE(expired);
  CHECK_FALSE(expired->has_value());
  REQUIRE(repo.store("key_a", "k1", "other", 201, "new"));  // replaces the expired record
  auto purged = repo.purge_expired();
  REQUIRE(purged);
  CHECK(*purged == 1);  // k2; k1 was just stored again
  CHECK(t.count_rows("idempotency_keys") == 1);
}
