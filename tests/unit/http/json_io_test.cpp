#include <catch2/catch.hpp>

#include "mailer/http/json_io.hpp"

using namespace mailer;
using namespace mailer::http;

namespace {

bool has_field(const Error& error, const std::string& field) {
  for (const auto& f : error.fields) {
    if (f.field == field) return true;
  }
  return false;
}

Result<service::BatchRequest> parse_batch(const std::string& body) {
  return json_io::parse_batch_request(body, 100'000);
}

}  // namespace

TEST_CASE("json_io::parse_batch_request maps fields and reports every wrong type", "[http][json_io]") {
  SECTION("a full request") {
    auto parsed = parse_batch(R"({
      "template_id": "tmpl_1", "template_version": 3, "from": "Shop <news@example.com>",
      "reply_to": "help@example.com", "variables": {"shop": "Example"},
      "recipients": [{"email": "ana@example.com", "variables": {"first_name": "Ana"}}, "bo@example.com"],
      "send_at": "2026-12-01T09:00:00Z", "skip_invalid": true})");
    REQUIRE(parsed);
    CHECK(parsed->template_id == "tmpl_1");
    CHECK(parsed->template_version == 3);
    CHECK(parsed->reply_to == std::vector<std::string>{"help@example.com"});
    REQUIRE(parsed->recipients.size() == 2);
    CHECK(parsed->recipients[0].variables["first_name"] == "Ana");
    CHECK(parsed->recipients[1].email == "bo@example.com");
    CHECK(parsed->recipients[1].variables.is_null());
    CHECK(parsed->skip_invalid);
  }
  SECTION("wrong types, unknown fields and missing recipients") {
    auto parsed = parse_batch(R"({"from": 1, "template_version": "3", "skip": true,
                                                   "content": {"subject": 2, "body": "x"}})");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::invalid_input);
    for (const char* field : {"from", "template_version", "skip", "content.subject", "content.body", "recipients"}) {
      INFO(field);
      CHECK(has_field(parsed.error(), field));
    }
  }
  SECTION("recipient items") {
    auto parsed = parse_batch(R"({"from": "a@example.com", "recipients": [{"email": 5}, 7, {}]})");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "recipients[0].email"));
    CHECK(has_field(parsed.error(), "recipients[1]"));
    CHECK(has_field(parsed.error(), "recipients[2].email"));
  }
  SECTION("a misspelt recipient member is an error, not a recipient without variables") {
    auto parsed = parse_batch(
        R"({"from": "a@example.com",
            "recipients": [{"email": "ana@example.com", "variable": {"first_name": "Ana"}}]})");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "recipients[0].variable"));
  }
  SECTION("a template_version out of range names the range") {
    for (const char* version : {"0", "999999999999", "9223372036854775808"}) {
      INFO(version);
      auto parsed =
          parse_batch(std::string(R"({"from":"a@b.c","recipients":["x@y.z"],"template_version":)") + version + "}");
      REQUIRE_FALSE(parsed);
      REQUIRE(parsed.error().fields.size() == 1);
      CHECK(parsed.error().fields[0] == FieldError{"template_version", "must be a whole number from 1 to 1000000000"});
    }
  }
  SECTION("not an object") {
    CHECK_FALSE(parse_batch("[]"));
    CHECK_FALSE(parse_batch("{"));
  }
}

TEST_CASE("json_io::parse_batch_request reads list_management", "[http][json_io]") {
  const std::string head = R"({"from": "a@example.com", "recipients": ["x@example.com"], "list_management": )";
  SECTION("contact list and topic") {
    auto parsed = parse_batch(head + R"({"contact_list_name": "customers", "topic_name": "orders"}})");
    REQUIRE(parsed);
    REQUIRE(parsed->list_management);
    CHECK(parsed->list_management->contact_list_name == "customers");
    CHECK(parsed->list_management->topic_name == "orders");
  }
  SECTION("absent or null: none") {
    auto parsed = parse_batch(head + "null}");
    REQUIRE(parsed);
    CHECK_FALSE(parsed->list_management);
  }
  SECTION("a contact list is required, unknown members and wrong types are refused") {
    auto parsed = parse_batch(head + R"({"topic_name": 7, "contact_list": "customers"}})");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().fields.size() == 3);
    CHECK(has_field(parsed.error(), "list_management.contact_list"));
    CHECK(has_field(parsed.error(), "list_management.contact_list_name"));
    CHECK(has_field(parsed.error(), "list_management.topic_name"));
  }
  SECTION("not an object") {
    auto parsed = parse_batch(head + R"("customers"})");
    REQUIRE_FALSE(parsed);
    REQUIRE(parsed.error().fields.size() == 1);
    CHECK(parsed.error().fields[0] ==
          FieldError{"list_management", "must be an object with contact_list_name"});
  }
}

TEST_CASE("json_io::parse_page_params checks numbers", "[http][json_io]") {
  json_io::QueryParams params{{"limit", "20"}, {"offset", "40"}};
  auto page = json_io::parse_page_params(params);
  REQUIRE(page);
  CHECK(page->limit == 20);
  CHECK(page->offset == 40);
  CHECK(page->cursor.empty());
  CHECK_FALSE(json_io::parse_page_params({{"limit", "0"}}));
  CHECK_FALSE(json_io::parse_page_params({{"limit", "1001"}}));
  CHECK_FALSE(json_io::parse_page_params({{"limit", "5x"}}));
  CHECK_FALSE(json_io::parse_page_params({{"offset", "-1"}}));
  CHECK(json_io::parse_page_params({})->limit == std::nullopt);
}

