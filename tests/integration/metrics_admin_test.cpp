// GET /v1/admin/metrics on the real mailerd (issue #7 item 2): counts per
// event type, rates and hourly buckets from event_counts_hourly, for events
// written straight into the database across hours and days.
#include <catch2/catch.hpp>

#include <chrono>

#include <SQLiteCpp/SQLiteCpp.h>
#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"
#include "support/mailerd_fixture.hpp"

using namespace mailer;
using namespace mailer::test;
using nlohmann::json;

namespace {

constexpr std::int64_t k_hour = 3'600'000;
constexpr std::int64_t k_day = 24 * k_hour;
constexpr const char* k_hard_bounce = R"({"bounce_type":"Permanent"})";

void insert_events(store::Database& db, const std::string& type, int count, std::int64_t at_ms,
                   const std::string& detail_json = "{}") {
  SQLite::Statement insert(
      db.sql(), "INSERT INTO events(type, email, occurred_at_ms, detail_json) VALUES (?, 'a@example.com', ?, ?)");
  for (int i = 0; i < count; ++i) {
    insert.bind(1, type);
    insert.bind(2, at_ms);
    insert.bind(3, detail_json);
    insert.exec();
    insert.reset();
  }
}

json get_json(const MailerdFixture& mailerd, const std::string& key, const std::string& target, int status) {
  auto response = mailerd.client()->Get(target, bearer(key));
  REQUIRE(response);
  INFO(target << " -> " << response->body);
  REQUIRE(response->status == status);
  return json::parse(response->body);
}

std::int64_t sent_in_hour(const json& body, std::int64_t hour_ms) {
  for (const auto& bucket : body.at("sent_per_hour")) {
    if (bucket.at("hour") == format_rfc3339(hour_ms)) return bucket.at("sent").get<std::int64_t>();
  }
  return -1;
}

// A seeded database: the current hour, the previous ones, 3 days and 40 days ago.
struct Seeded {
  Seeded() {
    admin = mailerd.create_key("ops", "admin").key;
    auto db = store::Database::open(mailerd.db_path().string());
    REQUIRE(db);
    insert_events(**db, "SENT", 5, hour + 10);
    insert_events(**db, "DELIVERY", 4, hour + 20);
    insert_events(**db, "SENT", 10, hour - k_hour + 5);
    // Rates count hard bounces only, as SES does: the soft one is in counts alone.
    insert_events(**db, "BOUNCE", 1, hour - k_hour + 6, k_hard_bounce);
    insert_events(**db, "BOUNCE", 1, hour - k_hour + 7, R"({"bounce_type":"Transient"})");
    insert_events(**db, "COMPLAINT", 1, hour - 2 * k_hour);
    insert_events(**db, "SENT", 100, hour - 3 * k_day);
    insert_events(**db, "BOUNCE", 2, hour - 3 * k_day + 1, k_hard_bounce);
    insert_events(**db, "SENT", 7, hour - 40 * k_day);
  }
  MailerdFixture mailerd;
  std::string admin;
  std::int64_t now = to_ms(std::chrono::system_clock::now());
  std::int64_t hour = now - now % k_hour;
};

}  // namespace

