// Input the real mailerd must refuse at accept because it can never be sent or
// would blow up rendering (issue #11 items 5 and 11), and the render preview's
// compiled-template cache.
#include <SQLiteCpp/SQLiteCpp.h>

#include <chrono>

#include "api_support.hpp"
#include "support/prometheus_text.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

std::int64_t count(MailerdFixture& mailerd, const std::string& sql) {
  SQLite::Database db(mailerd.db_path().string());
  SQLite::Statement q(db, sql);
  return q.executeStep() ? q.getColumn(0).getInt64() : -1;
}

std::string nested_sections(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{{#s" + std::to_string(i) + "}}\n";
  for (int i = depth - 1; i >= 0; --i) text += "{{/s" + std::to_string(i) + "}}";
  return text;
}

/// The message of the problem's error for `field`; empty when there is none.
std::string error_for(const json& problem, const std::string& field) {
  for (const auto& e : problem.value("errors", json::array()))
    if (e.value("field", "") == field) return e.value("message", "");
  return "";
}

double cache_lookups(MailerdFixture& mailerd, const std::string& result) {
  auto scraped = mailerd.client()->Get("/metrics");
  REQUIRE(scraped);
  auto value = sample_value(scraped->body, "mailer_template_cache_total{result=\"" + result + "\"}");
  REQUIRE(value);
  return *value;
}

}  // namespace

TEST_CASE("templates: 20,000 nested sections are 400 with line and column, at once", "[integration][api][templates]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  const auto start = std::chrono::steady_clock::now();
  auto res = post_json(*client, "/v1/templates", sender.key,
                       {{"name", "deep"}, {"subject", "s"}, {"html", nested_sections(20000)}});
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));  // was 9.4 s and 2.95 GB
  auto problem = require_problem(res, 400, "invalid_input");
  CHECK(error_for(problem, "html") == "sections are nested deeper than 32 levels at line 33, column 1");
  CHECK(count(mailerd, "SELECT count(*) FROM templates") == 0);

  SECTION("inline content of a message too") {
    auto message = post_json(*client, "/v1/messages", sender.key,
                             {{"from", "App <app@example.com>"},
                              {"to", "ana@example.com"},
                              {"content", {{"subject", "s"}, {"text", nested_sections(33)}}}});
    auto refused = require_problem(message, 400, "invalid_input");
    CHECK(error_for(refused, "content.text") == "sections are nested deeper than 32 levels at line 33, column 1");
  }
}

// 8 MiB stands for any size past the 1 MiB part limit (the service test
// uses 64 MiB); larger bodies only slow this test under ASan on a busy machine.
TEST_CASE("messages: an 8 MiB message is 400 naming the field, and nothing is stored", "[integration][api][messages]") {
  // The body limit is raised so that the request reaches validation.
  MailerdFixture mailerd(api_options({{"MAILER_SERVER_MAX_BODY_BYTES", std::to_string(16 << 20)}}));
  auto client = mailerd.client();
  client->set_read_timeout(90, 0);
  client->set_write_timeout(90, 0);
  auto sender = mailerd.create_key("app", "send");
  json message{{"from", "App <app@example.com>"}, {"to", "ana@example.com"}};

  SECTION("in the content") {
    message["content"] = {{"subject", "Big"}, {"text", std::string(8 << 20, 't')}};
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(error_for(problem, "content.text") == "is 8388608 bytes; at most 1048576 are allowed");
  }
  SECTION("in the variables") {
    message["content"] = {{"subject", "Big"}, {"text", "{{{body}}}"}};
    message["variables"] = {{"body", std::string(8 << 20, 'b')}};
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(error_for(problem, "variables") == "is 8388619 bytes of JSON; at most 1048576 are allowed");
  }
  SECTION("rendered from small variables by a repeated section") {
    json rows = json::array();
    for (int i = 0; i < 100; ++i) rows.push_back(json::object());
    message["content"] = {{"subject", "Big"}, {"text", "{{#rows}}{{{blob}}}{{/rows}}"}};
    message["variables"] = {{"rows", rows}, {"blob", std::string(512 << 10, 'b')}};
    auto problem = require_problem(post_json(*client, "/v1/messages", sender.key, message), 400, "invalid_input");
    CHECK(error_for(problem, "variables").find("SES accepts at most 41943040") != std::string::npos);
  }
  CHECK(count(mailerd, "SELECT count(*) FROM messages") == 0);
}

TEST_CASE("batches: oversized recipient variables are 400 naming the recipient", "[integration][api][batches]") {
  MailerdFixture mailerd(api_options({{"MAILER_SERVER_MAX_BODY_BYTES", std::to_string(16 << 20)}}));
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto batch = scheduled_batch({"a@example.com", "b@example.com"});
  batch["recipients"][1]["variables"] = {{"note", std::string(2 << 20, 'n')}};
  batch["skip_invalid"] = true;
  auto problem = require_problem(post_json(*client, "/v1/batches", sender.key, batch), 400, "invalid_input");
  CHECK(error_for(problem, "recipients[1].variables") == "is 2097163 bytes of JSON; at most 1048576 are allowed");
  CHECK(count(mailerd, "SELECT count(*) FROM batches") == 0);
}

