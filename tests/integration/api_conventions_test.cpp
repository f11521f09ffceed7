// SPEC §3 conventions on the /v1 routes: Idempotency-Key replay and conflict,
// keyset pagination under concurrent inserts, the per-key rate limit, CORS and
// X-Request-Id.
#include "api_support.hpp"

#include <fstream>
#include <set>

using namespace mailer::test;
using namespace mailer::test::api;

TEST_CASE("Idempotency-Key replays the first response and refuses another body", "[integration][api][idempotency]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  httplib::Headers idem{{"Idempotency-Key", "create-welcome-1"}};

  auto first = post_json(*client, "/v1/templates", sender.key, simple_template("welcome"), idem);
  REQUIRE(first);
  REQUIRE(first->status == 201);
  CHECK_FALSE(first->has_header("Idempotent-Replayed"));
  auto again = post_json(*client, "/v1/templates", sender.key, simple_template("welcome"), idem);
  REQUIRE(again);
  CHECK(again->status == 201);
  CHECK(again->body == first->body);
  CHECK(again->get_header_value("Idempotent-Replayed") == "true");
  CHECK(body_of(get(*client, "/v1/templates", sender.key))["data"].size() == 1);

  auto other_body = post_json(*client, "/v1/templates", sender.key, simple_template("other"), idem);
  auto problem = require_problem(other_body, 409, "conflict");
  CHECK(problem["detail"].get<std::string>().find("Idempotency-Key") != std::string::npos);

  SECTION("another API key has its own keys") {
    auto other_key = mailerd.create_key("app2", "send");
    auto res = post_json(*client, "/v1/templates", other_key.key, simple_template("second"), idem);
    CHECK(res->status == 201);
    CHECK_FALSE(res->has_header("Idempotent-Replayed"));
  }
  SECTION("the same key on another route is a conflict") {
    require_problem(post_json(*client, "/v1/suppressions", sender.key, {{"email", "a@example.com"}}, idem), 409,
                    "conflict");
  }
  SECTION("batches and messages replay the same id") {
    httplib::Headers batch_key{{"Idempotency-Key", "batch-1"}};
    auto batch = scheduled_batch({"a@example.com"});
    auto b1 = body_of(post_json(*client, "/v1/batches", sender.key, batch, batch_key));
    auto b2 = post_json(*client, "/v1/batches", sender.key, batch, batch_key);
    CHECK(b2->status == 202);
    CHECK(body_of(b2)["id"] == b1["id"]);
    CHECK(body_of(get(*client, "/v1/batches", sender.key))["data"].size() == 1);

    httplib::Headers message_key{{"Idempotency-Key", "msg-1"}};
    json message{{"from", "app@example.com"}, {"to", "b@example.com"}, {"content", {{"subject", "s"}, {"text", "t"}}}};
    auto m1 = body_of(post_json(*client, "/v1/messages", sender.key, message, message_key));
    auto m2 = post_json(*client, "/v1/messages", sender.key, message, message_key);
    CHECK(m2->status == 202);
    CHECK(body_of(m2)["id"] == m1["id"]);
  }
  SECTION("a validation error is replayed too, as problem+json") {
    httplib::Headers bad_key{{"Idempotency-Key", "bad-1"}};
    json bad{{"name", ""}, {"subject", "x"}, {"text", "y"}};
    require_problem(post_json(*client, "/v1/templates", sender.key, bad, bad_key), 400, "invalid_input");
    auto replay = post_json(*client, "/v1/templates", sender.key, bad, bad_key);
    require_problem(replay, 400, "invalid_input");
    CHECK(replay->get_header_value("Idempotent-Replayed") == "true");
  }
  SECTION("a malformed key is 400") {
    auto res = post_json(*client, "/v1/templates", sender.key, simple_template("x"),
                         {{"Idempotency-Key", std::string(300, 'k')}});
    CHECK(has_field(require_problem(res, 400, "invalid_input"), "Idempotency-Key"));
  }
  SECTION("a new API key's secret is not kept for replays") {
    auto admin = mailerd.create_key("ops", "admin");
    httplib::Headers key_idem{{"Idempotency-Key", "key-1"}};
    json new_key{{"name", "ci"}, {"scope", "read"}};
    auto k1 = body_of(post_json(*client, "/v1/admin/keys", admin.key, new_key, key_idem));
    CHECK(k1["key"].is_string());
    auto k2 = post_json(*client, "/v1/admin/keys", admin.key, new_key, key_idem);
    CHECK(k2->status == 201);
    CHECK(body_of(k2)["id"] == k1["id"]);
    CHECK(body_of(k2)["key"].is_null());
  }
}

