#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/service/messages.hpp"
#include "mailer/service/suppressions.hpp"
#include "mailer/service/templates.hpp"
#include "support/test_db.hpp"
#include "test_helpers.hpp"

using mailer::ErrorCode;
using mailer::store::MessageState;
using mailer::test::fields_of;
using namespace mailer::service;

namespace {
MessageRequest reset_mail(std::string to) {
  MessageRequest r;
  r.from = "Shop <no-reply@example.com>";
  r.to = {std::move(to)};
  r.content = ContentInput{"Reset your password", std::nullopt, "Code {{code}}"};
  r.variables = {{"code", "1234"}};
  r.tags = {{"kind", "reset"}};
  return r;
}
}  // namespace

TEST_CASE("MessageService::enqueue_message queues one transactional message", "[service]") {
  mailer::test::TestDb t;
  int wakeups = 0;
  MessageService messages(t.db(), t.clock(), [&] { ++wakeups; });
  auto accepted = messages.enqueue_message(reset_mail("Ana@Example.com"));
  REQUIRE(accepted);
  CHECK(accepted->status == MessageState::queued);
  CHECK(wakeups == 1);
  SQLite::Statement row(t.db().sql(),
                        "SELECT kind, priority, batch_id, email, subject, text, variables_json, tags_json "
                        "FROM messages WHERE id = ?");
  row.bind(1, accepted->id);
  REQUIRE(row.executeStep());
  CHECK(row.getColumn(0).getString() == "transactional");
  CHECK(row.getColumn(1).getInt() == 0);
  CHECK(row.getColumn(2).isNull());
  CHECK(row.getColumn(3).getString() == "Ana@example.com");
  CHECK(row.getColumn(4).getString() == "Reset your password");
  CHECK(row.getColumn(5).getString() == "Code {{code}}");
  CHECK(row.getColumn(6).getString() == R"({"code":"1234"})");
  CHECK(row.getColumn(7).getString() == R"({"kind":"reset"})");
  auto got = messages.get_message(accepted->id);
  REQUIRE(got);
  CHECK(got->state == MessageState::queued);
  CHECK(messages.get_message("msg_nope").error().code == ErrorCode::not_found);
}

TEST_CASE("MessageService copies template content and keeps the pin", "[service]") {
  mailer::test::TestDb t;
  TemplateService templates(t.db(), t.clock());
  auto tmpl = templates.create({"reset", "Reset", std::nullopt, "Code {{code}}"});
  MessageService messages(t.db(), t.clock());
  auto request = reset_mail("ana@example.com");
  request.content.reset();
  request.template_id = tmpl->id;
  auto accepted = messages.enqueue_message(request);
  REQUIRE(accepted);
  auto got = messages.get_message(accepted->id);
  CHECK(got->template_id == tmpl->id);
  CHECK(got->template_version == 1);
  CHECK(t.db().sql().execAndGet("SELECT subject FROM messages").getString() == "Reset");
}

TEST_CASE("MessageService honours only scope-all suppressions", "[service]") {
  mailer::test::TestDb t;
  SuppressionService suppressions(t.db(), t.clock());
  REQUIRE(suppressions.add({"unsub@example.com", "unsubscribe", std::nullopt}));
  REQUIRE(suppressions.add({"bounced@example.com", "bounce", std::nullopt}));
  int wakeups = 0;
  MessageService messages(t.db(), t.clock(), [&] { ++wakeups; });
  CHECK(messages.enqueue_message(reset_mail("unsub@example.com"))->status == MessageState::queued);
  auto blocked = messages.enqueue_message(reset_mail("BOUNCED@example.com"));
  REQUIRE(blocked);
  CHECK(blocked->status == MessageState::suppressed);
  CHECK(wakeups == 1);
  auto got = messages.get_message(blocked->id);
  REQUIRE(got->events.size() == 1);
  CHECK(got->events[0].type == "SUPPRESSED");
}

TEST_CASE("MessageService::enqueue_message reports every invalid field", "[service]") {
  mailer::test::TestDb t;
  MessageService messages(t.db(), t.clock());
  MessageRequest r;
  r.from = "";
  r.to = {"nobody"};
  r.variables = 3;
  r.configuration_set = std::string(65, 'a');
  auto rejected = messages.enqueue_message(r);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().code == ErrorCode::invalid_input);
  CHECK(fields_of(rejected.error()) ==
        std::vector<std::string>{"from", "to", "template_id", "variables", "configuration_set"});
  CHECK(t.count_rows("messages") == 0);
}

