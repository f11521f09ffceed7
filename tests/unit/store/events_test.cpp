#include <catch2/catch.hpp>

#include "mailer/store/events.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {
Event make(std::string type, std::string email, std::int64_t at_ms, std::optional<std::string> batch = {}) {
  Event e;
  e.type = std::move(type);
  e.email = std::move(email);
  e.occurred_at_ms = at_ms;
  e.batch_id = std::move(batch);
  return e;
}
}  // namespace

TEST_CASE("EventRepo::list filters by type, batch, email and time", "[store]") {
  mailer::test::TestDb t;
  EventRepo repo(t.db());
  REQUIRE(repo.insert(make("SENT", "a@example.com", 1000, "bat_1")));
  REQUIRE(repo.insert(make("BOUNCE", "a@example.com", 2000, "bat_1")));
  REQUIRE(repo.insert(make("SENT", "b@example.com", 3000, "bat_2")));
  auto count = [&](EventFilter f) { return repo.list(f, PageQuery{})->items.size(); };
  CHECK(count({}) == 3);
  CHECK(count({.type = "SENT"}) == 2);
  CHECK(count({.batch_id = "bat_1"}) == 2);
  CHECK(count({.emails = {"b@example.com", "B@example.com"}}) == 1);
  CHECK(count({.since_ms = 2000}) == 2);
  CHECK(count({.since_ms = 1000, .until_ms = 2000}) == 1);
  CHECK(count({.type = "SENT", .batch_id = "bat_1"}) == 1);
}

TEST_CASE("EventRepo::list pages by id without gaps while events arrive", "[store]") {
  mailer::test::TestDb t;
  EventRepo repo(t.db());
  for (int i = 0; i < 5; ++i) REQUIRE(repo.insert(make("SENT", "a@example.com", i)));
  std::vector<std::int64_t> seen;
  PageQuery page{2, "", 0};
  int inserted = 0;
  while (true) {
    auto p = repo.list({}, page);
    REQUIRE(p);
    for (const auto& e : p->items) seen.push_back(e.id);
    if (inserted++ < 2) REQUIRE(repo.insert(make("DELIVERY", "a@example.com", 10 + inserted)));
    if (p->next_after.empty()) break;
    page.after = p->next_after;
  }
  REQUIRE(seen.size() == 7);
  for (std::size_t i = 0; i < seen.size(); ++i) CHECK(seen[i] == static_cast<std::int64_t>(i + 1));
  auto bad = repo.list({}, PageQuery{10, "x1", 0});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::invalid_input);
}
