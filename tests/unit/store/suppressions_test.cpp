#include <catch2/catch.hpp>

#include "mailer/store/suppressions.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {
Suppression entry(std::string email, SuppressionReason reason) {
  Suppression s;
  s.email = std::move(email);
  s.reason = reason;
  s.scope = default_scope(reason);
  return s;
}
}  // namespace

TEST_CASE("SuppressionRepo scopes: unsubscribe blocks bulk only", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  REQUIRE(repo.add(entry("unsub@example.com", SuppressionReason::unsubscribe)));
  REQUIRE(repo.add(entry("bounce@example.com", SuppressionReason::bounce)));
  CHECK(*repo.is_suppressed("unsub@example.com", MessageKind::bulk));
  CHECK_FALSE(*repo.is_suppressed("unsub@example.com", MessageKind::transactional));
  CHECK(*repo.is_suppressed("bounce@example.com", MessageKind::bulk));
  CHECK(*repo.is_suppressed("bounce@example.com", MessageKind::transactional));
  CHECK_FALSE(*repo.is_suppressed("other@example.com", MessageKind::bulk));
}

TEST_CASE("SuppressionRepo::add never narrows an existing suppression", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  REQUIRE(repo.add(entry("a@example.com", SuppressionReason::bounce)));
  auto after = repo.add(entry("a@example.com", SuppressionReason::unsubscribe));
  REQUIRE(after);
  CHECK(after->reason == SuppressionReason::bounce);
  CHECK(after->scope == SuppressionScope::all);
  SECTION("a wider one replaces a narrower one") {
    REQUIRE(repo.add(entry("b@example.com", SuppressionReason::unsubscribe)));
    auto widened = repo.add(entry("b@example.com", SuppressionReason::complaint));
    REQUIRE(widened);
    CHECK(widened->reason == SuppressionReason::complaint);
    CHECK(widened->scope == SuppressionScope::all);
  }
}

TEST_CASE("SuppressionRepo get, remove, list pages, import and export", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  std::vector<Suppression> rows;
  for (char c = 'a'; c <= 'e'; ++c) rows.push_back(entry(std::string(1, c) + "@example.com", SuppressionReason::manual));
  rows[4].reason = SuppressionReason::complaint;
  REQUIRE(*repo.import(rows) == 5);
  CHECK(repo.get("c@example.com")->reason == SuppressionReason::manual);
  auto missing = repo.get("z@example.com");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);

  PageQuery page{2, "", 0};
  auto p1 = repo.list(page);
  REQUIRE(p1);
  REQUIRE(p1->items.size() == 2);
  CHECK(p1->next_after == "b@example.com");
  REQUIRE(repo.add(entry("bb@example.com", SuppressionReason::manual)));  // inserted behind the cursor
  page.after = p1->next_after;
  auto p2 = repo.list(page);
  REQUIRE(p2->items.size() == 2);
  CHECK(p2->items[0].email == "bb@example.com");
  CHECK(p2->items[1].email == "c@example.com");

  auto complaints = repo.list(PageQuery{}, SuppressionReason::complaint);
  REQUIRE(complaints->items.size() == 1);
  CHECK(complaints->items[0].email == "e@example.com");
  CHECK(complaints->next_after.empty());

  REQUIRE(repo.remove("a@example.com"));
  auto again = repo.remove("a@example.com");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::not_found);
  CHECK(repo.export_all()->size() == 5);
}
