// GET/POST /u/{token} through the real mailerd (RFC 8058 one-click).
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/render/unsubscribe.hpp"
#include "support/mailerd_fixture.hpp"
#include "support/message_rows.hpp"

using namespace mailer;
using namespace mailer::test;

namespace {

constexpr const char* k_unsubscribe_secret = "integration-test-unsubscribe-secret";

std::int64_t unsubscribe_count(MailerdFixture& mailerd, const std::string& sql) {
  SQLite::Database db(mailerd.db_path().string());
  SQLite::Statement q(db, sql);
  return q.executeStep() ? q.getColumn(0).getInt64() : -1;
}

struct Setup {
  MailerdFixture mailerd{MailerdOptions{{{"MAILER_UNSUBSCRIBE_SECRET", k_unsubscribe_secret}}, {}}};
  std::string message;
  std::string token;
  Setup() {
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    auto batch = insert_batch(**db, BatchRow{.status = "sending"}, 0);
    message = insert_message(**db, MessageRow{.batch_id = batch, .state = "sent", .email = "Ana@example.com"}, 0);
    token = render::make_unsubscribe_token(k_unsubscribe_secret, message);
  }
  std::int64_t suppressed() {
    return unsubscribe_count(mailerd,
                 "SELECT count(*) FROM suppressions WHERE email = 'ana@example.com' "
                 "AND reason = 'unsubscribe' AND scope = 'bulk'");
  }
};

}  // namespace

TEST_CASE("GET /u/{token} shows a form and changes nothing", "[integration][unsubscribe]") {
  Setup s;
  auto res = s.mailerd.client()->Get("/u/" + s.token);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(res->body.find("<form method=\"post\"") != std::string::npos);
  CHECK(s.suppressed() == 0);
  CHECK(unsubscribe_count(s.mailerd, "SELECT count(*) FROM events") == 0);
}

TEST_CASE("POST /u/{token} one-click unsubscribes from bulk mail, once", "[integration][unsubscribe]") {
  Setup s;
  auto res =
      s.mailerd.client()->Post("/u/" + s.token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(s.suppressed() == 1);
  CHECK(unsubscribe_count(s.mailerd, "SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 1);
  SECTION("again: 200, nothing new") {
    auto again =
        s.mailerd.client()->Post("/u/" + s.token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
    REQUIRE(again);
    CHECK(again->status == 200);
    CHECK(unsubscribe_count(s.mailerd, "SELECT count(*) FROM events WHERE type = 'UNSUBSCRIBE'") == 1);
  }
  SECTION("the page's form and an empty body work too") {
    auto form = s.mailerd.client()->Post("/u/" + s.token, "confirm=yes", "application/x-www-form-urlencoded");
    REQUIRE(form);
    CHECK(form->status == 200);
    CHECK(form->get_header_value("Content-Type") == "text/html; charset=utf-8");
    auto empty = s.mailerd.client()->Post("/u/" + s.token, "", "text/plain");
    REQUIRE(empty);
    CHECK(empty->status == 200);
  }
}

TEST_CASE("POST /u/{token} refuses forged and altered tokens", "[integration][unsubscribe]") {
  Setup s;
  auto altered = s.token;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  for (const auto& token : {render::make_unsubscribe_token("some-other-secret-value", s.message), altered}) {
    auto res =
        s.mailerd.client()->Post("/u/" + token, "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded");
    REQUIRE(res);
    CHECK(res->status == 404);
    CHECK(res->get_header_value("Content-Type") == "application/problem+json");
    auto page = s.mailerd.client()->Get("/u/" + token);
    REQUIRE(page);
    CHECK(page->status == 404);
  }
  CHECK(s.suppressed() == 0);
  CHECK(unsubscribe_count(s.mailerd, "SELECT count(*) FROM events") == 0);
}
