#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include "mailer/service/dlq.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using mailer::test::fields_of;
using mailer::test::message_state;
using namespace mailer::service;

namespace {

// A transactional message in the DLQ, failed at `failed_at_ms`.
std::string failed_message(mailer::test::TestDb& t, std::int64_t failed_at_ms) {
  auto id = mailer::test::insert_message(t.db(), {.state = "failed"}, failed_at_ms);
  t.db().sql().exec("UPDATE messages SET failed_at_ms = " + std::to_string(failed_at_ms) + " WHERE id = '" + id + "'");
  return id;
}

}  // namespace

TEST_CASE("DlqService::retry moves the failed ids and names each other one", "[service]") {
  mailer::test::TestDb t;
  auto failed = failed_message(t, 1000);
  auto queued = mailer::test::insert_message(t.db(), {}, 1000);
  auto result = DlqService(t.db(), t.clock()).retry({failed, "msg_unknown", queued});
  REQUIRE(result);
  CHECK(result->retried == std::vector<std::string>{failed});
  REQUIRE(result->not_retried.size() == 2);
  CHECK(result->not_retried[0].field == "msg_unknown");
  CHECK(result->not_retried[0].message == "not found");
  CHECK(result->not_retried[1].field == queued);
  CHECK(result->not_retried[1].message == "not in the DLQ (state queued)");
  CHECK(message_state(t.db(), failed) == "queued");
}

TEST_CASE("DlqService::retry counts an id given twice once", "[service]") {
  mailer::test::TestDb t;
  auto failed = failed_message(t, 1000);
  auto other = failed_message(t, 2000);
  auto result = DlqService(t.db(), t.clock()).retry({failed, other, failed, "msg_unknown", "msg_unknown"});
  REQUIRE(result);
  CHECK(result->retried == std::vector<std::string>{failed, other});
  REQUIRE(result->not_retried.size() == 1);
  CHECK(result->not_retried[0].field == "msg_unknown");
  CHECK(message_state(t.db(), failed) == "queued");
}

TEST_CASE("DlqService::purge needs a cut-off or all", "[service]") {
  mailer::test::TestDb t;
  DlqService dlq(t.db(), t.clock());
  failed_message(t, 1000);
  auto recent = failed_message(t, 5000);
  SECTION("neither is refused, naming older_than") {
    auto refused = dlq.purge({});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::invalid_input);
    CHECK(fields_of(refused.error()) == std::vector<std::string>{"older_than"});
  }
  SECTION("both are refused") { CHECK_FALSE(dlq.purge({.failed_before_ms = 2000, .all = true})); }
  SECTION("a cut-off keeps what failed at or after it") {
    CHECK(*dlq.purge({.failed_before_ms = 2000}) == 1);
    CHECK(message_state(t.db(), recent) == "failed");
  }
  SECTION("all takes every one") { CHECK(*dlq.purge({.all = true}) == 2); }
}
