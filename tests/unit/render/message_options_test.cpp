#include <catch2/catch.hpp>

#include "mailer/render/message_options.hpp"
#include "mailer/store/destinations.hpp"

using namespace mailer;
using nlohmann::json;

namespace {

// The first field and message of a refusal.
std::pair<std::string, std::string> refusal(const Error& error) {
  REQUIRE_FALSE(error.fields.empty());
  return {error.fields[0].field, error.fields[0].message};
}

}  // namespace

TEST_CASE("render::custom_headers follows SES's MessageHeader rules", "[render]") {
  SECTION("accepted as given") {
    auto headers = render::custom_headers({{"X-Entity-Ref-ID", "4711"}, {"In-Reply-To", "<a@b>"}});
    REQUIRE(headers);
    CHECK(*headers == std::vector<render::MessageHeader>{{"In-Reply-To", "<a@b>"}, {"X-Entity-Ref-ID", "4711"}});
    CHECK(render::custom_headers(nullptr)->empty());
  }
  SECTION("reserved names in any case") {
    for (const char* name : {"from", "BCC", "Message-ID", "Reply-To", "List-Unsubscribe", "X-SES-CONFIGURATION-SET",
                             "x-mailer-message-id", "Content-Type", "DKIM-Signature"}) {
      INFO(name);
      auto refused = render::custom_headers({{name, "x"}});
      REQUIRE_FALSE(refused);
      CHECK(refusal(refused.error()) ==
            std::pair<std::string, std::string>{std::string("headers.") + name,
                                                "is set by mailerd or SES and cannot be given"});
    }
  }
  SECTION("names and values out of the model's patterns") {
    CHECK(refusal(render::custom_headers({{"X Space", "v"}}).error()).first == "headers.X Space");
    CHECK(refusal(render::custom_headers({{"X:Colon", "v"}}).error()).first == "headers.X:Colon");
    CHECK(refusal(render::custom_headers({{std::string(127, 'X'), "v"}}).error()).second.starts_with("name must"));
    CHECK(render::custom_headers({{std::string(126, 'X'), std::string(870, 'v')}}));
    for (const std::string& value : {std::string(871, 'v'), std::string(""), std::string("a\r\nBcc: x"),
                                    std::string("tab\there"), std::string("caf\xc3\xa9")}) {
      INFO(value);
      CHECK(refusal(render::custom_headers({{"X-A", value}}).error()).second ==
            "value must be 1 to 870 printable ASCII characters, without line breaks");
    }
    CHECK(refusal(render::custom_headers({{"X-A", 1}}).error()).second == "value must be a string");
  }
  SECTION("a name twice in two cases, too many, not an object") {
    CHECK(refusal(render::custom_headers({{"X-A", "1"}, {"x-a", "2"}}).error()) ==
          std::pair<std::string, std::string>{"headers.x-a", "is given twice (in another case)"});
    json many = json::object();
    for (int i = 0; i < 15; ++i) many["X-H" + std::to_string(i)] = "v";
    CHECK(refusal(render::custom_headers(many).error()) ==
          std::pair<std::string, std::string>{"headers", "has 15 headers; at most 14 are allowed"});
    CHECK(refusal(render::custom_headers(json::array()).error()).first == "headers");
  }
}

TEST_CASE("render::read_headers reads what store_headers wrote, by the same rules", "[render]") {
  std::vector<render::MessageHeader> headers{{"X-A", "1"}, {"X-B", "2"}};
  CHECK(*render::read_headers(render::store_headers(headers)) == headers);
  CHECK(render::read_headers(R"({"Bcc":"x@example.com"})").error().detail ==
        "stored headers.Bcc: is set by mailerd or SES and cannot be given");
  CHECK(render::read_headers("[").error().code == ErrorCode::invalid_input);
}

TEST_CASE("render::message_metadata bounds keys, values and size", "[render]") {
  CHECK(*render::message_metadata(nullptr) == "{}");
  CHECK(*render::message_metadata({{"order", "A-1"}, {"plan", "pro"}}) == R"({"order":"A-1","plan":"pro"})");
  CHECK(refusal(render::message_metadata({{"n", 1}}).error()) ==
        std::pair<std::string, std::string>{"metadata.n", "value must be a string"});
  CHECK(refusal(render::message_metadata({{"nested", {{"a", "b"}}}}).error()).first == "metadata.nested");
  CHECK(refusal(render::message_metadata({{std::string(41, 'k'), "v"}}).error()).second ==
        "key must be 1 to 40 characters");
  CHECK(refusal(render::message_metadata({{"k", std::string(501, 'v')}}).error()).second ==
        "value must be at most 500 characters");
  CHECK(render::message_metadata({{"k", std::string(500, 'v')}}));
  json many = json::object();
  for (int i = 0; i < 21; ++i) many["k" + std::to_string(i)] = "v";
  CHECK(refusal(render::message_metadata(many).error()) ==
        std::pair<std::string, std::string>{"metadata", "has 21 keys; at most 20 are allowed"});
  json big = json::object();
  for (int i = 0; i < 10; ++i) big["k" + std::to_string(i)] = std::string(450, 'v');
  CHECK(refusal(render::message_metadata(big).error()).second.ends_with("at most 4096 are allowed"));
  CHECK(refusal(render::message_metadata("x").error()).first == "metadata");
}

TEST_CASE("store::read_destinations reads what write_destinations wrote", "[store]") {
  store::Destinations d{{"a@example.com"}, {"b@example.com"}, {}};
  CHECK(*store::read_destinations(store::write_destinations(d)) == d);
  CHECK(d.first() == "a@example.com");
  CHECK(store::read_destinations(R"({"to":[]})").error().detail ==
        "stored destinations: 0 addresses; 1 to 50 are allowed");
  CHECK(store::read_destinations(R"({"to":[1]})").error().detail == "stored destinations: to must hold addresses");
  CHECK(store::read_destinations("[]").error().detail == "stored destinations: must be an object");
}
