#include <catch2/catch.hpp>

#include "mailer/store/event_archive.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {

// `count` events, `per_ms` sharing each millisecond from 1000 on, types
// alternating SENT and OPEN; detail {"n": i}.
void add(mailer::test::TestDb& t, int count, int per_ms) {
  std::vector<Event> events;
  for (int i = 0; i < count; ++i)
    events.push_back(Event{0, i % 2 == 0 ? "SENT" : "OPEN", std::nullopt, std::nullopt, "a@example.com",
                           "{\"n\":" + std::to_string(i) + "}", 1000 + i / per_ms, std::nullopt});
  REQUIRE(EventRepo(t.db()).insert(events));
}

std::vector<std::int64_t> ids_in(mailer::test::TestDb& t, const EventRange& range) {
  std::vector<std::int64_t> ids;
  auto count = each_event_in_range(t.db(), range, [&](const Event& e) -> mailer::Status {
    ids.push_back(e.id);
    return {};
  });
  REQUIRE(count);
  CHECK(*count == static_cast<std::int64_t>(ids.size()));
  return ids;
}

}  // namespace

TEST_CASE("each_event_in_range walks pages in time then id order, ties included", "[store]") {
  mailer::test::TestDb t;
  add(t, 2 * k_event_range_page + 345, 9);  // page ends fall inside runs of equal times
  auto all = ids_in(t, {0, 1'000'000, std::nullopt});
  REQUIRE(all.size() == 2 * k_event_range_page + 345);
  for (std::size_t i = 1; i < all.size(); ++i) REQUIRE(all[i] == all[i - 1] + 1);

  CHECK(ids_in(t, {1010, 1020, std::nullopt}).size() == 90);  // since inclusive, until exclusive
  auto opens = ids_in(t, {0, 1'000'000, std::string("OPEN")});
  CHECK(opens.size() == (2 * k_event_range_page + 345) / 2);
  CHECK(ids_in(t, {5000, 6000, std::nullopt}).empty());
}

TEST_CASE("each_event_in_range stops at the sink's error and returns it", "[store]") {
  mailer::test::TestDb t;
  add(t, 1500, 1);
  int seen = 0;
  auto result = each_event_in_range(t.db(), {0, 1'000'000, std::nullopt}, [&](const Event&) -> mailer::Status {
    if (++seen == 1200) return mailer::make_error(ErrorCode::storage_unavailable, "disk full");
    return {};
  });
  REQUIRE_FALSE(result);
  CHECK(result.error().code == ErrorCode::storage_unavailable);
  CHECK(result.error().detail == "disk full");
  CHECK(seen == 1200);
}

TEST_CASE("count_events_since counts one type from a time on", "[store]") {
  mailer::test::TestDb t;
  add(t, 10, 1);  // SENT at 1000, 1002, ..., 1008
  CHECK(*count_events_since(t.db(), "SENT", 1004) == 3);
  CHECK(*count_events_since(t.db(), "OPEN", 0) == 5);
  CHECK(*count_events_since(t.db(), "SENT", 2000) == 0);
}
