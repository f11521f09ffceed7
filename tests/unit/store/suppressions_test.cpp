#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/core/ids.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/suppressions.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {
Suppression entry(std::string email, SuppressionReason reason) {
  Suppression s;
  s.email = std::move(email);
  s.reason = reason;
  s.scope = default_scope(reason);
  return s;
}

constexpr SuppressionReason k_reasons[] = {SuppressionReason::bounce, SuppressionReason::complaint,
                                           SuppressionReason::unsubscribe, SuppressionReason::manual,
                                           SuppressionReason::soft_bounce};
constexpr SuppressionScope k_scopes[] = {SuppressionScope::all, SuppressionScope::bulk};

// One address per reason and scope, e.g. "bounce-all@example.com".
std::string address(SuppressionReason reason, SuppressionScope scope) {
  return std::string(to_string(reason)) + "-" + to_string(scope) + "@example.com";
}

// Today's answer, from the SQL each path used before the rule had one owner:
// accept blocked bulk mail on any row, the transactional insert on scope
// `all`, the claim on `all`, or `bulk` for bulk mail.
bool expected_block(SuppressionScope scope, MessageKind kind) {
  return kind == MessageKind::bulk || scope == SuppressionScope::all;
}

std::string state_of(mailer::test::TestDb& t, const std::string& id) { return mailer::test::message_state(t.db(), id); }
}  // namespace

TEST_CASE("Suppression block rule gives every path today's answer per reason and scope", "[store]") {
  mailer::test::TestDb t;
  const auto now = t.clock().now_ms();
  for (auto reason : k_reasons)
    for (auto scope : k_scopes)
      mailer::test::insert_suppression(t.db(), address(reason, scope), to_string(reason), to_string(scope), now);
  SuppressionRepo repo(t.db(), t.clock());
  BatchRepo batches(t.db(), t.clock());
  for (auto reason : k_reasons) {
    for (auto scope : k_scopes) {
      const std::string key = address(reason, scope);
      CAPTURE(key);
      SECTION("is_suppressed " + key) {
        for (auto kind : {MessageKind::bulk, MessageKind::transactional})
          CHECK(*repo.is_suppressed(key, kind) == expected_block(scope, kind));
      }
      SECTION("accept " + key) {
        Batch b;
        b.id = mailer::ids::make(mailer::ids::k_batch);
        b.subject = "s";
        b.text = "t";
        b.from_address = "news@example.com";
        REQUIRE(batches.insert_batch(b, {{0, key, key, "{}"}}));
        CHECK((b.suppressed_count == 1) == expected_block(scope, MessageKind::bulk));
      }
      SECTION("transactional insert " + key) {
        NewMessage m;
        m.subject = "s";
        m.text = "t";
        m.from_address = "a@example.com";
        m.email = m.key = key;
        auto created = MessageRepo(t.db(), t.clock()).insert_message(m);
        REQUIRE(created);
        CHECK((state_of(t, created->id) == "suppressed") == expected_block(scope, MessageKind::transactional));
      }
      SECTION("claim " + key) {
        // Upper case in the stored address: the claim compares the lower-cased key.
        std::string stored = key;
        stored[0] = static_cast<char>(stored[0] - 'a' + 'A');
        auto batch = mailer::test::insert_batch(t.db(), {}, now);
        auto bulk = mailer::test::insert_message(t.db(), {.batch_id = batch, .email = stored, .run_at_ms = now}, now);
        auto tx = mailer::test::insert_message(t.db(), {.email = stored, .run_at_ms = now}, now);
        auto claimed = MessageRepo(t.db(), t.clock()).claim(10, now, 60000);
        REQUIRE(claimed);
        REQUIRE(claimed->size() == 2);
        for (const auto& c : *claimed) {
          auto kind = c.id == bulk ? MessageKind::bulk : MessageKind::transactional;
          CHECK(c.suppression_reason.has_value() == expected_block(scope, kind));
          if (c.suppression_reason) CHECK(*c.suppression_reason == reason);
        }
        CHECK((claimed->at(0).id == tx || claimed->at(1).id == tx));
      }
    }
  }
}

