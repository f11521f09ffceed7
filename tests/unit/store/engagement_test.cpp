// The engagement aggregates of schema/0005_engagement.sql, read back through
// BatchRepo::get, top_links and event_summary: events go in through
// EventRepo::insert (the one writer), so the triggers under test are the ones
// mailerd runs.
#include "mailer/store/engagement.hpp"

#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "mailer/store/batches.hpp"
#include "mailer/store/events.hpp"
#include "mailer/store/metrics_queries.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using namespace mailer;
using namespace mailer::store;
using namespace mailer::test;

namespace {

constexpr std::int64_t k_hour = 1'767'225'600'000;  // 2026-01-01T00:00:00Z

struct Fixture {
  Fixture() {
    auto now = to_ms(t.clock().now());
    batch = insert_batch(t.db(), {.status = "sending"}, now);
    for (int i = 0; i < 3; ++i) {
      messages.push_back(insert_message(
          t.db(), {.batch_id = batch, .state = "sent", .email = "u" + std::to_string(i) + "@example.com"}, now));
    }
  }
  void event(const std::string& type, std::size_t message, std::int64_t at_ms, nlohmann::json detail = {}) {
    auto inserted = EventRepo(t.db()).insert(
        Event{0, type, batch, messages.at(message), "u@example.com", detail.is_null() ? "{}" : detail.dump(), at_ms});
    REQUIRE(inserted);
  }
  void click(std::size_t message, const std::string& link, std::int64_t at_ms = k_hour) {
    event("CLICK", message, at_ms, {{"link", link}});
  }
  Batch read() {
    auto b = BatchRepo(t.db(), t.clock()).get(batch);
    REQUIRE(b);
    return *b;
  }
  TestDb t;
  std::string batch;
  std::vector<std::string> messages;
};

}  // namespace

TEST_CASE("a message's opens and clicks count once as unique, every one as total", "[store][engagement]") {
  Fixture f;
  f.event("DELIVERY", 0, k_hour);
  f.event("DELIVERY", 1, k_hour);
  f.event("OPEN", 0, k_hour + 1);
  f.event("OPEN", 0, k_hour + 2);
  f.event("OPEN", 0, k_hour + 3);
  f.event("OPEN", 1, k_hour + 4);
  f.click(0, "https://shop.example.com/a");
  f.click(0, "https://shop.example.com/a");
  f.event("BOUNCE", 2, k_hour, {{"bounce_type", "Permanent"}});
  f.event("BOUNCE", 2, k_hour, {{"bounce_type", "Transient"}});
  f.event("COMPLAINT", 1, k_hour);

  auto b = f.read();
  const auto& c = b.engagement;
  CHECK(c.sent == 3);
  CHECK(c.delivered == 2);
  CHECK(c.opens == 4);
  CHECK(c.unique_opens == 2);
  CHECK(c.clicks == 2);
  CHECK(c.unique_clicks == 1);
  CHECK(c.bounces == 2);
  CHECK(c.hard_bounces == 0);  // a batch's hard bounces are counted by FeedbackRepo, not by a trigger
  CHECK(c.complaints == 1);
  CHECK(b.event_counts.at("OPEN") == 4);
  CHECK_FALSE(b.event_counts.contains("unique:OPEN"));
}

