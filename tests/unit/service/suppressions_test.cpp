#include <catch2/catch.hpp>

#include "mailer/service/suppressions.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using mailer::test::fields_of;
using namespace mailer::service;
using mailer::store::MessageKind;

TEST_CASE("SuppressionService compares addresses case-insensitively", "[service]") {
  mailer::test::TestDb t;
  SuppressionService s(t.db(), t.clock());
  auto added = s.add({"Ana@Example.COM", std::nullopt, std::nullopt});
  REQUIRE(added);
  CHECK(added->email == "ana@example.com");
  CHECK(added->reason == mailer::store::SuppressionReason::manual);
  CHECK(added->scope == mailer::store::SuppressionScope::all);
  CHECK(s.get("ANA@example.com"));
  CHECK(*s.is_suppressed("aNa@example.com", MessageKind::transactional));
  CHECK_FALSE(*s.is_suppressed("not an address", MessageKind::bulk));
  REQUIRE(s.remove("ana@EXAMPLE.com"));
  CHECK(s.get("ana@example.com").error().code == ErrorCode::not_found);
  CHECK(fields_of(s.get("bad").error()) == std::vector<std::string>{"email"});
}

TEST_CASE("SuppressionService validates reason and scope", "[service]") {
  mailer::test::TestDb t;
  SuppressionService s(t.db(), t.clock());
  auto bad = s.add({"x", "spam", "some"});
  REQUIRE_FALSE(bad);
  CHECK(fields_of(bad.error()) == std::vector<std::string>{"email", "reason", "scope"});
  auto unsub = s.add({"u@example.com", "unsubscribe", std::nullopt});
  CHECK(unsub->scope == mailer::store::SuppressionScope::bulk);
  CHECK(fields_of(s.list({}, std::string("spam")).error()) == std::vector<std::string>{"reason"});
  CHECK(s.list({}, std::string("unsubscribe"))->data.size() == 1);
}

TEST_CASE("SuppressionService bounds the detail an operator attaches", "[service]") {
  mailer::test::TestDb t;
  SuppressionService s(t.db(), t.clock());
  const std::string at_limit = R"({"note":")" + std::string(k_max_suppression_detail_bytes - 11, 'n') + R"("})";
  REQUIRE(at_limit.size() == k_max_suppression_detail_bytes);
  CHECK(s.add({"fits@example.com", std::nullopt, std::nullopt, at_limit}));
  auto large =
      s.add({"large@example.com", std::nullopt, std::nullopt, R"({"note":")" + std::string(900'000, 'n') + R"("})"});
  REQUIRE_FALSE(large);
  CHECK(fields_of(large.error()) == std::vector<std::string>{"detail"});
  CHECK(large.error().fields[0].message == "must be at most 4096 bytes as compact JSON (is 900011)");
  CHECK(s.get("large@example.com").error().code == ErrorCode::not_found);
}

TEST_CASE("SuppressionService::import is all or nothing and export returns it", "[service]") {
  mailer::test::TestDb t;
  SuppressionService s(t.db(), t.clock());
  auto rejected = s.import({{"a@example.com", std::nullopt, std::nullopt},
                            {"bad", std::nullopt, std::nullopt},
                            {"c@example.com", "nope", std::nullopt}});
  REQUIRE_FALSE(rejected);
  CHECK(fields_of(rejected.error()) == std::vector<std::string>{"rows[1].email", "rows[2].reason"});
  CHECK(t.count_rows("suppressions") == 0);
  auto imported =
      s.import({{"a@example.com", std::nullopt, std::nullopt}, {"B@example.com", "complaint", std::nullopt}});
  REQUIRE(imported);
  CHECK(imported->stored == 2);
  CHECK(imported->duplicates == 0);
  auto exported = s.export_all();
  REQUIRE(exported->size() == 2);
  CHECK((*exported)[1].email == "b@example.com");
}

TEST_CASE("SuppressionService::import counts addresses, not rows", "[service]") {
  mailer::test::TestDb t;
  SuppressionService s(t.db(), t.clock());
  auto imported = s.import({{"A@x.com", std::nullopt, std::nullopt},
                            {"a@x.com", "complaint", std::nullopt},
                            {"b@x.com", std::nullopt, std::nullopt}});
  REQUIRE(imported);
  CHECK(imported->stored == 2);
  CHECK(imported->duplicates == 1);
  CHECK(t.count_rows("suppressions") == 2);
}
