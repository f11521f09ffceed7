#include <catch2/catch.hpp>

#include "mailer/jobs/composer.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::jobs::Composer;
using mailer::store::ClaimedMessage;
using mailer::store::MessageKind;

namespace {

// A transactional message as a worker claims it, with inline content.
ClaimedMessage transactional() {
  ClaimedMessage m;
  m.id = "msg_1";
  m.kind = MessageKind::transactional;
  m.email = "ana@example.com";
  m.subject = "Hi";
  m.text = "Hello";
  m.from_address = "Zoë <news@example.com>";
  m.reply_to_json = R"(["help@example.com"])";
  m.tags_json = R"({"campaign":"spring"})";
  return m;
}

}  // namespace

TEST_CASE("Composer::compose sends the stored spec in SES's form", "[jobs][composer]") {
  mailer::test::TestDb t;
  mailer::Config config;
  Composer composer(t.db(), t.clock(), config);
  auto composed = composer.compose(transactional());
  REQUIRE(composed);
  CHECK(composed->request.from == "=?UTF-8?B?Wm/Dqw==?= <news@example.com>");
  CHECK(composed->request.reply_to == std::vector<std::string>{"help@example.com"});
  CHECK(composed->request.tags == std::vector<std::pair<std::string, std::string>>{{"campaign", "spring"}});
}

TEST_CASE("Composer::compose fails a message whose stored spec it cannot read", "[jobs][composer]") {
  mailer::test::TestDb t;
  mailer::Config config;
  Composer composer(t.db(), t.clock(), config);
  auto message = transactional();
  std::string expected;
  SECTION("a reply-to entry is not an address") {
    message.reply_to_json = R"(["help@example.com","nobody"])";
    expected = "stored reply_to[1]: address must contain exactly one @";
  }
  SECTION("a tag SES refuses") {
    message.tags_json = R"({"bad tag":"x"})";
    expected = "stored tags.bad tag: name must be 1 to 256 ASCII letters, digits, _ or -";
  }
  SECTION("tags are not JSON") {
    message.tags_json = "{oops";
    expected = "stored tags: ";
  }
  auto composed = composer.compose(message);
  REQUIRE_FALSE(composed);
  CHECK(composed.error().code == ErrorCode::invalid_input);  // permanent: dead-lettered
  CHECK(composed.error().detail.starts_with(expected));
}
