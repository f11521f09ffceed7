// End to end, real mailerd + real mailer-fake-ses: bulk mail carries a working
// RFC 8058 one-click link, transactional mail carries none, and an address
// that unsubscribed is recorded as suppressed in the next batch (SPEC §4, §6).
#include <httplib.h>

#include "engine_e2e.hpp"

using namespace mailer::test;
using namespace mailer::test::e2e;

namespace {

// "<http://127.0.0.1:8080/u/TOKEN>" -> "/u/TOKEN"
std::string unsubscribe_path(const std::string& list_unsubscribe) {
  auto start = list_unsubscribe.find("/u/");
  auto end = list_unsubscribe.find('>', start);
  return list_unsubscribe.substr(start, end - start);
}

}  // namespace

TEST_CASE("Transactional mail has no List-Unsubscribe, and a bulk one-click link suppresses later bulk mail",
          "[engine][e2e][integration][unsubscribe]") {
  Stack stack;
  auto client = stack.mailerd->client();
  json message = {{"from", "Shop <orders@example.com>"},
                  {"to", "receipt@example.com"},
                  {"content", {{"subject", "Your receipt"}, {"text", "Thanks for your order."}}}};
  auto sent = client->Post("/v1/messages", bearer(stack.key), message.dump(), "application/json");
  REQUIRE(sent);
  REQUIRE(sent->status == 202);

  auto first = stack.post_batch(batch_body({"leaver@example.com", "stayer@example.com"}));
  stack.wait_for_status(first.at("id"), "completed", std::chrono::seconds(30));
  REQUIRE(wait_until([&] { return stack.fake.stored_messages().size() == 3; }, std::chrono::seconds(30)));

  std::string link;
  for (const auto& m : stack.fake.stored_messages()) {
    INFO(m.to.at(0));
    if (m.to.at(0) == "receipt@example.com") {
      CHECK(m.headers.count("List-Unsubscribe") == 0);
      CHECK(m.headers.count("List-Unsubscribe-Post") == 0);
      CHECK(m.headers.count("X-Mailer-Message-Id") == 1);
    } else if (m.to.at(0) == "leaver@example.com") {
      link = unsubscribe_path(m.headers.at("List-Unsubscribe"));
    }
  }
  REQUIRE_FALSE(link.empty());

  // A prefetching scanner's GET changes nothing; the one-click POST unsubscribes.
  REQUIRE(client->Get(link.c_str())->status == 200);
  CHECK(client->Get("/v1/suppressions/leaver@example.com", bearer(stack.key))->status == 404);
  auto posted = client->Post(link.c_str(), "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  REQUIRE(posted);
  CHECK(posted->status == 200);
  auto suppression = client->Get("/v1/suppressions/leaver@example.com", bearer(stack.key));
  REQUIRE(suppression->status == 200);
  CHECK(json::parse(suppression->body).at("reason") == "unsubscribe");

  auto second = stack.post_batch(batch_body({"leaver@example.com", "stayer@example.com"}));
  CHECK(second.at("counts").at("suppressed") == 1);
  CHECK(second.at("counts").at("accepted") == 1);
  stack.wait_for_status(second.at("id"), "completed", std::chrono::seconds(30));
  REQUIRE(wait_until([&] { return stack.fake.stored_messages().size() == 4; }, std::chrono::seconds(30)));
  int to_leaver = 0;
  for (const auto& m : stack.fake.stored_messages()) to_leaver += m.to.at(0) == "leaver@example.com";
  CHECK(to_leaver == 1);  // only the first batch reached them
}
