// /v1/admin/dlq and /v1/admin/queue through the real mailerd. Failed messages
// are made by writing the row the way the engine does when it gives up.
#include "api_support.hpp"

#include <cstdint>

#include <SQLiteCpp/Database.h>

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

std::string queue_message(httplib::Client& client, const std::string& key, const std::string& to) {
  json message{{"from", "app@example.com"}, {"to", to}, {"content", {{"subject", "s"}, {"text", "t"}}}};
  auto res = post_json(client, "/v1/messages", key, message);
  REQUIRE(res);
  REQUIRE(res->status == 202);
  return json::parse(res->body)["id"];
}

void fail_message(const MailerdFixture& mailerd, const std::string& id, std::int64_t failed_at_ms) {
  SQLite::Database db(mailerd.db_path().string(), SQLite::OPEN_READWRITE);
  db.setBusyTimeout(5000);
  SQLite::Statement update(db,
                           "UPDATE messages SET state = 'failed', failed_at_ms = ?, attempts = 5,"
                           " last_error_code = 'MessageRejected', last_error = 'Email address is not verified.',"
                           " lease_token = NULL, lease_expires_ms = NULL WHERE id = ?");
  update.bind(1, static_cast<int64_t>(failed_at_ms));
  update.bind(2, id);
  REQUIRE(update.exec() == 1);
}

}  // namespace

