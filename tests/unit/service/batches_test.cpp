#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/service/batches.hpp"
#include "mailer/service/suppressions.hpp"
#include "mailer/service/templates.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using mailer::store::BatchStatus;
using mailer::test::fields_of;
using mailer::test::has_field;
using namespace mailer::service;

namespace {

const AcceptOptions k_options{1000, true, std::string("key_test")};

BatchRequest inline_request(std::vector<std::string> emails) {
  BatchRequest r;
  r.content = ContentInput{"Hi {{first_name}}", std::nullopt, "Hello {{first_name}} from {{shop}}"};
  r.from = "Shop <news@example.com>";
  r.variables = {{"shop", "Example"}};
  for (auto& e : emails) r.recipients.push_back({std::move(e), {{"first_name", "Ana"}}});
  return r;
}

std::int64_t count(mailer::test::TestDb& t, const std::string& where) {
  return t.db().sql().execAndGet("SELECT count(*) FROM messages WHERE " + where).getInt64();
}

}  // namespace

TEST_CASE("BatchService::accept_batch stores one queued message per recipient", "[service]") {
  mailer::test::TestDb t;
  int wakeups = 0;
  BatchService batches(t.db(), t.clock(), [&] { ++wakeups; });
  auto accepted = batches.accept_batch(inline_request({"ana@example.com", "Bo@Example.COM"}), k_options);
  REQUIRE(accepted);
  CHECK(accepted->status == BatchStatus::queued);
  CHECK(accepted->accepted == 2);
  CHECK(accepted->duplicate == 0);
  CHECK(accepted->suppressed == 0);
  CHECK(accepted->invalid.empty());
  CHECK(wakeups == 1);
  CHECK(count(t, "state = 'queued' AND kind = 'bulk' AND priority = 1") == 2);
  CHECK(count(t, "email = 'Bo@example.com' AND variables_json = '{\"first_name\":\"Ana\"}'") == 1);
  auto got = batches.get(accepted->id);
  REQUIRE(got);
  CHECK(got->api_key_id == "key_test");
  CHECK(got->subject == "Hi {{first_name}}");
  CHECK(got->variables_json == R"({"shop":"Example"})");
  CHECK(got->state_counts.at("queued") == 2);
}

TEST_CASE("BatchService::accept_batch lists every invalid address and stores nothing", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  auto request = inline_request({"ok@example.com", "no-at-sign", "ok2@example.com", "a@@b.example"});
  auto rejected = batches.accept_batch(request, k_options);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == ErrorCode::invalid_input);
  CHECK(fields_of(rejected.error()) == std::vector<std::string>{"recipients[1].email", "recipients[3].email"});
  CHECK(t.count_rows("batches") == 0);
  CHECK(t.count_rows("messages") == 0);

  SECTION("skip_invalid records them and sends the rest") {
    request.skip_invalid = true;
    auto accepted = batches.accept_batch(request, k_options);
    REQUIRE(accepted);
    CHECK(accepted->accepted == 2);
    REQUIRE(accepted->invalid.size() == 2);
    CHECK(accepted->invalid[0].index == 1);
    CHECK(accepted->invalid[0].address == "no-at-sign");
    CHECK_FALSE(accepted->invalid[0].reason.empty());
    auto stored = nlohmann::json::parse(batches.get(accepted->id)->invalid_json);
    CHECK(stored.size() == 2);
    CHECK(stored[1]["index"] == 3);
    CHECK(batches.get(accepted->id)->invalid_count == 2);
  }
  SECTION("skip_invalid with no valid address left is rejected") {
    auto only_bad = inline_request({"bad"});
    only_bad.skip_invalid = true;
    auto none = batches.accept_batch(only_bad, k_options);
    REQUIRE_FALSE(none);
    CHECK(fields_of(none.error()) == std::vector<std::string>{"recipients"});
  }
}

