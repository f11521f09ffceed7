// mailerctl dlq list|retry|purge on messages the test fails through the store,
// as a worker would after a permanent SES error (no mailerd runs).

#include <catch2/catch.hpp>

#include <chrono>

#include <SQLiteCpp/Statement.h>

#include "ctl_fixture.hpp"
#include "mailer/store/messages.hpp"
#include "support/fake_clock.hpp"
#include "support/message_rows.hpp"

using ctltest::Ctl;

namespace {

constexpr std::int64_t k_hour_ms = 3'600'000;

std::int64_t real_now_ms() { return mailer::to_ms(mailer::SystemClock().now()); }

// Claims the oldest due message and dead-letters it as failed at `failed_at_ms`.
std::string fail_one(mailer::store::Database& db, std::int64_t failed_at_ms, const std::string& code) {
  mailer::test::FakeClock clock(failed_at_ms);
  mailer::store::MessageRepo messages(db, clock);
  auto claimed = messages.claim(1, real_now_ms() + 1000, 60'000);
  REQUIRE(claimed);
  REQUIRE(claimed->size() == 1);
  const auto& m = claimed->front();
  mailer::store::Outcome outcome;
  outcome.kind = mailer::store::Outcome::Kind::dead_letter;
  outcome.message_id = m.id;
  outcome.lease_token = m.lease_token;
  outcome.error_code = code;
  outcome.error = "Email address is not verified.";
  auto recorded = messages.record({outcome});
  REQUIRE(recorded);
  return m.id;
}

struct DlqFixture {
  Ctl ctl;
  std::string old_id;     // failed 10 days ago
  std::string recent_id;  // failed an hour ago
  std::string batch_id;

  DlqFixture() {
    ctl.create_template();
    auto csv = ctl.file("r.csv", "email,first_name\nana@example.com,Ana\nbo@example.com,Bo\ncy@example.com,Cy\n");
    batch_id =
        ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients", csv})["id"];
    auto db = mailer::store::Database::open(ctl.db);
    REQUIRE(db);
    old_id = fail_one(**db, real_now_ms() - 240 * k_hour_ms, "MessageRejected");
    recent_id = fail_one(**db, real_now_ms() - k_hour_ms, "MailFromDomainNotVerified");
  }

  std::string state(const std::string& id) {
    auto db = mailer::store::Database::open(ctl.db);
    REQUIRE(db);
    return mailer::test::message_state(**db, id);
  }
};

}  // namespace

TEST_CASE("mailerctl dlq list shows failed messages with their last error", "[mailerctl]") {
  DlqFixture f;
  auto page = f.ctl.json({"dlq", "list"});
  REQUIRE(page["data"].size() == 2);
  CHECK(page["data"][0]["id"] == f.old_id);  // oldest failure first
  CHECK(page["data"][0]["batch_id"] == f.batch_id);
  CHECK(page["data"][0]["last_error_code"] == "MessageRejected");
  CHECK(page["data"][1]["id"] == f.recent_id);
  CHECK(page["next_cursor"].is_null());

  auto first = f.ctl.json({"dlq", "list", "--limit", "1"});
  REQUIRE(first["data"].size() == 1);
  auto second = f.ctl.json({"dlq", "list", "--limit", "1", "--cursor", first["next_cursor"]});
  REQUIRE(second["data"].size() == 1);
  CHECK(second["data"][0]["id"] == f.recent_id);

  auto table = f.ctl.run({"dlq", "list"});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.output, Catch::Contains("MailFromDomainNotVerified"));
}