TEST_CASE("MessageService::enqueue_message refuses a message SES would refuse", "[service]") {
  mailer::test::TestDb t;
  MessageService messages(t.db(), t.clock());
  SECTION("variables that render past 40 MiB") {
    // 512 KiB of variables, repeated 100 times by a section: 50 MiB of text.
    auto r = reset_mail("ana@example.com");
    r.content = ContentInput{"Report", std::nullopt, "{{#rows}}{{{blob}}}{{/rows}}"};
    nlohmann::json rows = nlohmann::json::array();
    for (int i = 0; i < 100; ++i) rows.push_back(nlohmann::json::object());
    r.variables = {{"rows", rows}, {"blob", std::string(512 << 10, 'x')}};
    auto rejected = messages.enqueue_message(r);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error().code == ErrorCode::invalid_input);
    REQUIRE(fields_of(rejected.error()) == std::vector<std::string>{"variables"});
    CHECK(rejected.error().fields[0].message.find("SES accepts at most 41943040") != std::string::npos);
    CHECK(t.count_rows("messages") == 0);
  }
  SECTION("a subject a variable made too long or broke into lines") {
    auto r = reset_mail("ana@example.com");
    r.content = ContentInput{"Re: {{topic}}", std::nullopt, "t"};
    r.variables = {{"topic", std::string(1000, 't')}};
    CHECK(messages.enqueue_message(r).error().fields ==
          std::vector<mailer::FieldError>{
              {"variables", "rendered subject is 1004 bytes; at most 989 fit a header line"}});
    r.variables = {{"topic", "a\r\nBcc: x@example.com"}};
    CHECK(messages.enqueue_message(r).error().fields ==
          std::vector<mailer::FieldError>{{"variables", "rendered subject contains a line break"}});
    CHECK(t.count_rows("messages") == 0);
  }
  SECTION("a 64 MiB body") {
    auto r = reset_mail("ana@example.com");
    r.content->text = std::string(64u << 20, 't');
    CHECK(messages.enqueue_message(r).error().fields ==
          std::vector<mailer::FieldError>{{"content.text", "is 67108864 bytes; at most 1048576 are allowed"}});
  }
  SECTION("a reply-to display name longer than a header line") {
    auto r = reset_mail("ana@example.com");
    r.reply_to = {"ok@example.com", std::string(2000, 'R') + " <r@example.com>"};
    CHECK(fields_of(messages.enqueue_message(r).error()) == std::vector<std::string>{"reply_to[1]"});
  }
}

TEST_CASE("MessageService::enqueue_message takes cc, bcc, headers and metadata", "[service]") {
  mailer::test::TestDb t;
  MessageService messages(t.db(), t.clock());
  auto r = reset_mail("ana@example.com");
  r.to.push_back("Bo@Example.com");
  r.cc = {"cy@example.com"};
  r.bcc = {"audit@example.com"};
  r.headers = {{"X-Entity-Ref", "4711"}};
  r.metadata = {{"order", "A-1"}};
  auto accepted = messages.enqueue_message(r);
  REQUIRE(accepted);
  auto got = messages.get_message(accepted->id);
  REQUIRE(got);
  CHECK(got->email == "ana@example.com");
  CHECK(*got->destinations_json ==
        R"({"bcc":["audit@example.com"],"cc":["cy@example.com"],"to":["ana@example.com","Bo@example.com"]})");
  CHECK(*got->headers_json == R"({"X-Entity-Ref":"4711"})");
  CHECK(*got->metadata_json == R"({"order":"A-1"})");
  CHECK(*got->suppressed_json == "[]");
}