TEST_CASE("BatchService::accept_batch sends duplicates once and records suppressed ones", "[service]") {
  mailer::test::TestDb t;
  SuppressionService suppressions(t.db(), t.clock());
  REQUIRE(suppressions.add({"GONE@example.com", "bounce", std::nullopt}));
  REQUIRE(suppressions.add({"unsub@example.com", "unsubscribe", std::nullopt}));
  BatchService batches(t.db(), t.clock());
  auto accepted = batches.accept_batch(
      inline_request({"a@example.com", "A@EXAMPLE.com", "gone@example.com", "Unsub@example.com", "a@example.com"}),
      k_options);
  REQUIRE(accepted);
  CHECK(accepted->accepted == 1);
  CHECK(accepted->duplicate == 2);
  CHECK(accepted->suppressed == 2);
  CHECK(count(t, "state = 'suppressed'") == 2);
  auto got = batches.get(accepted->id);
  CHECK(got->event_counts.at("SUPPRESSED") == 2);
  CHECK(got->duplicate_count == 2);
  CHECK(got->suppressed_count == 2);
}

TEST_CASE("BatchService::accept_batch collects every field error at once", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  BatchRequest r;
  r.from = "not an address";
  r.reply_to = {"ok@example.com", "bad"};
  r.variables = nlohmann::json::array();
  r.metadata = "text";
  r.tags = {{"camp aign", "x"}, {"ok", "bad value!"}};
  r.configuration_set = "has space";
  r.send_at = "2026-12-01T09:00:00Z";
  r.send_before = "2026-12-01T08:00:00Z";
  r.recipients = {{"a@example.com", "not an object"}};
  auto rejected = batches.accept_batch(r, k_options);
  REQUIRE_FALSE(rejected);
  CHECK(fields_of(rejected.error()) ==
        std::vector<std::string>{"from", "reply_to[1]", "template_id", "variables", "metadata", "tags.camp aign",
                                 "tags.ok", "configuration_set", "send_before", "recipients[0].variables"});
  SECTION("bad timestamps") {
    auto late = inline_request({"a@example.com"});
    late.send_at = "tomorrow";
    late.send_before = "2025-01-01T00:00:00Z";  // in the past
    auto bad = batches.accept_batch(late, k_options);
    REQUIRE_FALSE(bad);
    CHECK(fields_of(bad.error()) == std::vector<std::string>{"send_at", "send_before"});
  }
  SECTION("empty recipients") {
    auto empty = inline_request({});
    CHECK(fields_of(batches.accept_batch(empty, k_options).error()) == std::vector<std::string>{"recipients"});
  }
  SECTION("both template and content") {
    auto both = inline_request({"a@example.com"});
    both.template_id = "tmpl_x";
    CHECK(fields_of(batches.accept_batch(both, k_options).error()) == std::vector<std::string>{"content"});
  }
  SECTION("inline content syntax error") {
    auto broken = inline_request({"a@example.com"});
    broken.content->text = "{{#open}}";
    auto bad = batches.accept_batch(broken, k_options);
    REQUIRE_FALSE(bad);
    CHECK(fields_of(bad.error()) == std::vector<std::string>{"content.text"});
  }
}

TEST_CASE("BatchService::accept_batch enforces limits and configuration", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  auto request = inline_request({"a@example.com", "b@example.com", "c@example.com"});
  auto too_many = batches.accept_batch(request, {2, true, std::nullopt});
  REQUIRE_FALSE(too_many);
  CHECK(too_many.error().code == ErrorCode::too_large);
  CHECK(too_many.error().detail.find("limits.max_recipients is 2") != std::string::npos);
  auto no_secret = batches.accept_batch(request, {1000, false, std::nullopt});
  REQUIRE_FALSE(no_secret);
  CHECK(no_secret.error().code == ErrorCode::conflict);
  CHECK(no_secret.error().detail.find("unsubscribe.secret") != std::string::npos);
  CHECK(t.count_rows("batches") == 0);
}

TEST_CASE("BatchService::accept_batch takes SES list management instead of unsubscribe.secret", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  auto request = inline_request({"a@example.com"});
  request.list_management = ListManagementInput{"customers", std::nullopt};
  auto accepted = batches.accept_batch(request, {1000, false, std::nullopt});
  REQUIRE(accepted);
  auto stored = batches.get(accepted->id);
  REQUIRE(stored);
  CHECK(stored->contact_list_name == "customers");
  CHECK_FALSE(stored->topic_name);

  request.list_management->topic_name = "orders";
  accepted = batches.accept_batch(request, {1000, false, std::nullopt});
  REQUIRE(accepted);
  CHECK(batches.get(accepted->id)->topic_name == "orders");
}