TEST_CASE("admin dlq: list, retry, purge", "[integration][api][admin]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  auto old_id = queue_message(*client, sender.key, "old@example.com");
  auto new_id = queue_message(*client, sender.key, "new@example.com");
  fail_message(mailerd, old_id, 1'000'000);          // 1970: far older than any age
  fail_message(mailerd, new_id, 4'000'000'000'000);  // 2096

  auto first = body_of(get(*client, "/v1/admin/dlq?limit=1", admin.key));
  REQUIRE(first["data"].size() == 1);
  CHECK(first["data"][0]["id"] == old_id);
  CHECK(first["data"][0]["last_error_code"] == "MessageRejected");
  REQUIRE(first["next_cursor"].is_string());
  auto second =
      body_of(get(*client, "/v1/admin/dlq?limit=1&cursor=" + first["next_cursor"].get<std::string>(), admin.key));
  REQUIRE(second["data"].size() == 1);
  CHECK(second["data"][0]["id"] == new_id);
  require_problem(get(*client, "/v1/admin/dlq?offset=1", admin.key), 400, "invalid_input");

  SECTION("retry puts one back in the queue") {
    auto res =
        client->Post(("/v1/admin/dlq/" + new_id + "/retry").c_str(), with_key(admin.key), "", "application/json");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(body_of(get(*client, "/v1/messages/" + new_id, admin.key))["status"] != "failed");
    require_problem(
        client->Post(("/v1/admin/dlq/" + new_id + "/retry").c_str(), with_key(admin.key), "", "application/json"), 404,
        "not_found");
    CHECK(body_of(get(*client, "/v1/admin/dlq", admin.key))["data"].size() == 1);
  }
  SECTION("purge removes entries older than the age") {
    auto res = client->Delete("/v1/admin/dlq?older_than=30d", with_key(admin.key));
    REQUIRE(res);
    INFO(res->body);
    REQUIRE(res->status == 200);
    CHECK(body_of(res)["purged"] == 1);
    auto left = body_of(get(*client, "/v1/admin/dlq", admin.key))["data"];
    REQUIRE(left.size() == 1);
    CHECK(left[0]["id"] == new_id);
    // A cut-off after now would take every entry, as all=true does: refused.
    auto future = require_problem(client->Delete("/v1/admin/dlq?older_than=2097-01-01T00:00:00Z", with_key(admin.key)),
                                  400, "invalid_input");
    CHECK(has_field(future, "older_than"));
    CHECK(body_of(get(*client, "/v1/admin/dlq", admin.key))["data"].size() == 1);
  }
  SECTION("purge by time takes what failed before it") {
    auto by_time = client->Delete("/v1/admin/dlq?older_than=2000-01-01T00:00:00Z", with_key(admin.key));
    CHECK(body_of(by_time)["purged"] == 1);
    CHECK(body_of(by_time)["older_than"] == "2000-01-01T00:00:00.000Z");
  }
  SECTION("purge names the largest age") {
    auto problem =
        require_problem(client->Delete("/v1/admin/dlq?older_than=36501d", with_key(admin.key)), 400, "invalid_input");
    REQUIRE(problem["errors"].size() == 1);
    CHECK(problem["errors"][0]["field"] == "older_than");
    CHECK(problem["errors"][0]["message"] == "must be at most 36500d (100 years)");
  }
  SECTION("a repeated parameter is refused, never read as one of its values") {
    for (std::string query : {"all=true&all=false", "all=false&all=true", "older_than=30d&older_than=1d"}) {
      INFO(query);
      auto problem = require_problem(client->Delete(("/v1/admin/dlq?" + query).c_str(), with_key(admin.key)), 400,
                                     "invalid_input");
      REQUIRE(problem["errors"].size() == 1);
      CHECK(problem["errors"][0]["message"] == "given more than once");
    }
    CHECK(body_of(get(*client, "/v1/admin/dlq", admin.key))["data"].size() == 2);
    CHECK(has_field(require_problem(get(*client, "/v1/admin/dlq?limit=1&limit=1", admin.key), 400, "invalid_input"),
                    "limit"));
  }
  SECTION("a bad cursor is a field error naming cursor") {
    auto problem = require_problem(get(*client, "/v1/admin/dlq?cursor=garbage", admin.key), 400, "invalid_input");
    CHECK(has_field(problem, "cursor"));
  }
  SECTION("a long id is echoed once, shortened") {
    const std::string id = "msg_" + std::string(6000, 'x');
    auto res = client->Post(("/v1/admin/dlq/" + id + "/retry").c_str(), with_key(admin.key), "", "application/json");
    auto problem = require_problem(res, 404, "not_found");
    CHECK(res->body.size() < 1024);
    CHECK_THAT(problem["detail"].get<std::string>(), Catch::EndsWith("\u2026: not found"));
  }
  SECTION("retry names why an id was not retried, as mailerctl does") {
    auto problem = require_problem(
        client->Post("/v1/admin/dlq/msg_doesnotexist/retry", with_key(admin.key), "", "application/json"), 404,
        "not_found");
    CHECK(problem["detail"] == "msg_doesnotexist: not found");
    CHECK(has_field(problem, "msg_doesnotexist"));
  }
  SECTION("purge all=true removes every entry") {
    auto res = client->Delete("/v1/admin/dlq?all=true", with_key(admin.key));
    CHECK(body_of(res)["purged"] == 2);
    CHECK(body_of(res)["older_than"].is_null());
    CHECK(body_of(get(*client, "/v1/admin/dlq", admin.key))["data"].empty());
  }
  SECTION("purge takes older_than or all=true, not both") {
    auto both = require_problem(client->Delete("/v1/admin/dlq?all=true&older_than=30d", with_key(admin.key)), 400,
                                "invalid_input");
    CHECK(has_field(both, "older_than"));
    CHECK(has_field(require_problem(client->Delete("/v1/admin/dlq?all=yes", with_key(admin.key)), 400, "invalid_input"),
                    "all"));
    CHECK(body_of(get(*client, "/v1/admin/dlq", admin.key))["data"].size() == 2);
  }
  SECTION("purge needs a valid older_than") {
    require_problem(client->Delete("/v1/admin/dlq", with_key(admin.key)), 400, "invalid_input");
    auto problem =
        require_problem(client->Delete("/v1/admin/dlq?older_than=soon", with_key(admin.key)), 400, "invalid_input");
    CHECK(has_field(problem, "older_than"));
  }
}

TEST_CASE("admin queue: depth by state", "[integration][api][admin]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto admin = mailerd.create_key("ops", "admin");
  REQUIRE(post_json(*client, "/v1/batches", sender.key, scheduled_batch({"a@example.com", "b@example.com"}))->status ==
          202);
  auto failed = queue_message(*client, sender.key, "c@example.com");
  fail_message(mailerd, failed, 1'000'000);
  auto queue = body_of(get(*client, "/v1/admin/queue", admin.key));
  INFO(queue.dump());
  CHECK(queue["depth"]["scheduled"] == 2);
  CHECK(queue["depth"]["failed"] == 1);
  CHECK(queue.contains("in_flight"));
  CHECK(queue.contains("send_rate_per_second"));
  CHECK(queue["quota"]["sent_24h"] == 0);
  CHECK(queue["quota"].contains("max_24_hour_send"));
  CHECK(queue["engine"]["sending_on_hold"] == false);
  CHECK(queue["engine"]["hold_reason"].is_null());
}
