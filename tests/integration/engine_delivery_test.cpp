// End to end, real mailerd + real mailer-fake-ses: a clean run sends every
// recipient exactly once with the headers bulk mail must carry (SPEC §4).
#include "engine_e2e.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

TEST_CASE("A clean bulk run sends every recipient exactly once", "[engine][e2e][integration]") {
  Stack stack;
  auto emails = addresses(200);
  auto accepted = stack.post_batch(batch_body(emails));
  const std::string id = accepted.at("id");

  auto done = stack.wait_for_status(id, "completed", std::chrono::seconds(30));
  REQUIRE(done.value("status", "") == "completed");
  CHECK(state_count(done, "sent") == 200);
  CHECK(state_count(done, "failed") == 0);

  auto stored = stack.fake.stored_messages();
  REQUIRE(stored.size() == emails.size());
  auto counts = count_by_recipient(stored);
  for (const auto& email : emails) {
    INFO(email);
    CHECK(counts[email] == 1);
  }
  CHECK(counts.size() == emails.size());

  std::set<std::string> message_ids;
  for (const auto& m : stored) {
    INFO(m.ses_message_id);
    REQUIRE(m.headers.count("X-Mailer-Message-Id") == 1);
    CHECK(m.headers.at("X-Mailer-Message-Id").rfind("msg_", 0) == 0);
    message_ids.insert(m.headers.at("X-Mailer-Message-Id"));
    REQUIRE(m.headers.count("List-Unsubscribe") == 1);
    CHECK(m.headers.at("List-Unsubscribe").find("/u/") != std::string::npos);
    CHECK(m.headers.at("List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
    REQUIRE(m.to.size() == 1);
    auto index = std::stoi(m.to[0].substr(4, m.to[0].find('@') - 4));
    CHECK(m.subject == fmt::format("Hello N{}", index));  // per-recipient variables
  }
  CHECK(message_ids.size() == emails.size());  // one message row per recipient
}

TEST_CASE("GET /v1/events?ses_message_id finds the message SES accepted under that id",
          "[engine][e2e][integration][events]") {
  Stack stack;
  auto accepted = stack.post_batch(batch_body(addresses(3)));
  auto done = stack.wait_for_status(accepted.at("id"), "completed", std::chrono::seconds(30));
  REQUIRE(done.value("status", "") == "completed");
  auto stored = stack.fake.stored_messages();
  REQUIRE(stored.size() == 3);
  const auto& sent = stored[1];
  auto client = stack.mailerd->client();
  auto res = client->Get(("/v1/events?ses_message_id=" + sent.ses_message_id).c_str(), bearer(stack.key));
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 200);
  auto events = json::parse(res->body).at("data");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["type"] == "SENT");
  CHECK(events[0]["message_id"] == sent.headers.at("X-Mailer-Message-Id"));
  auto none = client->Get("/v1/events?ses_message_id=no-such-id", bearer(stack.key));
  REQUIRE(none);
  CHECK(json::parse(none->body).at("data").empty());
  auto too_long = client->Get(("/v1/events?ses_message_id=" + std::string(257, 'a')).c_str(), bearer(stack.key));
  REQUIRE(too_long);
  CHECK(too_long->status == 400);
  CHECK(too_long->body.find("ses_message_id") != std::string::npos);
}