TEST_CASE("MessageService::enqueue_message bounds destinations", "[service]") {
  mailer::test::TestDb t;
  MessageService messages(t.db(), t.clock());
  auto r = reset_mail("ana@example.com");
  SECTION("51 in all names the list that passes 50") {
    for (int i = 0; i < 49; ++i) r.cc.push_back("cc" + std::to_string(i) + "@example.com");
    REQUIRE(messages.enqueue_message(r));  // 50
    r.bcc = {"one-more@example.com"};
    auto refused = messages.enqueue_message(r);
    REQUIRE_FALSE(refused);
    REQUIRE(fields_of(refused.error()) == std::vector<std::string>{"bcc"});
    CHECK(refused.error().fields[0].message ==
          "51 recipients in to, cc and bcc; at most 50 are allowed (the SES limit)");
  }
  SECTION("every bad address by index, a repeat in any case, no to") {
    r.to = {"ana@example.com", "nope"};
    r.cc = {"ANA@example.com"};
    CHECK(fields_of(messages.enqueue_message(r).error()) == std::vector<std::string>{"to[1]", "cc"});
    r.to.clear();
    r.cc = {"cy@example.com"};
    CHECK(fields_of(messages.enqueue_message(r).error()) == std::vector<std::string>{"to"});
  }
  SECTION("headers and metadata are named") {
    r.headers = {{"Bcc", "x@example.com"}, {"X-Ok", "fine"}, {"X-Bad", "a\r\nb"}};
    r.metadata = {{"n", 1}};
    CHECK(fields_of(messages.enqueue_message(r).error()) ==
          std::vector<std::string>{"headers.Bcc", "headers.X-Bad", "metadata.n"});
  }
  CHECK(t.count_rows("events") == 0);
}

TEST_CASE("MessageService drops suppressed destinations and reports them", "[service]") {
  mailer::test::TestDb t;
  SuppressionService suppressions(t.db(), t.clock());
  REQUIRE(suppressions.add({"cc-bounced@example.com", "bounce", std::nullopt}));
  REQUIRE(suppressions.add({"to-bounced@example.com", "complaint", std::nullopt}));
  MessageService messages(t.db(), t.clock());
  auto r = reset_mail("to-bounced@example.com");
  r.cc = {"cc-bounced@example.com", "cy@example.com"};
  auto accepted = messages.enqueue_message(r);
  REQUIRE(accepted);
  CHECK(accepted->status == MessageState::queued);
  auto got = messages.get_message(accepted->id);
  CHECK(got->email == "cy@example.com");
  CHECK(*got->destinations_json == R"({"bcc":[],"cc":["cy@example.com"],"to":[]})");
  CHECK(*got->suppressed_json == R"([{"email":"to-bounced@example.com","field":"to","reason":"complaint"},)"
                                 R"({"email":"cc-bounced@example.com","field":"cc","reason":"bounce"}])");
  REQUIRE(got->events.size() == 2);
  CHECK(got->events[0].type == "SUPPRESSED");
  CHECK(got->events[1].email == "cc-bounced@example.com");

  r.cc = {"cc-bounced@example.com"};
  auto all = messages.enqueue_message(r);
  REQUIRE(all);
  CHECK(all->status == MessageState::suppressed);
  CHECK(messages.get_message(all->id)->email == "to-bounced@example.com");
}

TEST_CASE("MessageService::enqueue_messages answers per message, or refuses all", "[service]") {
  mailer::test::TestDb t;
  int wakeups = 0;
  MessageService messages(t.db(), t.clock(), [&] { ++wakeups; });
  std::vector<mailer::Result<MessageRequest>> batch{reset_mail("a@example.com"), reset_mail("nope"),
                                                    mailer::Error{ErrorCode::invalid_input, "unreadable"},
                                                    reset_mail("b@example.com")};
  SECTION("default: the valid ones are stored") {
    auto results = messages.enqueue_messages(batch, Atomic::no);
    REQUIRE(results);
    REQUIRE(results->size() == 4);
    CHECK((*results)[0].has_value());
    CHECK(fields_of((*results)[1].error()) == std::vector<std::string>{"to"});
    CHECK((*results)[2].error().detail == "unreadable");
    CHECK((*results)[3]->status == MessageState::queued);
    CHECK(t.count_rows("messages") == 2);
    CHECK(wakeups == 1);
  }
  SECTION("atomic: one invalid refuses all, fields by index") {
    auto refused = messages.enqueue_messages(batch, Atomic::yes);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().detail == "2 of 4 messages are invalid; none was stored");
    CHECK(fields_of(refused.error()) == std::vector<std::string>{"messages[1].to", "messages[2]"});
    CHECK(t.count_rows("messages") == 0);
    CHECK(wakeups == 0);
  }
  SECTION("more than 500 is too large") {
    std::vector<mailer::Result<MessageRequest>> many(501, reset_mail("a@example.com"));
    CHECK(messages.enqueue_messages(many, Atomic::no).error().code == ErrorCode::too_large);
    CHECK(t.count_rows("messages") == 0);
  }
}
