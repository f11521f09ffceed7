#include <catch2/catch.hpp>

#include "mailer/render/message_spec.hpp"

using mailer::ErrorCode;
namespace render = mailer::render;

namespace {

render::MessageSpec accepted_spec() {
  render::MessageSpec spec;
  spec.from = *render::sendable_mailbox("Shop <news@Example.com>");
  spec.reply_to = {*render::sendable_mailbox("help@example.com"), *render::sendable_mailbox("Zoë <z@example.org>")};
  spec.tags = *render::message_tags({{"campaign", "spring"}, {"tier", "gold"}});
  return spec;
}

std::string refusal(const render::StoredMessageSpec& stored) {
  auto spec = render::read_message_spec(stored);
  REQUIRE_FALSE(spec);
  CHECK(spec.error().code == ErrorCode::invalid_input);
  return spec.error().detail;
}

}  // namespace

TEST_CASE("read_message_spec reads back what store_message_spec wrote", "[render][spec]") {
  auto spec = accepted_spec();
  auto stored = render::store_message_spec(spec);
  CHECK(stored.from_address == "Shop <news@Example.com>");
  CHECK(stored.reply_to_json == R"(["help@example.com","Zoë <z@example.org>"])");
  CHECK(stored.tags_json == R"({"campaign":"spring","tier":"gold"})");
  auto read = render::read_message_spec(stored);
  REQUIRE(read);
  CHECK(*read == spec);
  CHECK(read->from.mailbox.address == "news@example.com");
}

TEST_CASE("read_message_spec refuses a stored spec, naming the field", "[render][spec]") {
  render::StoredMessageSpec stored = render::store_message_spec(accepted_spec());
  SECTION("from") {
    stored.from_address = "not an address";
    CHECK(refusal(stored).starts_with("stored from: "));
  }
  SECTION("a reply-to entry is not an address") {
    stored.reply_to_json = R"(["help@example.com","nobody"])";
    CHECK(refusal(stored) == "stored reply_to[1]: address must contain exactly one @");
  }
  SECTION("reply-to is not JSON") {
    stored.reply_to_json = "[oops";
    CHECK(refusal(stored).starts_with("stored reply_to: "));
  }
  SECTION("a tag name SES refuses") {
    stored.tags_json = R"({"bad tag":"x"})";
    CHECK(refusal(stored) == "stored tags.bad tag: name must be 1 to 256 ASCII letters, digits, _ or -");
  }
  SECTION("a tag value that is no string") {
    stored.tags_json = R"({"tier":3})";
    CHECK(refusal(stored) == "stored tags.tier: value must be a string of 1 to 256 ASCII letters, digits, _ or -");
  }
  SECTION("tags are not an object") {
    stored.tags_json = "[]";
    CHECK(refusal(stored) == "stored tags: must be an object of name: value strings");
  }
}

TEST_CASE("message_tags names every bad tag", "[render][spec]") {
  CHECK(render::message_tags(nullptr)->empty());
  auto tags = render::message_tags({{"ok", "fine"}, {"b d", "x"}, {"v", ""}});
  REQUIRE_FALSE(tags);
  REQUIRE(tags.error().fields.size() == 2);
  CHECK(tags.error().fields[0].field == "tags.b d");
  CHECK(tags.error().fields[1].field == "tags.v");

  SECTION("SES's MessageTag rules, checked at accept") {
    const std::string longest(256, 'a');
    CHECK(render::message_tags({{longest, longest}, {"A-z_0", "9-_Z"}}));
    for (const auto& [name, value] : std::vector<std::pair<std::string, std::string>>{
             {longest + "a", "v"}, {"n", longest + "a"}, {"caf\u00e9", "v"}, {"n", "a.b"}, {"n", "a b"}, {"", "v"}}) {
      INFO(name << "=" << value);
      auto refused = render::message_tags({{name, value}});
      REQUIRE_FALSE(refused);
      CHECK(refused.error().code == ErrorCode::invalid_input);
    }
  }
  SECTION("a long bad name is named cut short") {
    auto refused = render::message_tags({{std::string(1000, '!'), "v"}});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().fields[0].field.size() < 100);
  }
}
