#include <catch2/catch.hpp>

#include "mailer/service/batches.hpp"
#include "mailer/service/templates.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using namespace mailer::service;

namespace {
TemplateInput welcome() { return {"welcome", "Hi {{first_name}}", "<p>{{shop}}</p>", std::nullopt}; }
}  // namespace

TEST_CASE("TemplateService::create compiles and lists the variables used", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto created = templates.create(welcome());
  REQUIRE(created);
  CHECK(created->current_version == 1);
  CHECK(created->current.content.variables == std::vector<std::string>{"first_name", "shop"});
  auto dup = templates.create(welcome());
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::conflict);
  CHECK(mailer::test::fields_of(dup.error()) == std::vector<std::string>{"name"});
}

TEST_CASE("TemplateService::create reports every syntax error with part and position", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto bad = templates.create({"", "Hi {{name", "<p>{{#a}}</p>", "ok"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == ErrorCode::invalid_input);
  CHECK(mailer::test::fields_of(bad.error()) == std::vector<std::string>{"name", "subject", "html"});
  CHECK(bad.error().fields[1].message.find("line 1, column") != std::string::npos);
  CHECK(t.count_rows("templates") == 0);
}

TEST_CASE("TemplateService::create refuses control characters in the name", "[service]") {
  // A name is what `mailerctl send --template` and the tables show; a NUL or a
  // line break in it was stored as given and broke both.
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  for (std::string name : {std::string("a\0b", 3), std::string("two\nlines"), std::string("tab\there")}) {
    INFO(name);
    auto bad = templates.create({name, "Hi", std::nullopt, "text"});
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::invalid_input);
    CHECK(mailer::test::fields_of(bad.error()) == std::vector<std::string>{"name"});
  }
  CHECK(templates.create({"Grüße für Zoë", "Hi", std::nullopt, "text"}));
  CHECK(t.count_rows("templates") == 1);
}

TEST_CASE("TemplateService::update keeps old versions and pins renders", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto created = templates.create(welcome());
  auto updated = templates.update(created->id, {"", "New {{first_name}}", std::nullopt, "text {{email}}"});
  REQUIRE(updated);
  CHECK(updated->name == "welcome");
  CHECK(updated->current_version == 2);
  CHECK(templates.versions(created->id)->size() == 2);
  auto v1 = templates.render_preview(created->id, {{"first_name", "Ana"}, {"shop", "A&B"}}, 1);
  REQUIRE(v1);
  CHECK(v1->subject == "Hi Ana");
  CHECK(v1->html == "<p>A&amp;B</p>");
  auto v2 = templates.render_preview(created->id, {{"first_name", "Ana"}});
  REQUIRE(v2);
  CHECK(v2->subject == "New Ana");
  CHECK(v2->text == std::string("text ") + k_preview_email);
  auto given = templates.render_preview(created->id, {{"email", "me@example.com"}});
  CHECK(given->text == "text me@example.com");
  CHECK(templates.render_preview(created->id, nlohmann::json::array()).error().code == ErrorCode::invalid_input);
  CHECK(templates.render_preview(created->id, {}, 9).error().code == ErrorCode::not_found);
  CHECK(templates.update("tmpl_nope", welcome()).error().code == ErrorCode::not_found);
}

TEST_CASE("TemplateService::remove refuses while a batch still sends with it", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto created = templates.create(welcome());
  BatchService batches(t.db(), t.clock());
  BatchRequest request;
  request.template_id = created->id;
  request.from = "news@example.com";
  request.recipients = {{"ana@example.com", nullptr}};
  auto accepted = batches.accept_batch(request, {100, true, std::nullopt});
  REQUIRE(accepted);
  auto refused = templates.remove(created->id);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::conflict);
  REQUIRE(batches.cancel(accepted->id));
  REQUIRE(templates.remove(created->id));
  CHECK(templates.get(created->id).error().code == ErrorCode::not_found);
  CHECK(batches.get(accepted->id)->status == mailer::store::BatchStatus::cancelled);  // the batch and its counts stay
}

TEST_CASE("TemplateService::list pages with opaque cursors", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  for (int i = 0; i < 3; ++i) REQUIRE(templates.create({"t" + std::to_string(i), "s", std::nullopt, "x"}));
  auto p1 = templates.list({2, "", std::nullopt});
  REQUIRE(p1);
  CHECK(p1->data.size() == 2);
  REQUIRE_FALSE(p1->next_cursor.empty());
  auto p2 = templates.list({2, p1->next_cursor, std::nullopt});
  REQUIRE(p2->data.size() == 1);
  CHECK(p2->data[0].name == "t2");
  CHECK(p2->next_cursor.empty());
}

TEST_CASE("TemplateService::find_by_name finds the exact name", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  REQUIRE(templates.create(welcome()));
  auto other = templates.create({"welcome-2", "S", std::nullopt, "T"});
  REQUIRE(other);
  auto found = templates.find_by_name("welcome-2");
  REQUIRE(found);
  CHECK(found->id == other->id);
  auto missing = templates.find_by_name("Welcome");
  REQUIRE_FALSE(missing);
  CHECK(missing.error().code == ErrorCode::not_found);
  CHECK(missing.error().detail == "no template named \"Welcome\"");
}

TEST_CASE("TemplateService::render_preview compiles through the cache until an update", "[service]") {
  mailer::test::TestDb t;
  mailer::render::TemplateCache cache;
  TemplateService templates(t.db(), t.clock(), &cache);
  auto created = templates.create(welcome());
  REQUIRE(created);
  REQUIRE(templates.render_preview(created->id, {{"first_name", "Ana"}}));
  REQUIRE(templates.render_preview(created->id, {{"first_name", "Bo"}}));
  CHECK(cache.size() == 1);
  REQUIRE(templates.update(created->id, {"", "Hello {{first_name}}", "<p>x</p>", std::nullopt}));
  auto updated = templates.render_preview(created->id, {{"first_name", "Ana"}});
  REQUIRE(updated);
  CHECK(updated->subject == "Hello Ana");
  CHECK(cache.size() == 2);
  auto pinned = templates.render_preview(created->id, {{"first_name", "Ana"}}, 1);
  REQUIRE(pinned);
  CHECK(pinned->subject == "Hi Ana");
  CHECK(cache.size() == 2);
  CHECK(templates.render_preview(created->id, {}, 9).error().code == ErrorCode::not_found);
}
