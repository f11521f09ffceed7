// /v1/templates through the real mailerd: CRUD, versions, render preview and
// the escaping rules a preview must show exactly as a send would.
#include "api_support.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

TEST_CASE("templates: create, read, update, list versions, delete", "[integration][api][templates]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");

  auto created = post_json(*client, "/v1/templates", sender.key, simple_template("welcome"));
  REQUIRE(created);
  INFO(created->body);
  REQUIRE(created->status == 201);
  auto t = body_of(created);
  std::string id = t["id"];
  CHECK(id.rfind("tmpl_", 0) == 0);
  CHECK(created->get_header_value("Location") == "/v1/templates/" + id);
  CHECK(t["version"] == 1);
  CHECK(std::find(t["variables"].begin(), t["variables"].end(), "first_name") != t["variables"].end());

  auto fetched = get(*client, "/v1/templates/" + id, sender.key);
  CHECK(fetched->status == 200);
  CHECK(body_of(fetched)["name"] == "welcome");

  auto updated = put_json(*client, "/v1/templates/" + id, sender.key,
                          {{"subject", "Welcome {{first_name}}"}, {"text", "v2 {{first_name}}"}});
  REQUIRE(updated->status == 200);
  CHECK(body_of(updated)["version"] == 2);
  CHECK(body_of(updated)["name"] == "welcome");  // kept when omitted

  auto versions = body_of(get(*client, "/v1/templates/" + id + "/versions", sender.key));
  REQUIRE(versions["data"].size() == 2);
  CHECK(versions["data"][0]["subject"] == "Hello {{first_name}}");
  CHECK(versions["data"][1]["subject"] == "Welcome {{first_name}}");

  auto list = body_of(get(*client, "/v1/templates", sender.key));
  REQUIRE(list["data"].size() == 1);
  CHECK(list["next_cursor"].is_null());

  auto removed = client->Delete(("/v1/templates/" + id).c_str(), with_key(sender.key));
  REQUIRE(removed);
  CHECK(removed->status == 204);
  require_problem(get(*client, "/v1/templates/" + id, sender.key), 404, "not_found");
  auto again = client->Delete(("/v1/templates/" + id).c_str(), with_key(sender.key));
  require_problem(again, 404, "not_found");
}

TEST_CASE("templates: invalid input is 400 with per-field errors", "[integration][api][templates]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");

  SECTION("syntax error names the part and position") {
    auto res = post_json(*client, "/v1/templates", sender.key,
                         {{"name", "broken"}, {"subject", "Hi {{#open}}"}, {"text", "ok"}});
    auto problem = require_problem(res, 400, "invalid_input");
    CHECK(has_field(problem, "subject"));
  }
  SECTION("wrong types and unknown fields are all reported") {
    auto res = post_json(*client, "/v1/templates", sender.key, {{"name", 5}, {"subjekt", "x"}, {"html", "<p/>"}});
    auto problem = require_problem(res, 400, "invalid_input");
    CHECK(has_field(problem, "name"));
    CHECK(has_field(problem, "subjekt"));
  }
  SECTION("not JSON") {
    auto res = client->Post("/v1/templates", with_key(sender.key), "{nope", "application/json");
    require_problem(res, 400, "invalid_input");
  }
  SECTION("not application/json is 415") {
    auto res = client->Post("/v1/templates", with_key(sender.key), "name=x", "application/x-www-form-urlencoded");
    require_problem(res, 415, "unsupported_media");
  }
  SECTION("a taken name is 409") {
    REQUIRE(post_json(*client, "/v1/templates", sender.key, simple_template("dup"))->status == 201);
    auto res = post_json(*client, "/v1/templates", sender.key, simple_template("dup"));
    require_problem(res, 409, "conflict");
  }
  SECTION("updating or rendering an unknown template is 404") {
    require_problem(put_json(*client, "/v1/templates/tmpl_missing", sender.key, simple_template("x")), 404,
                    "not_found");
    require_problem(post_json(*client, "/v1/templates/tmpl_missing/render", sender.key, json::object()), 404,
                    "not_found");
    require_problem(get(*client, "/v1/templates/tmpl_missing/versions", sender.key), 404, "not_found");
  }
  SECTION("a template used by an active batch cannot be deleted") {
    auto t = body_of(post_json(*client, "/v1/templates", sender.key, simple_template("busy")));
    auto batch = scheduled_batch({"ana@example.com"});
    batch.erase("content");
    batch["template_id"] = t["id"];
    REQUIRE(post_json(*client, "/v1/batches", sender.key, batch)->status == 202);
    auto res = client->Delete(("/v1/templates/" + t["id"].get<std::string>()).c_str(), with_key(sender.key));
    require_problem(res, 409, "conflict");
  }
}

TEST_CASE("templates: render preview escapes HTML only, as a send would", "[integration][api][templates]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto sender = mailerd.create_key("app", "send");
  auto reader = mailerd.create_key("viewer", "read");
  auto t = body_of(post_json(*client, "/v1/templates", sender.key,
                             {{"name", "esc"},
                              {"subject", "{{who}}"},
                              {"html", "<p>{{who}}</p><div>{{snippet}}</div>"},
                              {"text", "{{who}} {{snippet}}"}}));
  std::string path = "/v1/templates/" + t["id"].get<std::string>() + "/render";
  json variables{{"who", "Tom & Jerry <tj@example.com>"}, {"snippet", "<script>alert(1)</script>"}};
  auto res = post_json(*client, path, reader.key, {{"variables", variables}});
  REQUIRE(res);
  INFO(res->body);
  REQUIRE(res->status == 200);
  auto rendered = body_of(res);
  CHECK(rendered["subject"] == "Tom & Jerry <tj@example.com>");
  CHECK(rendered["text"] == "Tom & Jerry <tj@example.com> <script>alert(1)</script>");
  std::string html = rendered["html"];
  CHECK(html.find("<script>") == std::string::npos);
  CHECK(html.find("&lt;script&gt;") != std::string::npos);
  CHECK(html.find("Tom &amp; Jerry &lt;tj@example.com&gt;") != std::string::npos);

  SECTION("an earlier version renders on request") {
    REQUIRE(put_json(*client, "/v1/templates/" + t["id"].get<std::string>(), sender.key,
                     {{"subject", "v2"}, {"text", "v2"}})
                ->status == 200);
    CHECK(body_of(post_json(*client, path, reader.key, {{"version", 1}, {"variables", variables}}))["subject"] ==
          "Tom & Jerry <tj@example.com>");
    CHECK(body_of(post_json(*client, path, reader.key, json::object()))["subject"] == "v2");
  }
  SECTION("variables must be an object") {
    require_problem(post_json(*client, path, reader.key, {{"variables", "nope"}}), 400, "invalid_input");
  }
}