TEST_CASE("GET /v1/admin/metrics counts events per period", "[integration][metrics]") {
  Seeded seeded;
  SECTION("24h is the default and ends with the current hour") {
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics", 200);
    CHECK(body["period"] == "24h");
    CHECK(body["counts"]["SENT"] == 15);
    CHECK(body["counts"]["DELIVERY"] == 4);
    CHECK(body["counts"]["BOUNCE"] == 2);
    CHECK(body["counts"]["COMPLAINT"] == 1);
    CHECK(body["engagement"]["bounces"] == 2);
    CHECK(body["engagement"]["hard_bounces"] == 1);
    CHECK(body["engagement"]["delivered"] == 4);
    CHECK(body["engagement"]["open_rate"].get<double>() == 0.0);
    CHECK(body["counts"]["UNSUBSCRIBE"] == 0);
    CHECK(body["bounce_rate"].get<double>() == Approx(1.0 / 15));
    CHECK(body["complaint_rate"].get<double>() == Approx(1.0 / 15));
    CHECK(body["sent_per_hour"].size() == 24);
    CHECK(sent_in_hour(body, seeded.hour) == 5);
    CHECK(sent_in_hour(body, seeded.hour - k_hour) == 10);
    CHECK(sent_in_hour(body, seeded.hour - 2 * k_hour) == 0);
  }
  SECTION("7d reaches back three days") {
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics?period=7d", 200);
    CHECK(body["counts"]["SENT"] == 115);
    CHECK(body["counts"]["BOUNCE"] == 4);
    CHECK(body["bounce_rate"].get<double>() == Approx(3.0 / 115));
    CHECK(body["sent_per_hour"].size() == 24 * 7);
    CHECK(sent_in_hour(body, seeded.hour - 3 * k_day) == 100);
  }
  SECTION("30d leaves out 40 days ago") {
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics?period=30d", 200);
    CHECK(body["counts"]["SENT"] == 115);
  }
  SECTION("from/to widen to whole hours") {
    auto from = format_rfc3339(seeded.hour - 40 * k_day - 30 * 60'000);
    auto to = format_rfc3339(seeded.hour - 40 * k_day + 60'000);
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics?from=" + from + "&to=" + to, 200);
    CHECK(body["period"].is_null());
    CHECK(body["from"] == format_rfc3339(seeded.hour - 40 * k_day - k_hour));
    CHECK(body["to"] == format_rfc3339(seeded.hour - 40 * k_day + k_hour));
    CHECK(body["counts"]["SENT"] == 7);
    CHECK(body["bounce_rate"] == 0.0);
  }
  SECTION("an empty range has null rates") {
    auto from = format_rfc3339(seeded.hour - 100 * k_day);
    auto to = format_rfc3339(seeded.hour - 99 * k_day);
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics?from=" + from + "&to=" + to, 200);
    CHECK(body["counts"]["SENT"] == 0);
    CHECK(body["bounce_rate"].is_null());
  }
  SECTION("the account's 24 h rates sit beside SES's review thresholds") {
    auto body = get_json(seeded.mailerd, seeded.admin, "/v1/admin/metrics?period=30d", 200);
    auto account = body["account"];
    CHECK(account["sent"] == 15);
    CHECK(account["bounce_rate"].get<double>() == Approx(1.0 / 15));
    CHECK(account["ses_bounce_review_rate"] == 0.05);
    CHECK(account["ses_complaint_review_rate"] == 0.001);
    CHECK(account["guard_bounce_rate"] == 0.05);  // guard.max_bounce_rate, the default
    CHECK(account["guard_complaint_rate"] == 0.001);
    CHECK(account["bounce_status"] == "over");  // 6.7 % >= 5 %
    CHECK(account["complaint_status"] == "over");
  }
}

TEST_CASE("GET /v1/admin/metrics rejects bad ranges naming the field", "[integration][metrics]") {
  MailerdFixture mailerd;
  auto admin = mailerd.create_key("ops", "admin").key;
  auto field_of = [&](const std::string& query) {
    auto body = get_json(mailerd, admin, "/v1/admin/metrics?" + query, 400);
    CHECK(body["status"] == 400);
    REQUIRE(body["errors"].size() == 1);
    return body["errors"][0]["field"].get<std::string>();
  };
  CHECK(field_of("period=1y") == "period");
  CHECK(field_of("period=") == "period");
  CHECK(field_of("period=24h&from=2026-01-01T00:00:00Z") == "period");
  CHECK(field_of("from=yesterday") == "from");
  CHECK(field_of("to=2026-01-01T00:00:00Z") == "from");
  CHECK(field_of("from=2026-01-01T00:00:00Z&to=noon") == "to");
  CHECK(field_of("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z") == "to");
  CHECK(field_of("from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z") == "to");
  CHECK(field_of("from=2020-01-01T00:00:00Z&to=2026-01-01T00:00:00Z") == "to");
}

TEST_CASE("GET /v1/admin/metrics needs an admin key", "[integration][metrics]") {
  MailerdFixture mailerd;
  auto reader = mailerd.create_key("viewer", "read").key;
  auto without = mailerd.client()->Get("/v1/admin/metrics");
  REQUIRE(without);
  CHECK(without->status == 401);
  auto with_read = mailerd.client()->Get("/v1/admin/metrics", bearer(reader));
  REQUIRE(with_read);
  CHECK(with_read->status == 403);
}