TEST_CASE("BatchService::accept_batch checks SES contact list and topic names", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  auto request = inline_request({"a@example.com"});
  SECTION("both bad") {
    request.list_management = ListManagementInput{"has space", std::string(65, 't')};
    auto rejected = batches.accept_batch(request, k_options);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().code == ErrorCode::invalid_input);
    CHECK(fields_of(rejected.error()) ==
          std::vector<std::string>{"list_management.contact_list_name", "list_management.topic_name"});
    CHECK(rejected.error().fields[0].message == "must be 1 to 64 ASCII letters, digits, _ or -");
  }
  SECTION("empty contact list name, even without unsubscribe.secret") {
    request.list_management = ListManagementInput{"", std::string("orders")};
    auto rejected = batches.accept_batch(request, {1000, false, std::nullopt});
    REQUIRE_FALSE(rejected);
    CHECK(fields_of(rejected.error()) == std::vector<std::string>{"list_management.contact_list_name"});
  }
  CHECK(t.count_rows("batches") == 0);
}

TEST_CASE("BatchService::accept_batch pins the template version", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto tmpl = templates.create({"news", "v1", std::nullopt, "text"});
  REQUIRE(templates.update(tmpl->id, {"", "v2", std::nullopt, "text"}));
  BatchService batches(t.db(), t.clock());
  BatchRequest r;
  r.from = "news@example.com";
  r.template_id = tmpl->id;
  r.recipients = {{"a@example.com", nullptr}};
  auto current = batches.accept_batch(r, k_options);
  REQUIRE(current);
  CHECK(batches.get(current->id)->template_version == 2);
  r.template_version = 1;
  auto pinned = batches.accept_batch(r, k_options);
  REQUIRE(pinned);
  CHECK(batches.get(pinned->id)->template_version == 1);
  CHECK_FALSE(batches.get(pinned->id)->subject);  // content comes from the version row
  r.template_version = 7;
  CHECK(fields_of(batches.accept_batch(r, k_options).error()) == std::vector<std::string>{"template_version"});
  r.template_id = "tmpl_unknown";
  r.template_version.reset();
  CHECK(fields_of(batches.accept_batch(r, k_options).error()) == std::vector<std::string>{"template_id"});
}

TEST_CASE("BatchService schedules send_at and controls the batch", "[service]") {
  mailer::test::TestDb t;
  int wakeups = 0;
  BatchService batches(t.db(), t.clock(), [&] { ++wakeups; });
  auto request = inline_request({"a@example.com", "b@example.com"});
  request.send_at = "2026-01-02T00:00:00Z";  // the FakeClock starts 2026-01-01
  auto accepted = batches.accept_batch(request, k_options);
  REQUIRE(accepted);
  CHECK(accepted->status == BatchStatus::scheduled);
  CHECK(count(t, "state = 'scheduled' AND run_at_ms = 1767312000000") == 2);
  auto paused = batches.pause(accepted->id);
  REQUIRE(paused);
  CHECK(paused->pause_reason == "paused by operator");
  auto resumed = batches.resume(accepted->id);
  REQUIRE(resumed);
  CHECK(resumed->status == BatchStatus::scheduled);
  CHECK(wakeups == 2);
  auto cancelled = batches.cancel(accepted->id);
  CHECK(cancelled->status == BatchStatus::cancelled);
  CHECK(count(t, "state = 'cancelled'") == 2);
  CHECK(batches.get("bat_nope").error().code == ErrorCode::not_found);
}

TEST_CASE("BatchService list and recipients validate filters and page", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  auto accepted = batches.accept_batch(inline_request({"a@example.com", "b@example.com", "c@example.com"}), k_options);
  REQUIRE(accepted);
  CHECK(has_field(batches.list({}, std::string("done")).error(), "status"));
  CHECK(batches.list({}, std::string("queued"))->data.size() == 1);
  CHECK(has_field(batches.recipients(accepted->id, {}, std::string("nope")).error(), "state"));
  auto p1 = batches.recipients(accepted->id, {2, "", std::nullopt}, std::nullopt);
  REQUIRE(p1);
  CHECK(p1->data.size() == 2);
  auto p2 = batches.recipients(accepted->id, {2, p1->next_cursor, std::nullopt}, std::nullopt);
  REQUIRE(p2->data.size() == 1);
  CHECK(p2->data[0].email == "c@example.com");
  CHECK(p2->next_cursor.empty());
}

