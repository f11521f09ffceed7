#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "mailer/crypto/crypto.hpp"
#include "mailer/render/webhook.hpp"

using namespace mailer;

TEST_CASE("render::webhook_signature matches the Standard Webhooks test vector", "[render][webhooks]") {
  // The vector the Standard Webhooks reference libraries test against
  // (github.com/standard-webhooks/standard-webhooks, libraries/*/ tests).
  auto signature = render::webhook_signature("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                             1614265330, R"({"test": 2432232314})");
  REQUIRE(signature);
  CHECK(*signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");

  SECTION("the whsec_ prefix is optional") {
    auto bare = render::webhook_signature("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_p5jXN8AQM9LWM0D4loKWxJek",
                                          1614265330, R"({"test": 2432232314})");
    REQUIRE(bare);
    CHECK(*bare == *signature);
  }
  SECTION("a secret that is not base64 is refused") {
    auto bad = render::webhook_signature("whsec_not base64!", "id", 1, "{}");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::invalid_input);
  }
}

TEST_CASE("render::make_webhook_secret is whsec_ and 32 random bytes", "[render][webhooks]") {
  auto a = render::make_webhook_secret();
  auto b = render::make_webhook_secret();
  REQUIRE(a.starts_with("whsec_"));
  std::string raw;
  REQUIRE(crypto::base64_decode(a.substr(6), raw));
  CHECK(raw.size() == 32);
  CHECK(a != b);
}

TEST_CASE("render::webhook_events_body writes payload version 1", "[render][webhooks]") {
  render::WebhookEvent sent{42,
                            "SENT",
                            1764979200000,
                            std::string("msg_1"),
                            std::string("bat_1"),
                            "ana@example.com",
                            R"({"campaign":"dec"})",
                            std::string(R"({"plan":"pro"})"),
                            R"({"ses_message_id":"0100"})"};
  render::WebhookEvent bounce{43,   "BOUNCE",     1764979201000, std::nullopt, std::nullopt, "b@example.com",
                              "{}", std::nullopt, "not json"};
  auto body = nlohmann::json::parse(render::webhook_events_body({sent, bounce}, 1764979202000));
  CHECK(body.at("type") == "mailer.events");
  CHECK(body.at("version") == 1);
  CHECK(body.at("timestamp") == "2025-12-06T00:00:02.000Z");
  REQUIRE(body.at("data").size() == 2);
  const auto& first = body.at("data")[0];
  CHECK(first.at("id") == "evt_42");
  CHECK(first.at("type") == "SENT");
  CHECK(first.at("occurred_at") == "2025-12-06T00:00:00.000Z");
  CHECK(first.at("message_id") == "msg_1");
  CHECK(first.at("batch_id") == "bat_1");
  CHECK(first.at("email") == "ana@example.com");
  CHECK(first.at("tags") == nlohmann::json{{"campaign", "dec"}});
  CHECK(first.at("metadata") == nlohmann::json{{"plan", "pro"}});
  CHECK(first.at("detail").at("ses_message_id") == "0100");
  const auto& second = body.at("data")[1];
  CHECK(second.at("message_id").is_null());
  CHECK(second.at("batch_id").is_null());
  CHECK(second.at("metadata").is_null());
  CHECK(second.at("detail") == nlohmann::json::object());  // unreadable stored JSON
}

TEST_CASE("render::parse_webhook_delivery_id reads whd_<n> only", "[render][webhooks]") {
  CHECK(render::parse_webhook_delivery_id("whd_12") == std::optional<std::int64_t>(12));
  CHECK(render::webhook_delivery_id(12) == "whd_12");
  for (const char* bad : {"whd_", "whd_0", "whd_-1", "whd_1x", "evt_1", "12", "whd_99999999999999999999"}) {
    INFO(bad);
    CHECK_FALSE(render::parse_webhook_delivery_id(bad));
  }
}
