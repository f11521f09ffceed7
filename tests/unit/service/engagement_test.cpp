#include "mailer/service/engagement.hpp"

#include <catch2/catch.hpp>

using namespace mailer;

TEST_CASE("engagement_rates divides unique opens and clicks by delivered, hard bounces and complaints by sent",
          "[service][engagement]") {
  store::EngagementCounts c;
  c.sent = 200;
  c.delivered = 180;
  c.opens = 500;
  c.unique_opens = 90;
  c.clicks = 70;
  c.unique_clicks = 45;
  c.bounces = 30;  // soft ones included: not in the rate
  c.hard_bounces = 10;
  c.complaints = 1;
  auto r = service::engagement_rates(c);
  CHECK(r.open_rate == 0.5);
  CHECK(r.click_rate == 0.25);
  CHECK(r.bounce_rate == 0.05);
  CHECK(r.complaint_rate == 0.005);

  auto json = service::engagement_json(c, {{"https://a.example/", 3, 2}});
  CHECK(json["open_rate"] == 0.5);
  CHECK(json["hard_bounces"] == 10);
  CHECK(json["top_links"] ==
        nlohmann::json::array({{{"link", "https://a.example/"}, {"clicks", 3}, {"unique_clicks", 2}}}));
  CHECK_FALSE(service::engagement_json(c).contains("top_links"));
}

TEST_CASE("engagement_rates is unknown, not zero, with nothing to divide by", "[service][engagement]") {
  store::EngagementCounts c;
  c.unique_opens = 3;  // opens reported, deliveries not published
  auto r = service::engagement_rates(c);
  CHECK_FALSE(r.open_rate);
  CHECK_FALSE(r.click_rate);
  CHECK_FALSE(r.bounce_rate);
  CHECK_FALSE(r.complaint_rate);
  auto json = service::engagement_json(c);
  CHECK(json["open_rate"].is_null());
  CHECK(json["complaint_rate"].is_null());

  c.sent = 4;  // sent, nothing back yet: 0, known
  CHECK(service::engagement_rates(c).bounce_rate == 0.0);
}