TEST_CASE("templates: render previews compile once per version", "[integration][api][templates]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto created = post_json(*client, "/v1/templates", sender.key, simple_template("cached"));
  REQUIRE(created->status == 201);
  const std::string render_path = "/v1/templates/" + std::string(body_of(created)["id"]) + "/render";
  const double hits = cache_lookups(mailerd, "hit");
  const double misses = cache_lookups(mailerd, "miss");

  for (const char* name : {"Ana", "Bo"}) {
    auto rendered = post_json(*client, render_path, sender.key, {{"variables", {{"first_name", name}}}});
    REQUIRE(rendered->status == 200);
    CHECK(body_of(rendered)["subject"] == std::string("Hello ") + name);
  }
  CHECK(cache_lookups(mailerd, "miss") == misses + 1);
  CHECK(cache_lookups(mailerd, "hit") == hits + 1);

  auto id = std::string(body_of(created)["id"]);
  REQUIRE(put_json(*client, "/v1/templates/" + id, sender.key, {{"subject", "Welcome {{first_name}}"}, {"text", "t"}})
              ->status == 200);
  auto rendered = post_json(*client, render_path, sender.key, {{"variables", {{"first_name", "Ana"}}}});
  REQUIRE(rendered->status == 200);
  CHECK(body_of(rendered)["subject"] == "Welcome Ana");  // the update is seen at once
  CHECK(cache_lookups(mailerd, "miss") == misses + 2);
}

TEST_CASE("batches: too many recipients are 413 before any entry is checked", "[integration][api][batches]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  // 200,000 numbers: each entry is of the wrong type, and 100,000 is the limit.
  std::string body = R"({"from":"a@example.com","content":{"subject":"s","text":"t"},"recipients":[1)";
  for (int i = 1; i < 200'000; ++i) body += ",1";
  body += "]}";
  auto res = client->Post("/v1/batches", with_key(sender.key), body, "application/json");
  auto problem = require_problem(res, 413, "too_large");  // was 400 listing 200,000 entries
  CHECK(res->body.size() < 1000);
  CHECK(problem["detail"] == "batch has 200000 recipients; limits.max_recipients is 100000");
  CHECK(error_for(problem, "recipients") == "at most 100000 recipients per batch");
}

TEST_CASE("problems list at most 100 field errors, then how many more", "[integration][api]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  SECTION("recipients of the wrong type") {
    json batch = scheduled_batch({});
    batch["recipients"] = json::array();
    for (int i = 0; i < 5000; ++i) batch["recipients"].push_back(i);
    auto problem = require_problem(post_json(*client, "/v1/batches", sender.key, batch), 400, "invalid_input");
    REQUIRE(problem["errors"].size() == 101);
    CHECK(problem["errors"][99]["field"] == "recipients[99]");
    CHECK(problem["errors"][100] == json{{"field", "..."}, {"message", "4900 more errors not listed"}});
  }
  SECTION("unknown template members") {
    json tmpl = simple_template("many");
    for (int i = 0; i < 20'000; ++i) tmpl["k" + std::to_string(i)] = 1;
    auto problem = require_problem(post_json(*client, "/v1/templates", sender.key, tmpl), 400, "invalid_input");
    REQUIRE(problem["errors"].size() == 101);
    CHECK(error_for(problem, "...") == "19900 more errors not listed");
  }
}

TEST_CASE("batches: a recipient whose variables make the subject unsendable is 400 at accept",
          "[integration][api][batches]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto created = post_json(*client, "/v1/templates", sender.key, simple_template("hi"));
  REQUIRE(created->status == 201);
  json batch = {
      {"template_id", body_of(created)["id"]},
      {"from", "a@example.com"},
      {"recipients", {{{"email", "b@example.com"}, {"variables", {{"first_name", std::string(5000, 'x')}}}}}}};
  auto problem = require_problem(post_json(*client, "/v1/batches", sender.key, batch), 400, "invalid_input");
  // Was 202, then the message went to the DLQ as "rendered subject is invalid".
  CHECK(error_for(problem, "recipients[0].variables") ==
        "rendered subject is 5006 bytes; at most 989 fit a header line");
  CHECK(count(mailerd, "SELECT count(*) FROM batches") == 0);
}

TEST_CASE("subjects with control characters are 400 wherever they come from", "[integration][api]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto message = post_json(*client, "/v1/messages", sender.key,
                           {{"from", "a@example.com"},
                            {"to", "b@example.com"},
                            {"content", {{"subject", std::string("a\0b", 3)}, {"text", "t"}}}});
  CHECK(error_for(require_problem(message, 400, "invalid_input"), "content.subject") ==
        "control character U+0000 is not allowed at line 1, column 2");
  auto tmpl =
      post_json(*client, "/v1/templates", sender.key, {{"name", "esc"}, {"subject", "Sale \u001b[31m"}, {"text", "t"}});
  CHECK(has_field(require_problem(tmpl, 400, "invalid_input"), "subject"));
  auto rendered = post_json(*client, "/v1/messages", sender.key,
                            {{"from", "a@example.com"},
                             {"to", "b@example.com"},
                             {"content", {{"subject", "Hi {{name}}"}, {"text", "t"}}},
                             {"variables", {{"name", "Ana\u0085"}}}});
  CHECK(error_for(require_problem(rendered, 400, "invalid_input"), "variables") ==
        "rendered subject contains control character U+0085");
  CHECK(count(mailerd, "SELECT count(*) FROM messages") == 0);
}
