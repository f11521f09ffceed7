#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/events.hpp"
#include "mailer/store/schema_files.hpp"
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
  CHECK(count({.email = "B@example.com"}) == 1);
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

TEST_CASE("EventRepo::insert stores the address lower-cased, found in any spelling", "[store]") {
  mailer::test::TestDb t;
  EventRepo repo(t.db());
  auto id = repo.insert(make("SENT", "Ana.B@Example.com", 1000));
  REQUIRE(id);
  auto stored = repo.list({}, PageQuery{})->items.at(0);
  CHECK(stored.email == "ana.b@example.com");
  CHECK(repo.list({.email = "ANA.B@EXAMPLE.COM"}, PageQuery{})->items.size() == 1);
  CHECK(repo.list({.email = "ana.b@example.com"}, PageQuery{})->items.size() == 1);
  SECTION("several at once") {
    REQUIRE(repo.insert(
        std::vector<Event>{make("SUPPRESSED", "Bo@example.com", 2000), make("SENT", "CY@example.com", 3000)}));
    CHECK(repo.list({.email = "bo@example.com"}, PageQuery{})->items.size() == 1);
    CHECK(repo.list({.email = "cy@example.com"}, PageQuery{})->items.size() == 1);
  }
}

TEST_CASE("migration 0003 lowers the addresses of existing events", "[store]") {
  mailer::test::TestDb t;
  // Rows as older versions wrote them, past EventRepo.
  t.db().sql().exec(
      "INSERT INTO events(type, email, occurred_at_ms) VALUES ('SENT', 'Ana@example.com', 1), "
      "('BOUNCE', 'ana@example.com', 2)");
  const mailer::store::SchemaFile* file = nullptr;
  for (const auto& f : mailer::store::schema_files())
    if (f.name == "0003_event_addresses.sql") file = &f;
  REQUIRE(file);
  t.db().sql().exec(std::string(file->sql));
  SQLite::Statement rows(t.db().sql(), "SELECT email FROM events ORDER BY id");
  std::vector<std::string> emails;
  while (rows.executeStep()) emails.push_back(rows.getColumn(0).getString());
  CHECK(emails == std::vector<std::string>{"ana@example.com", "ana@example.com"});
  EventRepo repo(t.db());
  CHECK(repo.list({.email = "ANA@example.com"}, PageQuery{})->items.size() == 2);
}
