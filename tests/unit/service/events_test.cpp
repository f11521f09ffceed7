#include <catch2/catch.hpp>

#include "mailer/service/events.hpp"
#include "mailer/store/events.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using mailer::test::fields_of;
using namespace mailer::service;

namespace {
void add(mailer::test::TestDb& t, std::string type, std::string email, std::int64_t at_ms) {
  mailer::store::Event e;
  e.type = std::move(type);
  e.email = std::move(email);
  e.occurred_at_ms = at_ms;
  REQUIRE(mailer::store::EventRepo(t.db()).insert(e));
}
}  // namespace

TEST_CASE("EventService::list filters by normalized email and RFC 3339 times", "[service]") {
  mailer::test::TestDb t;
  add(t, "SENT", "Ana@example.com", 1767225600000);    // 2026-01-01T00:00:00Z
  add(t, "BOUNCE", "ana@example.com", 1767229200000);  // 01:00
  add(t, "SENT", "bo@example.com", 1767232800000);     // 02:00
  EventService events(t.db());
  // Events store the lower-case address, so every spelling finds both.
  CHECK(events.list({.email = "ANA@EXAMPLE.COM"})->data.size() == 2);
  CHECK(events.list({.email = "Ana@EXAMPLE.com"})->data.size() == 2);
  CHECK(events.list({.type = "SENT"})->data.size() == 2);
  auto window = events.list({.since = "2026-01-01T01:00:00Z", .until = "2026-01-01T02:00:00Z"});
  REQUIRE(window->data.size() == 1);
  CHECK(window->data[0].type == "BOUNCE");
  CHECK(event_public_id(window->data[0].id) == "evt_2");
}

TEST_CASE("EventService::list pages and rejects bad filters", "[service]") {
  mailer::test::TestDb t;
  for (int i = 0; i < 3; ++i) add(t, "DELIVERY", "a@example.com", i);
  EventService events(t.db());
  auto p1 = events.list({.page = {2, "", std::nullopt}});
  REQUIRE(p1->data.size() == 2);
  add(t, "DELIVERY", "a@example.com", 9);
  auto p2 = events.list({.page = {2, p1->next_cursor, std::nullopt}});
  REQUIRE(p2->data.size() == 2);
  CHECK(p2->data[0].id == 3);
  CHECK(p2->data[1].id == 4);
  auto bad = events.list({.type = "sent", .email = "x", .since = "yesterday", .page = {0, "", std::nullopt}});
  REQUIRE_FALSE(bad);
  CHECK(fields_of(bad.error()) == std::vector<std::string>{"type", "email", "since", "limit"});
  auto inverted = events.list({.since = "2026-01-02T00:00:00Z", .until = "2026-01-01T00:00:00Z"});
  CHECK(fields_of(inverted.error()) == std::vector<std::string>{"until"});
}

TEST_CASE("EventService::list filters on every stored type and names them all when refusing", "[service]") {
  mailer::test::TestDb t;
  for (auto type : mailer::store::event_types()) add(t, std::string(type), "a@example.com", 1);
  EventService events(t.db());
  for (auto type : mailer::store::event_types()) {
    INFO(type);
    auto found = events.list({.type = std::string(type)});
    REQUIRE(found);
    REQUIRE(found->data.size() == 1);
    CHECK(found->data[0].type == type);
  }
  auto bad = events.list({.type = "open"});
  REQUIRE_FALSE(bad);
  REQUIRE(bad.error().fields.size() == 1);
  CHECK_THAT(bad.error().fields[0].message,
             Catch::Contains("UNSUBSCRIBE, SEND, REJECT, OPEN, CLICK, DELIVERY_DELAY, RENDERING_FAILURE, "
                             "SUBSCRIPTION, OTHER"));
}