namespace {
/// A JSON object `bytes` long when dumped: {"v":"xxx..."}.
nlohmann::json variables_of_size(std::size_t bytes) { return {{"v", std::string(bytes - 8, 'x')}}; }
}  // namespace

TEST_CASE("BatchService::accept_batch refuses what can never be sent", "[service]") {
  mailer::test::TestDb t;
  BatchService batches(t.db(), t.clock());
  const std::size_t limit = mailer::render::k_max_variables_bytes;
  REQUIRE(variables_of_size(limit).dump().size() == limit);

  SECTION("variables at the size limit are accepted") {
    auto r = inline_request({"a@example.com"});
    r.variables = variables_of_size(limit);
    r.recipients[0].variables = variables_of_size(limit);
    CHECK(batches.accept_batch(r, k_options));
  }
  SECTION("batch and recipient variables over it are refused, naming each") {
    auto r = inline_request({"a@example.com", "b@example.com", "c@example.com"});
    r.variables = variables_of_size(limit + 1);
    r.recipients[2].variables = variables_of_size(limit + 1);
    r.skip_invalid = true;  // refuses bad variables all the same
    auto rejected = batches.accept_batch(r, k_options);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().fields ==
          std::vector<mailer::FieldError>{
              {"variables", "is 1048577 bytes of JSON; at most 1048576 are allowed"},
              {"recipients[2].variables", "is 1048577 bytes of JSON; at most 1048576 are allowed"}});
    CHECK(t.count_rows("batches") == 0);
  }
  SECTION("recipient variables nested too deep") {
    auto r = inline_request({"a@example.com"});
    nlohmann::json deep = "leaf";
    for (int i = 0; i < 1000; ++i) deep = nlohmann::json{{"a", deep}};
    r.recipients[0].variables = deep;
    CHECK(batches.accept_batch(r, k_options).error().fields ==
          std::vector<mailer::FieldError>{{"recipients[0].variables", "variables are nested deeper than 32 levels"}});
  }
  SECTION("a from display name longer than a header line") {
    auto r = inline_request({"a@example.com"});
    r.from = std::string(975, 'N') + " <news@example.com>";  // 975 + 19 = 994 > 988
    CHECK(fields_of(batches.accept_batch(r, k_options).error()) == std::vector<std::string>{"from"});
    r.from = std::string(969, 'N') + " <news@example.com>";  // 988
    CHECK(batches.accept_batch(r, k_options));
  }
  SECTION("a recipient whose variables make the subject unsendable") {
    auto r = inline_request({"a@example.com", "b@example.com", "c@example.com"});
    r.recipients[1].variables = {{"first_name", std::string(5000, 'x')}};
    r.recipients[2].variables = {{"first_name", "Ana\u001b[31m"}};
    r.skip_invalid = true;  // refuses them all the same, as other bad variables
    auto rejected = batches.accept_batch(r, k_options);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().fields ==
          std::vector<mailer::FieldError>{
              {"recipients[1].variables", "rendered subject is 5003 bytes; at most 989 fit a header line"},
              {"recipients[2].variables", "rendered subject contains control character U+001B"}});
    CHECK(t.count_rows("batches") == 0);
  }
  SECTION("batch variables the subject uses count, merged as the sender merges them") {
    auto r = inline_request({"a@example.com", "b@example.com"});
    r.content->subject = "Hi {{first_name}} {{shop}}";
    r.variables = {{"shop", std::string(990, 's')}};
    r.recipients[1].variables = {{"shop", "Short"}};
    auto rejected = batches.accept_batch(r, k_options);
    REQUIRE_FALSE(rejected);
    CHECK(fields_of(rejected.error()) == std::vector<std::string>{"recipients[0].variables"});
  }
  SECTION("an html part over its size bound") {
    auto r = inline_request({"a@example.com"});
    r.content->html = std::string(64u << 20, 'h');
    auto rejected = batches.accept_batch(r, k_options);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().fields ==
          std::vector<mailer::FieldError>{{"content.html", "is 67108864 bytes; at most 1048576 are allowed"}});
  }
}
