#include <catch2/catch.hpp>

#include "mailer/service/api_json.hpp"

using nlohmann::json;
using namespace mailer;

TEST_CASE("The queue's JSON has null for what is not known", "[service][json]") {
  service::QueueStatus queue;
  queue.depth = {{"queued", 3}};
  queue.sent_24h = 7;
  auto body = service::to_json(queue);
  CHECK(body == json({{"depth", {{"queued", 3}}},
                      {"in_flight", nullptr},
                      {"send_rate_per_second", nullptr},
                      {"quota", {{"sent_24h", 7}, {"max_24_hour_send", nullptr}, {"max_send_rate", nullptr}}},
                      {"engine", nullptr}}));
  queue.in_flight = 2;
  queue.send_rate_per_second = 1.5;
  queue.max_send_rate = 14;
  body = service::to_json(queue);
  CHECK(body["in_flight"] == 2);
  CHECK(body["send_rate_per_second"] == 1.5);
  CHECK(body["quota"]["max_send_rate"] == 14.0);
}

TEST_CASE("An event's JSON is the API's object", "[service][json]") {
  store::Event e{42,
                 "BOUNCE",
                 std::string("bat_1"),
                 std::nullopt,
                 "a@example.com",
                 R"({"bounce_type":"Permanent"})",
                 1'764'547'200'000,
                 std::nullopt};
  CHECK(service::to_json(e) == json({{"id", "evt_42"},
                                     {"type", "BOUNCE"},
                                     {"batch_id", "bat_1"},
                                     {"message_id", nullptr},
                                     {"email", "a@example.com"},
                                     {"metadata", nullptr},
                                     {"detail", {{"bounce_type", "Permanent"}}},
                                     {"occurred_at", "2025-12-01T00:00:00.000Z"}}));
}

TEST_CASE("A page's next_cursor is null on the last page", "[service][json]") {
  CHECK(service::page_json(json::array({1}), "") == json({{"data", json::array({1})}, {"next_cursor", nullptr}}));
  CHECK(service::page_json(json::array(), "abc")["next_cursor"] == "abc");
}