TEST_CASE("json_io::parse_older_than takes an age or a time", "[http][json_io]") {
  const std::int64_t now = 10LL * 86'400'000;
  CHECK(*json_io::parse_older_than("2d", now) == 8LL * 86'400'000);
  CHECK(*json_io::parse_older_than("90s", now) == now - 90'000);
  CHECK(*json_io::parse_older_than("15m", now) == now - 900'000);
  CHECK(*json_io::parse_older_than("1h30m", now) == now - 5'400'000);  // as mailerctl --older-than
  CHECK(*json_io::parse_older_than("1970-01-02T00:00:00Z", now) == 86'400'000);
  for (const char* bad : {"", "d", "3w", "-1d", "1.5h", "soon"}) {
    INFO(bad);
    auto parsed = json_io::parse_older_than(std::string(bad), now);
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "older_than"));
  }
  CHECK_FALSE(json_io::parse_older_than(std::nullopt, now));
}

TEST_CASE("json_io::parse_older_than refuses a cut-off after now and names the largest age", "[http][json_io]") {
  const std::int64_t now = 10LL * 86'400'000;
  CHECK(*json_io::parse_older_than("0s", now) == now);
  CHECK(*json_io::parse_older_than("1970-01-11T00:00:00Z", now) == now);
  auto future = json_io::parse_older_than("1970-01-11T00:00:01Z", now);
  REQUIRE_FALSE(future);
  REQUIRE(future.error().fields.size() == 1);
  CHECK(future.error().fields[0].field == "older_than");
  CHECK_THAT(future.error().fields[0].message, Catch::Contains("must not be in the future"));
  auto too_old = json_io::parse_older_than("36501d", now);
  REQUIRE_FALSE(too_old);
  REQUIRE(too_old.error().fields.size() == 1);
  CHECK(too_old.error().fields[0] == FieldError{"older_than", "must be at most 36500d (100 years)"});
}

TEST_CASE("json_io::check_single_values refuses a query parameter given more than once", "[http][json_io]") {
  CHECK(json_io::check_single_values({}));
  CHECK(json_io::check_single_values({{"all", "true"}, {"limit", "5"}}));
  auto twice = json_io::check_single_values({{"all", "true"}, {"all", "false"}, {"limit", "5"}});
  REQUIRE_FALSE(twice);
  CHECK(twice.error().code == ErrorCode::invalid_input);
  CHECK(twice.error().fields == std::vector<FieldError>{{"all", "given more than once"}});
  CHECK(twice.error().detail == "query parameter 'all' is given more than once");
  auto both = json_io::check_single_values({{"a", "1"}, {"a", "1"}, {"b", ""}, {"b", ""}, {"b", ""}});
  REQUIRE_FALSE(both);
  CHECK(both.error().fields == std::vector<FieldError>{{"a", "given more than once"}, {"b", "given more than once"}});
}

TEST_CASE("json_io::parse_template_input and parse_message_request", "[http][json_io]") {
  auto t = json_io::parse_template_input(R"({"name": "n", "subject": "s", "html": null, "text": "t"})");
  REQUIRE(t);
  CHECK_FALSE(t->html);
  CHECK(t->text == "t");
  auto m = json_io::parse_message_request(R"({"from": "a@example.com", "to": "b@example.com",
                                             "reply_to": ["c@example.com", 4]})");
  REQUIRE_FALSE(m);
  CHECK(has_field(m.error(), "reply_to[1]"));
  auto s = json_io::parse_suppression_input(R"({"email": "a@example.com", "detail": []})");
  REQUIRE_FALSE(s);
  CHECK(has_field(s.error(), "detail"));
}

TEST_CASE("json_io parsers refuse deep nesting and name the field", "[http][json_io]") {
  // Each of these was a SIGSEGV once: the deep value was copied recursively.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  SECTION("a recipient's variables") {
    auto parsed = parse_batch(R"({"from":"a@b.c","recipients":[{"email":"x@y.z","variables":)" + deep + "}]}");
    REQUIRE_FALSE(parsed);
    CHECK(parsed.error().code == ErrorCode::invalid_input);
    CHECK(has_field(parsed.error(), "recipients[0].variables"));
  }
  SECTION("batch metadata") {
    auto parsed = parse_batch(R"({"from":"a@b.c","recipients":[],"metadata":)" + deep + "}");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "metadata"));
  }
  SECTION("a suppression's detail") {
    auto parsed = json_io::parse_suppression_input(R"({"email":"a@b.c","detail":{"x":)" + deep + "}}");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "detail"));
  }
  SECTION("render variables") {
    auto parsed = json_io::parse_render_request(R"({"variables":)" + deep + "}");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "variables"));
  }
  SECTION("a transactional message's variables") {
    auto parsed = json_io::parse_message_request(R"({"from":"a@b.c","to":"x@y.z","variables":)" + deep + "}");
    REQUIRE_FALSE(parsed);
    CHECK(has_field(parsed.error(), "variables"));
  }
}