TEST_CASE("mailerctl dlq retry requeues the given messages", "[mailerctl]") {
  DlqFixture f;
  SECTION("by id") {
    auto result = f.ctl.json({"dlq", "retry", f.recent_id});
    CHECK(result["retried"] == 1);
    CHECK(f.state(f.recent_id) == "queued");
    CHECK(f.state(f.old_id) == "failed");
  }
  SECTION("--all") {
    CHECK(f.ctl.json({"dlq", "retry", "--all"})["retried"] == 2);
    CHECK(f.state(f.old_id) == "queued");
    CHECK(f.ctl.json({"dlq", "list"})["data"].empty());
  }
  SECTION("an unknown or unfailed id fails, the others are still retried") {
    auto result = f.ctl.run({"dlq", "retry", f.old_id, "msg_doesnotexist"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("msg_doesnotexist"));
    CHECK(f.state(f.old_id) == "queued");
    auto again = f.ctl.run({"dlq", "retry", f.old_id});
    CHECK(again.exit_code == 1);
    CHECK_THAT(again.errors, Catch::Contains("not in the DLQ (state queued)"));
  }
}

TEST_CASE("mailerctl dlq retry counts an id given twice once", "[mailerctl]") {
  DlqFixture f;
  auto result = f.ctl.json({"dlq", "retry", f.recent_id, f.recent_id});
  CHECK(result["retried"] == 1);
  CHECK(result["skipped"].empty());
  auto table = f.ctl.run({"dlq", "retry", f.old_id, f.old_id});
  CHECK(table.exit_code == 0);
  CHECK_THAT(table.output, Catch::Contains("Requeued 1 message(s)."));
}

TEST_CASE("mailerctl --json prints stored text that is not UTF-8", "[mailerctl]") {
  DlqFixture f;
  auto db = mailer::store::Database::open(f.ctl.db);
  REQUIRE(db);
  // A raw byte in stored text (written here directly) used to abort the print with type_error 316.
  auto raw_id = fail_one(**db, real_now_ms() - k_hour_ms, "MessageRejected");
  SQLite::Statement update((*db)->sql(), "UPDATE messages SET last_error = ? WHERE id = ?");
  update.bind(1, std::string("bad byte \xff here"));
  update.bind(2, raw_id);
  REQUIRE(update.exec() == 1);
  auto page = f.ctl.json({"dlq", "list"});
  REQUIRE(page["data"].size() == 3);
  CHECK(page["data"][2]["id"] == raw_id);
  CHECK(page["data"][2]["last_error"] == "bad byte \xef\xbf\xbd here");  // U+FFFD
}

TEST_CASE("mailerctl dlq purge deletes failures older than the duration", "[mailerctl]") {
  DlqFixture f;
  SECTION("--older-than 7d keeps the recent one") {
    CHECK(f.ctl.json({"dlq", "purge", "--older-than", "7d"})["purged"] == 1);
    auto page = f.ctl.json({"dlq", "list"});
    REQUIRE(page["data"].size() == 1);
    CHECK(page["data"][0]["id"] == f.recent_id);
    CHECK(f.ctl.json({"batches", "show", f.batch_id})["states"]["failed"] == 1);
  }
  SECTION("--older-than 30m takes both") { CHECK(f.ctl.json({"dlq", "purge", "--older-than", "30m"})["purged"] == 2); }
  SECTION("--json names the cut-off older_than, as the API does") {
    auto result = f.ctl.json({"dlq", "purge", "--older-than", "7d"});
    CHECK(result["older_than"].is_string());
    CHECK_FALSE(result.contains("failed_before"));
    CHECK(f.ctl.json({"dlq", "purge", "--all", "--yes"})["older_than"].is_null());
  }
  SECTION("--all --yes purges everything") {
    auto result = f.ctl.run({"dlq", "purge", "--all", "--yes"});
    CHECK(result.exit_code == 0);
    CHECK_THAT(result.output, Catch::Contains("Purged 2 failed message(s)"));
  }
  SECTION("without --older-than, --yes purges everything") {
    CHECK(f.ctl.json({"dlq", "purge", "--yes"})["purged"] == 2);
  }
  SECTION("without --older-than and --yes off a terminal, nothing is purged") {
    for (auto args : {std::vector<std::string>{"dlq", "purge"}, {"dlq", "purge", "--all"}}) {
      auto result = f.ctl.run(args);
      CHECK(result.exit_code == 2);
      CHECK_THAT(result.errors, Catch::Contains("give --yes to confirm"));
    }
    CHECK(f.ctl.json({"dlq", "list"})["data"].size() == 2);
  }
  SECTION("on a terminal it asks, and purges only on yes") {
    auto declined = f.ctl.run_in_terminal({"dlq", "purge"}, "n\n");
    CHECK(declined.exit_code == 1);
    CHECK_THAT(declined.output, Catch::Contains("Delete every failed message for good? [y/N]"));
    CHECK_THAT(declined.output, Catch::Contains("nothing purged: not confirmed"));
    CHECK(f.ctl.json({"dlq", "list"})["data"].size() == 2);
    auto confirmed = f.ctl.run_in_terminal({"dlq", "purge"}, "y\n");
    INFO(confirmed.output);
    CHECK(confirmed.exit_code == 0);
    CHECK_THAT(confirmed.output, Catch::Contains("Purged 2 failed message(s)"));
  }
  SECTION("combined units: 1d2h") { CHECK(f.ctl.json({"dlq", "purge", "--older-than", "1d2h"})["purged"] == 1); }
}

TEST_CASE("mailerctl dlq exits 2 on bad usage", "[mailerctl]") {
  Ctl ctl;
  SECTION("retry without ids or --all") { CHECK(ctl.run({"dlq", "retry"}).exit_code == 2); }
  SECTION("retry with ids and --all") { CHECK(ctl.run({"dlq", "retry", "msg_x", "--all"}).exit_code == 2); }
  SECTION("purge without --older-than or --yes deletes nothing") {
    auto result = ctl.run({"dlq", "purge"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.errors, Catch::Contains("--older-than") && Catch::Contains("--yes"));
  }
  SECTION("purge with --older-than and --all") {
    CHECK(ctl.run({"dlq", "purge", "--older-than", "1d", "--all"}).exit_code == 2);
  }
  SECTION("bad duration") {
    for (const char* bad : {"7", "7x", "d", "-1d", "1h30"}) {
      auto result = ctl.run({"dlq", "purge", "--older-than", bad});
      INFO(bad);
      CHECK(result.exit_code == 2);
      CHECK_THAT(result.errors, Catch::Contains("expected an age such as 30d, 12h, 15m, 90s or 1h30m"));
    }
  }
  SECTION("too large an age names the largest") {
    auto result = ctl.run({"dlq", "purge", "--older-than", "36501d"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.errors, Catch::Contains("must be at most 36500d (100 years)"));
  }
  SECTION("limit out of range") { CHECK(ctl.run({"dlq", "list", "--limit", "0"}).exit_code == 2); }
  SECTION("bad cursor") { CHECK(ctl.run({"dlq", "list", "--cursor", "garbage"}).exit_code == 2); }
  SECTION("no subcommand") { CHECK(ctl.run({"dlq"}).exit_code == 2); }
}
