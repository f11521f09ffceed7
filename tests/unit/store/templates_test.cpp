#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/store/templates.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using namespace mailer::store;

namespace {
TemplateSource content(std::string subject) {
  return TemplateSource{std::move(subject), "<p>{{name}}</p>", std::nullopt, {"name"}};
}
}  // namespace

TEST_CASE("TemplateRepo create, get and unique names", "[store]") {
  mailer::test::TestDb t;
  TemplateRepo repo(t.db(), t.clock());
  auto created = repo.create("welcome", content("Hi"));
  REQUIRE(created);
  CHECK(created->current_version == 1);
  CHECK(created->current.content.variables == std::vector<std::string>{"name"});
  CHECK(created->current.content.html == "<p>{{name}}</p>");
  CHECK_FALSE(created->current.content.text);
  auto dup = repo.create("welcome", content("Other"));
  REQUIRE_FALSE(dup);
  CHECK(dup.error().code == ErrorCode::conflict);
  REQUIRE(dup.error().fields.size() == 1);
  CHECK(dup.error().fields[0].field == "name");
  CHECK(repo.get("tmpl_nope").error().code == ErrorCode::not_found);
}

TEST_CASE("TemplateRepo::update adds immutable versions", "[store]") {
  mailer::test::TestDb t;
  TemplateRepo repo(t.db(), t.clock());
  auto created = repo.create("welcome", content("v1"));
  REQUIRE(repo.create("other", content("x")));
  auto updated = repo.update(created->id, std::string("welcome-2"), content("v2"));
  REQUIRE(updated);
  CHECK(updated->current_version == 2);
  CHECK(updated->name == "welcome-2");
  CHECK(repo.version(created->id, 1)->content.subject == "v1");
  CHECK(repo.version(created->id, 2)->content.subject == "v2");
  CHECK(repo.version(created->id, 3).error().code == ErrorCode::not_found);
  CHECK(repo.versions(created->id)->size() == 2);
  CHECK(repo.update(created->id, std::string("other"), content("v3")).error().code == ErrorCode::conflict);
  CHECK(repo.update("tmpl_nope", std::nullopt, content("v3")).error().code == ErrorCode::not_found);
}

TEST_CASE("TemplateRepo::remove refuses while an unfinished batch uses it", "[store]") {
  mailer::test::TestDb t;
  TemplateRepo repo(t.db(), t.clock());
  auto created = repo.create("welcome", content("v1"));
  t.db().sql().exec(
      "INSERT INTO batches(id, status, template_id, template_version, from_address, "
      "created_at_ms, updated_at_ms) VALUES ('bat_1', 'sending', '" +
      created->id + "', 1, 'a@b.c', 0, 0)");
  auto refused = repo.remove(created->id);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::conflict);
  CHECK(refused.error().detail.find("bat_1") != std::string::npos);
  t.db().sql().exec("UPDATE batches SET status = 'completed'");
  t.db().sql().exec(
      "INSERT INTO messages(id, kind, priority, state, email, template_id, template_version, "
      "run_at_ms, created_at_ms, updated_at_ms) VALUES ('msg_1', 'transactional', 0, 'queued', "
      "'a@b.c', '" +
      created->id + "', 1, 0, 0, 0)");
  auto queued = repo.remove(created->id);
  REQUIRE_FALSE(queued);
  CHECK(queued.error().code == ErrorCode::conflict);
  CHECK(queued.error().detail.find("msg_1") != std::string::npos);
  t.db().sql().exec("UPDATE messages SET state = 'sending'");
  CHECK(repo.remove(created->id).error().code == ErrorCode::conflict);
  t.db().sql().exec("UPDATE messages SET state = 'sent'");
  REQUIRE(repo.remove(created->id));
  CHECK(t.count_rows("template_versions") == 0);
  CHECK(repo.remove(created->id).error().code == ErrorCode::not_found);
}

TEST_CASE("TemplateRepo::list pages by id", "[store]") {
  mailer::test::TestDb t;
  TemplateRepo repo(t.db(), t.clock());
  for (int i = 0; i < 3; ++i) REQUIRE(repo.create("t" + std::to_string(i), content("s")));
  auto p1 = repo.list(PageQuery{2, "", 0});
  REQUIRE(p1->items.size() == 2);
  REQUIRE(repo.create("t3", content("s")));
  auto p2 = repo.list(PageQuery{2, p1->next_after, 0});
  REQUIRE(p2->items.size() == 2);
  CHECK(p2->items[0].name == "t2");
  CHECK(p2->items[1].name == "t3");
  CHECK(p2->next_after.empty());
  auto by_offset = repo.list(PageQuery{10, "", 3});
  REQUIRE(by_offset->items.size() == 1);
  CHECK(by_offset->items[0].name == "t3");
}