TEST_CASE("merged keeps today's merge of a new suppression with a stored one", "[store]") {
  auto row = [](SuppressionReason reason, SuppressionScope scope, std::int64_t at_ms) {
    return Suppression{"a@example.com", reason, scope, std::string("{\"r\":\"") + to_string(reason) + "\"}",
                       at_ms,           at_ms};
  };
  const auto bounce = row(SuppressionReason::bounce, SuppressionScope::all, 1);
  const auto unsubscribe = row(SuppressionReason::unsubscribe, SuppressionScope::bulk, 1);
  const auto soft = row(SuppressionReason::soft_bounce, SuppressionScope::all, 1);
  SECTION("nothing stored: the new row, from either source") {
    for (auto source : {SuppressionSource::operator_request, SuppressionSource::feedback}) {
      auto out = merged(std::nullopt, row(SuppressionReason::manual, SuppressionScope::all, 5), source);
      REQUIRE(out);
      CHECK(out->reason == SuppressionReason::manual);
      CHECK(out->created_at_ms == 5);
    }
  }
  SECTION("operator: bulk over all keeps reason, scope and detail, takes the new time") {
    auto out = merged(bounce, row(SuppressionReason::unsubscribe, SuppressionScope::bulk, 5),
                      SuppressionSource::operator_request);
    REQUIRE(out);
    CHECK(out->reason == SuppressionReason::bounce);
    CHECK(out->scope == SuppressionScope::all);
    CHECK(out->detail_json == bounce.detail_json);
    CHECK(out->created_at_ms == 1);
    CHECK(out->updated_at_ms == 5);
  }
  SECTION("operator: all over all, or anything over bulk, replaces") {
    auto manual =
        merged(bounce, row(SuppressionReason::manual, SuppressionScope::all, 5), SuppressionSource::operator_request);
    REQUIRE(manual);
    CHECK(manual->reason == SuppressionReason::manual);
    CHECK(manual->created_at_ms == 1);
    auto bulk = merged(unsubscribe, row(SuppressionReason::manual, SuppressionScope::bulk, 5),
                       SuppressionSource::operator_request);
    REQUIRE(bulk);
    CHECK(bulk->reason == SuppressionReason::manual);
    CHECK(bulk->scope == SuppressionScope::bulk);
  }
  SECTION("feedback: widens bulk to all and hardens a soft bounce") {
    auto widened =
        merged(unsubscribe, row(SuppressionReason::complaint, SuppressionScope::all, 5), SuppressionSource::feedback);
    REQUIRE(widened);
    CHECK(widened->reason == SuppressionReason::complaint);
    CHECK(widened->scope == SuppressionScope::all);
    CHECK(widened->created_at_ms == 1);
    auto hardened = merged(soft, row(SuppressionReason::bounce, SuppressionScope::all, 5), SuppressionSource::feedback);
    REQUIRE(hardened);
    CHECK(hardened->reason == SuppressionReason::bounce);
  }
  SECTION("feedback: otherwise the stored row stays") {
    CHECK_FALSE(
        merged(bounce, row(SuppressionReason::complaint, SuppressionScope::all, 5), SuppressionSource::feedback));
    CHECK_FALSE(
        merged(soft, row(SuppressionReason::soft_bounce, SuppressionScope::all, 5), SuppressionSource::feedback));
    CHECK_FALSE(merged(soft, unsubscribe, SuppressionSource::feedback));
    CHECK_FALSE(merged(unsubscribe, unsubscribe, SuppressionSource::feedback));
    CHECK_FALSE(merged(bounce, unsubscribe, SuppressionSource::feedback));
  }
}

TEST_CASE("SuppressionRepo scopes: unsubscribe blocks bulk only", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  REQUIRE(repo.add(entry("unsub@example.com", SuppressionReason::unsubscribe)));
  REQUIRE(repo.add(entry("bounce@example.com", SuppressionReason::bounce)));
  CHECK(*repo.is_suppressed("unsub@example.com", MessageKind::bulk));
  CHECK_FALSE(*repo.is_suppressed("unsub@example.com", MessageKind::transactional));
  CHECK(*repo.is_suppressed("bounce@example.com", MessageKind::bulk));
  CHECK(*repo.is_suppressed("bounce@example.com", MessageKind::transactional));
  CHECK_FALSE(*repo.is_suppressed("other@example.com", MessageKind::bulk));
}

TEST_CASE("SuppressionRepo::add never narrows an existing suppression", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  REQUIRE(repo.add(entry("a@example.com", SuppressionReason::bounce)));
  auto after = repo.add(entry("a@example.com", SuppressionReason::unsubscribe));
  REQUIRE(after);
  CHECK(after->reason == SuppressionReason::bounce);
  CHECK(after->scope == SuppressionScope::all);
  SECTION("a wider one replaces a narrower one") {
    REQUIRE(repo.add(entry("b@example.com", SuppressionReason::unsubscribe)));
    auto widened = repo.add(entry("b@example.com", SuppressionReason::complaint));
    REQUIRE(widened);
    CHECK(widened->reason == SuppressionReason::complaint);
    CHECK(widened->scope == SuppressionScope::all);
  }
}

TEST_CASE("SuppressionRepo get, remove, list pages, import and export", "[store]") {
  mailer::test::TestDb t;
  SuppressionRepo repo(t.db(), t.clock());
  std::vector<Suppression> rows;
  for (char c = 'a'; c <= 'e'; ++c)
    rows.push_back(entry(std::string(1, c) + "@example.com", SuppressionReason::manual));
  rows[4].reason = SuppressionReason::complaint;
  REQUIRE(*repo.import(rows) == 5);
  CHECK(repo.get("c@example.com")->reason == SuppressionReason::manual);
  auto missing = repo.get("z@example.com");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);

  PageQuery page{2, "", 0};
  auto p1 = repo.list(page);
  REQUIRE(p1);
  REQUIRE(p1->items.size() == 2);
  CHECK(p1->next_after == "b@example.com");
  REQUIRE(repo.add(entry("bb@example.com", SuppressionReason::manual)));  // inserted behind the cursor
  page.after = p1->next_after;
  auto p2 = repo.list(page);
  REQUIRE(p2->items.size() == 2);
  CHECK(p2->items[0].email == "bb@example.com");
  CHECK(p2->items[1].email == "c@example.com");

  auto complaints = repo.list(PageQuery{}, SuppressionReason::complaint);
  REQUIRE(complaints->items.size() == 1);
  CHECK(complaints->items[0].email == "e@example.com");
  CHECK(complaints->next_after.empty());

  REQUIRE(repo.remove("a@example.com"));
  auto again = repo.remove("a@example.com");
  REQUIRE_FALSE(again);
  CHECK(again.error().code == ErrorCode::not_found);
  CHECK(repo.export_all()->size() == 5);
}