TEST_CASE("pagination: keyset pages have no gaps or repeats while rows are added", "[integration][api][pagination]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  std::vector<std::string> expected;
  auto add = [&](const std::string& name) {
    auto res = post_json(*client, "/v1/templates", sender.key, simple_template(name));
    REQUIRE(res->status == 201);
    expected.push_back(json::parse(res->body)["id"]);
  };
  for (int i = 0; i < 10; ++i) add("t" + std::to_string(i));

  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    auto page =
        body_of(get(*client, "/v1/templates?limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor), sender.key));
    REQUIRE(page["data"].size() <= 3);
    for (const auto& t : page["data"]) seen.push_back(t["id"]);
    cursor = page["next_cursor"].is_null() ? "" : page["next_cursor"].get<std::string>();
    if (pages < 2) add("new" + std::to_string(pages));  // inserted between page requests
    ++pages;
  } while (!cursor.empty() && pages < 20);
  CHECK(seen == expected);  // every row once, in order, including those added meanwhile
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == seen.size());

  SECTION("offset pages") {
    auto page = body_of(get(*client, "/v1/templates?limit=2&offset=3", sender.key));
    REQUIRE(page["data"].size() == 2);
    CHECK(page["data"][0]["id"] == expected[3]);
  }
  SECTION("default limit is 50 and the maximum 1000") {
    CHECK(body_of(get(*client, "/v1/templates", sender.key))["data"].size() == expected.size());
    require_problem(get(*client, "/v1/templates?limit=1001", sender.key), 400, "invalid_input");
    require_problem(get(*client, "/v1/templates?limit=ten", sender.key), 400, "invalid_input");
    require_problem(get(*client, "/v1/templates?offset=-1", sender.key), 400, "invalid_input");
    require_problem(get(*client, "/v1/templates?offset=1&cursor=" + std::string("dA"), sender.key), 400,
                    "invalid_input");
  }
  SECTION("a cursor no list handed out is refused on every list") {
    // "abc" is valid base64url, so only the decoded id tells it is not a cursor.
    for (std::string path : {"/v1/templates", "/v1/batches", "/v1/events"}) {
      INFO(path);
      auto problem = require_problem(get(*client, path + "?cursor=abc", sender.key), 400, "invalid_input");
      CHECK(has_field(problem, "cursor"));
    }
  }
}