TEST_CASE("top links: most unique clicks first, then clicks, then link", "[store][engagement]") {
  Fixture f;
  f.click(0, "https://b.example.com/");  // b: 3 clicks by one message
  f.click(0, "https://b.example.com/");
  f.click(0, "https://b.example.com/");
  f.click(0, "https://a.example.com/");  // a: 2 clicks by two messages
  f.click(1, "https://a.example.com/");
  f.click(2, "https://c.example.com/");  // c and d: 1 click each, ordered by link
  f.click(1, "https://d.example.com/");
  f.event("CLICK", 2, k_hour, {{"link_tags", {{"x", {"y"}}}}});  // no link: a click, no link row

  auto b = f.read();
  REQUIRE(b.top_links.size() == 4);
  CHECK(b.top_links[0].link == "https://a.example.com/");
  CHECK(b.top_links[0].unique_clicks == 2);
  CHECK(b.top_links[0].clicks == 2);
  CHECK(b.top_links[1].link == "https://b.example.com/");
  CHECK(b.top_links[1].unique_clicks == 1);
  CHECK(b.top_links[1].clicks == 3);
  CHECK(b.top_links[2].link == "https://c.example.com/");
  CHECK(b.top_links[3].link == "https://d.example.com/");
  CHECK(b.engagement.clicks == 8);
  CHECK(b.engagement.unique_clicks == 3);

  SECTION("top_links takes a limit and knows no unknown batch") {
    auto two = top_links(f.t.db(), f.batch, 2);
    REQUIRE(two);
    REQUIRE(two->size() == 2);
    CHECK((*two)[1].link == "https://b.example.com/");
    auto none = top_links(f.t.db(), "bat_unknown");
    REQUIRE(none);
    CHECK(none->empty());
    CHECK(top_links(f.t.db(), f.batch, 0).error().code == ErrorCode::invalid_input);
    CHECK(top_links(f.t.db(), f.batch, 101).error().code == ErrorCode::invalid_input);
  }
}

TEST_CASE("a batch shows its ten most clicked links and keeps at most 2048 characters of one", "[store][engagement]") {
  Fixture f;
  for (int i = 0; i < 12; ++i) {
    for (int n = 0; n <= i; ++n) f.click(0, "https://shop.example.com/" + std::to_string(i));
  }
  const std::string long_link = "https://shop.example.com/" + std::string(3000, 'x');
  f.click(1, long_link);
  f.click(2, long_link);
  auto b = f.read();
  REQUIRE(b.top_links.size() == static_cast<std::size_t>(k_top_links));
  CHECK(b.top_links[0].link == long_link.substr(0, k_max_link_chars));  // two messages: the most unique clicks
  CHECK(b.top_links[0].unique_clicks == 2);
  CHECK(b.top_links[1].link == "https://shop.example.com/11");  // then 12 clicks, 11, ... down to 4
  CHECK(b.top_links[9].link == "https://shop.example.com/3");
  CHECK(f.t.count_rows("batch_links") == 13);
}

TEST_CASE("event_summary reports unique opens and clicks in the hour of the first one, and hard bounces",
          "[store][engagement][metrics]") {
  Fixture f;
  f.event("SENT", 0, k_hour);
  f.event("OPEN", 0, k_hour + 10);
  f.event("OPEN", 0, k_hour + k_hour_ms + 10);  // a later hour: a repeat, not unique
  f.event("OPEN", 1, k_hour + k_hour_ms + 20);
  f.click(1, "https://shop.example.com/", k_hour + k_hour_ms + 30);
  f.event("BOUNCE", 2, k_hour + 5, {{"bounce_type", "Permanent"}});
  f.event("BOUNCE", 2, k_hour + 6, {{"bounce_type", "Transient"}});
  // An open of a message mailerd does not know counts in OPEN only.
  REQUIRE(EventRepo(f.t.db()).insert(Event{0, "OPEN", std::nullopt, std::nullopt, "x@example.com", "{}", k_hour}));

  auto first = event_summary(f.t.db(), k_hour, k_hour + k_hour_ms);
  REQUIRE(first);
  CHECK(first->engagement.sent == 1);
  CHECK(first->engagement.opens == 2);
  CHECK(first->engagement.unique_opens == 1);
  CHECK(first->engagement.bounces == 2);
  CHECK(first->engagement.hard_bounces == 1);
  CHECK_FALSE(first->counts.contains("unique:OPEN"));  // counts has the event types only
  CHECK(first->counts.size() == event_types().size());

  auto second = event_summary(f.t.db(), k_hour + k_hour_ms, k_hour + 2 * k_hour_ms);
  REQUIRE(second);
  CHECK(second->engagement.opens == 2);
  CHECK(second->engagement.unique_opens == 1);
  CHECK(second->engagement.clicks == 1);
  CHECK(second->engagement.unique_clicks == 1);

  auto both = event_summary(f.t.db(), k_hour, k_hour + 2 * k_hour_ms);
  REQUIRE(both);
  CHECK(both->engagement.unique_opens == 2);
}