TEST_CASE("rate limit: 429 with Retry-After and RateLimit headers per key", "[integration][api][rate_limit]") {
  MailerdFixture mailerd(
      api_options({{"MAILER_API_RATE_LIMIT_PER_SECOND", "1"}, {"MAILER_API_RATE_LIMIT_BURST", "2"}}));
  auto client = mailerd.client();
  auto reader = mailerd.create_key("dash", "read");
  auto first = get(*client, "/v1/templates", reader.key);
  REQUIRE(first);
  CHECK(first->status == 200);
  CHECK(first->get_header_value("RateLimit-Limit") == "2");
  CHECK(first->get_header_value("RateLimit-Remaining") == "1");
  CHECK_FALSE(first->get_header_value("RateLimit-Reset").empty());
  auto limited = get(*client, "/v1/templates", reader.key);
  for (int i = 0; i < 5 && limited && limited->status != 429; ++i) {  // the burst of 2 is spent long before 5 s pass
    limited = get(*client, "/v1/templates", reader.key);
  }
  require_problem(limited, 429, "rate_limited");
  int retry_after = std::stoi(limited->get_header_value("Retry-After"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 1);
  CHECK(limited->get_header_value("RateLimit-Remaining") == "0");
  CHECK(limited->get_header_value("RateLimit-Limit") == "2");

  SECTION("other keys and unkeyed routes are not limited") {
    auto other = mailerd.create_key("other", "read");
    CHECK(get(*client, "/v1/templates", other.key)->status == 200);
    CHECK(client->Get("/health")->status == 200);
  }
}

TEST_CASE("rate limit: every answer to a valid key carries the RateLimit headers", "[integration][api][rate_limit]") {
  MailerdFixture mailerd(api_options({{"MAILER_API_RATE_LIMIT_PER_SECOND", "0.001"},
                                      {"MAILER_API_RATE_LIMIT_BURST", "100"},
                                      {"MAILER_SERVER_MAX_BODY_BYTES", "1024"}}));
  auto client = mailerd.client();
  auto reader = mailerd.create_key("dash", "read");
  // Each answer took one token of the key's own bucket of 100, refusals too.
  auto require_rate_headers = [](const httplib::Result& res, int status) {
    REQUIRE(res);
    INFO(res->body);
    CHECK(res->status == status);
    CHECK(res->get_header_value("RateLimit-Limit") == "100");
    CHECK(std::stoi(res->get_header_value("RateLimit-Remaining")) < 100);
    CHECK_FALSE(res->get_header_value("RateLimit-Reset").empty());
  };
  SECTION("400: a repeated query parameter") {
    require_rate_headers(get(*client, "/v1/templates?limit=1&limit=2", reader.key), 400);
  }
  SECTION("403: scope too low") { require_rate_headers(post_json(*client, "/v1/templates", reader.key, {}), 403); }
  SECTION("404: no such route") { require_rate_headers(get(*client, "/v1/nothing-here", reader.key), 404); }
  SECTION("404: no such resource") { require_rate_headers(get(*client, "/v1/batches/bat_missing", reader.key), 404); }
  SECTION("405: method not allowed") {
    auto res = client->Delete("/v1/events", with_key(reader.key));
    require_rate_headers(res, 405);
    CHECK(res->get_header_value("Allow") == "GET");
  }
  SECTION("413: body over server.max_body_bytes") {
    auto big = json{{"variables", {{"x", std::string(2048, 'x')}}}};
    require_rate_headers(post_json(*client, "/v1/templates/tmpl_1/render", reader.key, big), 413);
  }
  SECTION("415: not JSON") {
    require_rate_headers(client->Post("/v1/templates/tmpl_1/render", with_key(reader.key), "x=1", "text/plain"), 415);
  }
  SECTION("no headers without a valid key, or on public routes") {
    for (const auto& res : {client->Get("/v1/nothing-here"), client->Get("/v1/events", bearer("mk_live_unknown")),
                            client->Get("/health", bearer(reader.key))}) {
      REQUIRE(res);
      CHECK_FALSE(res->has_header("RateLimit-Limit"));
    }
  }
}

TEST_CASE("rate limit: a key over its limit is 429 whatever else is wrong", "[integration][api][rate_limit]") {
  MailerdFixture mailerd(
      api_options({{"MAILER_API_RATE_LIMIT_PER_SECOND", "0.001"}, {"MAILER_API_RATE_LIMIT_BURST", "1"}}));
  auto client = mailerd.client();
  auto reader = mailerd.create_key("dash", "read");
  REQUIRE(get(*client, "/v1/nothing-here", reader.key)->status == 404);  // the one token
  for (const auto& res : {get(*client, "/v1/nothing-here", reader.key), get(*client, "/v1/templates", reader.key),
                          post_json(*client, "/v1/templates", reader.key, {})}) {
    require_problem(res, 429, "rate_limited");
    CHECK(res->get_header_value("RateLimit-Remaining") == "0");
    CHECK(res->get_header_value("Retry-After") != "");
  }
}

TEST_CASE("new routes keep CORS, preflight and X-Request-Id", "[integration][api]") {
  TempDir config_dir;
  auto config_path = config_dir / "mailerd.toml";
  std::ofstream(config_path) << "[server]\ncors_origins = [\"https://app.example.com\"]\n";
  auto options = api_options();
  options.args = {"--config", config_path.string()};
  MailerdFixture mailerd(options);
  auto client = mailerd.client();
  auto reader = mailerd.create_key("dash", "read");
  auto preflight = client->Options("/v1/batches/bat_1/pause",
                                   {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  REQUIRE(preflight);
  CHECK(preflight->status == 204);
  CHECK(preflight->get_header_value("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  auto res = client->Get("/v1/events",
                         with_key(reader.key, {{"Origin", "https://app.example.com"}, {"X-Request-Id", "trace-42"}}));
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("X-Request-Id") == "trace-42");
  CHECK(res->get_header_value("Access-Control-Allow-Origin") == "https://app.example.com");
  CHECK(res->get_header_value("Access-Control-Expose-Headers").find("RateLimit-Remaining") != std::string::npos);
}

TEST_CASE("a query parameter given more than once is refused, naming it", "[integration][api]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  const std::vector<std::pair<std::string, std::string>> cases{{"/v1/templates?limit=1&limit=2", "limit"},
                                                               {"/v1/batches?status=queued&status=done", "status"},
                                                               {"/v1/events?limit=5&type=SENT&type=BOUNCE", "type"}};
  for (const auto& [path, field] : cases) {
    INFO(path);
    auto problem = require_problem(get(*client, path, sender.key), 400, "invalid_input");
    REQUIRE(problem["errors"].size() == 1);
    CHECK(problem["errors"][0]["field"] == field);
    CHECK(problem["errors"][0]["message"] == "given more than once");
  }
  auto twice = require_problem(get(*client, "/v1/templates?cursor=a&cursor=a", sender.key), 400, "invalid_input");
  CHECK(has_field(twice, "cursor"));
  CHECK(twice["detail"] == "query parameter 'cursor' is given more than once");
  // Different names, each once, still work.
  CHECK(get(*client, "/v1/templates?limit=1&offset=0", sender.key)->status == 200);
}
