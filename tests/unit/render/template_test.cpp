#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "mailer/render/template.hpp"

using mailer::ErrorCode;
using mailer::FieldError;
using nlohmann::json;
namespace render = mailer::render;

namespace {

render::CompiledTemplate compile(std::string subject, std::optional<std::string> html,
                                 std::optional<std::string> text = std::nullopt) {
  auto compiled = render::compile_template({std::move(subject), std::move(html), std::move(text)});
  REQUIRE(compiled);
  return *compiled;
}

render::RenderedMessage render_ok(const render::CompiledTemplate& t, const json& variables) {
  auto rendered = render::render(t, variables);
  REQUIRE(rendered);
  return *rendered;
}

std::vector<FieldError> compile_errors(std::string subject, std::optional<std::string> html,
                                       std::optional<std::string> text = std::nullopt) {
  auto compiled = render::compile_template({std::move(subject), std::move(html), std::move(text)});
  REQUIRE_FALSE(compiled);
  CHECK(compiled.error().code == ErrorCode::invalid_input);
  CHECK(compiled.error().detail == "template is invalid");
  const auto& fields = compiled.error().fields;
  return {fields.begin(), fields.end()};
}

}  // namespace

TEST_CASE("render::render leaves subject and text unescaped", "[render]") {
  auto t = compile("{{who}}", std::nullopt, "Hi {{who}}, {{&who}} {{{who}}}");
  auto m = render_ok(t, {{"who", "Tom & Jerry <tj@example.com>"}});
  CHECK(m.subject == "Tom & Jerry <tj@example.com>");
  CHECK(*m.text == "Hi Tom & Jerry <tj@example.com>, Tom & Jerry <tj@example.com> Tom & Jerry <tj@example.com>");
  CHECK_FALSE(m.html.has_value());
}

TEST_CASE("render::render escapes {{x}} in html and leaves {{{x}}} raw", "[render]") {
  auto t = compile("s", "<p>{{x}}</p>{{{x}}}{{&x}}", "{{x}}");
  auto m = render_ok(t, {{"x", "<script>alert('1\"')</script>&"}});
  CHECK(*m.html ==
        "<p>&lt;script&gt;alert(&apos;1&quot;&apos;)&lt;/script&gt;&amp;</p>"
        "<script>alert('1\"')</script>&<script>alert('1\"')</script>&");
  CHECK(*m.text == "<script>alert('1\"')</script>&");
}

TEST_CASE("render::render sections, inverted sections and value types", "[render]") {
  auto t = compile("s", std::nullopt,
                   "{{#items}}[{{name}}:{{price}}]{{/items}}{{^items}}none{{/items}}"
                   "|{{#vip}}VIP{{/vip}}{{^vip}}regular{{/vip}}"
                   "|{{#first_name}}Hi {{first_name}}{{/first_name}}{{^first_name}}Hi there{{/first_name}}"
                   "|{{shop.name}}|{{#shop}}{{url}}{{/shop}}|{{count}}|{{flag}}|{{nothing}}|{{#tags}}{{.}},{{/tags}}");
  SECTION("filled") {
    json v = {{"items", json::array({{{"name", "Pen"}, {"price", 1.5}}, {{"name", "Ink"}, {"price", 12}}})},
              {"vip", true},
              {"first_name", "Ana"},
              {"shop", {{"name", "Example"}, {"url", "https://shop.example"}}},
              {"count", 0},
              {"flag", true},
              {"nothing", nullptr},
              {"tags", {"a", "b"}}};
    CHECK(*render_ok(t, v).text == "[Pen:1.5][Ink:12]|VIP|Hi Ana|Example|https://shop.example|0|||a,b,");
  }
  SECTION("empty or missing") {
    json v = {{"items", json::array()}, {"vip", false}, {"first_name", ""}};
    CHECK(*render_ok(t, v).text == "none|regular|Hi there||||||");
  }
  SECTION("non-object variables render as empty") {
    CHECK(*render_ok(t, json::array({1, 2})).text == "none|regular|Hi there||||||");
  }
}

TEST_CASE("render::render keeps unicode untouched", "[render]") {
  auto t = compile("Grüße {{name}} ✓", "<p>{{name}} — ünïcödé ✓</p>", "{{name}}");
  auto m = render_ok(t, {{"name", "Grüße — ünïcödé ✓"}});
  CHECK(m.subject == "Grüße Grüße — ünïcödé ✓ ✓");
  CHECK(*m.html == "<p>Grüße — ünïcödé ✓ — ünïcödé ✓</p>");
  CHECK(*m.text == "Grüße — ünïcödé ✓");
}

TEST_CASE("render::render refuses a subject a variable broke into lines", "[render]") {
  auto t = compile("Hello {{name}}", std::nullopt, "x");
  for (std::string bad : {"Ana\r\nBcc: x@example.com", "Ana\nB", "Ana\rB"}) {
    auto rendered = render::render(t, {{"name", bad}});
    REQUIRE_FALSE(rendered);
    CHECK(rendered.error().code == ErrorCode::invalid_input);
    CHECK(rendered.error().fields == std::vector<FieldError>{{"subject", "rendered subject contains a line break"}});
  }
  CHECK(render_ok(t, {{"name", "Ana"}}).subject == "Hello Ana");
}

TEST_CASE("render::compile_template reports syntax errors with part and position", "[render]") {
  SECTION("each part, all at once") {
    auto errors = compile_errors("Hi {{name", "<p>\n  {{#items}}x</p>", "a\nb\n{{/open}}");
    CHECK(errors == std::vector<FieldError>{
                        {"subject", "Unclosed tag at line 1, column 4"},
                        {"html", "Unclosed section \"items\" at line 2, column 3"},
                        {"text", "Unopened section \"open\" at line 3, column 1"},
                    });
  }
  SECTION("columns count characters, not bytes") {
    CHECK(compile_errors("s", "ünï {{x", std::nullopt) ==
          std::vector<FieldError>{{"html", "Unclosed tag at line 1, column 5"}});
  }
  SECTION("a section closed by the wrong end tag points at the end tag") {
    CHECK(compile_errors("s", "{{#a}}\n{{#b}}x{{/a}}{{/b}}", "{{^a}}x\n  {{/ b }}") ==
          std::vector<FieldError>{{"html", "Section \"b\" is closed by \"a\" at line 2, column 8"},
                                  {"text", "Section \"a\" is closed by \"b\" at line 2, column 3"}});
  }
  SECTION("bad set delimiter") {
    CHECK(compile_errors("s", std::nullopt, "ok\n {{=<%=}}") ==
          std::vector<FieldError>{{"text", "Invalid set delimiter tag at line 2, column 2"}});
  }
  SECTION("unclosed triple mustache") {
    CHECK(compile_errors("s", "{{{x}}", std::nullopt) ==
          std::vector<FieldError>{{"html", "Unclosed tag at line 1, column 1"}});
  }
  SECTION("partials are refused, also inside sections and after a delimiter change") {
    CHECK(compile_errors("s", "{{#a}}\n  {{> footer}}{{/a}}", "{{=<% %>=}}\n<%>x%>") ==
          std::vector<FieldError>{{"html", "partials are not supported at line 2, column 3"},
                                  {"text", "partials are not supported at line 2, column 1"}});
  }
  SECTION("missing parts") {
    CHECK(compile_errors("", std::nullopt, "") ==
          std::vector<FieldError>{{"subject", "must not be empty"},
                                  {"html", "at least one of html and text is required"}});
  }
  SECTION("subject with a line break") {
    CHECK(compile_errors("Hello\r\n{{name}}", std::nullopt, "x") ==
          std::vector<FieldError>{{"subject", "line breaks are not allowed at line 1, column 6"}});
  }
}

TEST_CASE("render::compile_template lists the variables used", "[render]") {
  auto t = compile("{{shop.name}} news for {{first_name}}",
                   "{{! comment }}{{#items}}{{title}}{{/items}}{{{raw}}}{{&amp}}<a href=\"{{unsubscribe_url}}\">",
                   "{{=<% %>=}}<%email%> <%^vip%>x<%/vip%> {{not_a_tag}} <%.%>");
  CHECK(t.variables() == std::vector<render::TemplateVariable>{{"amp", false},
                                                               {"email", true},
                                                               {"first_name", false},
                                                               {"items", false},
                                                               {"raw", false},
                                                               {"shop", false},
                                                               {"title", false},
                                                               {"unsubscribe_url", true},
                                                               {"vip", false}});
  CHECK(t.has_html());
  CHECK(t.has_text());
  CHECK_FALSE(compile("s", "", "t").has_html());
}

TEST_CASE("render::use_ses_unsubscribe_placeholder keeps SES's placeholder through rendering", "[render]") {
  auto t = compile("News", "<a href=\"{{amazonSESUnsubscribeUrl}}\">x</a> {{{amazonSESUnsubscribeUrl}}} {{unsubscribe_url}}",
                   "Leave: {{amazonSESUnsubscribeUrl}} or {{unsubscribe_url}}");
  auto variables = render::merge_variables({{"amazonSESUnsubscribeUrl", "overridden"}}, json::object(),
                                           {"a@example.com", "", "bat_1"});
  render::use_ses_unsubscribe_placeholder(variables);
  auto out = render_ok(t, variables);
  CHECK(*out.html ==
        "<a href=\"{{amazonSESUnsubscribeUrl}}\">x</a> {{amazonSESUnsubscribeUrl}} {{amazonSESUnsubscribeUrl}}");
  CHECK(*out.text == "Leave: {{amazonSESUnsubscribeUrl}} or {{amazonSESUnsubscribeUrl}}");
  // Without it the name is an ordinary variable: unset, it renders as nothing.
  auto plain = render_ok(t, render::merge_variables(nullptr, nullptr, {"a@example.com", "", ""}));
  CHECK(*plain.text == "Leave:  or ");
}

TEST_CASE("render::merge_variables lets the recipient win and built-ins win over both", "[render]") {
  json batch = {{"shop", {{"name", "Example"}, {"url", "u"}}}, {"greeting", "Hi"}, {"drop", 1}, {"email", "fake"}};
  json recipient = {{"shop", {{"name", "Other"}}}, {"first_name", "Ana"}, {"drop", nullptr}};
  auto merged = render::merge_variables(batch, recipient, {"ana@example.com", "https://x/u/t", "bat_1"});
  CHECK(merged == json{{"shop", {{"name", "Other"}, {"url", "u"}}},
                       {"greeting", "Hi"},
                       {"first_name", "Ana"},
                       {"email", "ana@example.com"},
                       {"unsubscribe_url", "https://x/u/t"},
                       {"batch_id", "bat_1"}});
  CHECK(render::merge_variables(nullptr, "junk", {"a@b.example", "", ""}) ==
        json{{"email", "a@b.example"}, {"unsubscribe_url", ""}, {"batch_id", ""}});
}

TEST_CASE("render::render is safe from several threads on one template", "[render]") {
  auto t = compile("Hi {{n}}", "<p>{{#items}}{{.}}{{/items}}</p>", "{{n}}");
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 500; ++k) {
        auto m = render::render(t, {{"n", std::to_string(i)}, {"items", {1, 2}}});
        if (!m || m->subject != "Hi " + std::to_string(i) || *m->html != "<p>12</p>") ++failures[i];
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == std::vector<int>{0, 0, 0, 0});
}

namespace {
/// {"a":{"a":...{"a":"leaf"}...}} with `depth` objects; parsed, because building it
/// by nesting copies would take quadratic time.
json nested(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{\"a\":";
  text += "\"leaf\"" + std::string(static_cast<std::size_t>(depth), '}');
  return json::parse(text);
}
}  // namespace

TEST_CASE("render::check_variables and render bound the nesting depth", "[render]") {
  CHECK(render::check_variables(nullptr));
  CHECK(render::check_variables(json::object()));
  CHECK(render::check_variables(nested(render::k_max_variable_depth)));
  auto not_object = render::check_variables(json::array());
  REQUIRE_FALSE(not_object);
  CHECK(not_object.error().detail == "variables must be a JSON object");
  auto too_deep = render::check_variables(nested(render::k_max_variable_depth + 1));
  REQUIRE_FALSE(too_deep);
  CHECK(too_deep.error().code == ErrorCode::invalid_input);
  CHECK(too_deep.error().detail == "variables are nested deeper than 32 levels");
  CHECK(render::check_variables(json{{"l", json::array({nested(30)})}}));  // 32 levels
  CHECK_FALSE(render::check_variables(json{{"l", json::array({nested(31)})}}));

  auto t = compile("s", std::nullopt, "{{a.a.a}}");
  CHECK(*render_ok(t, nested(render::k_max_variable_depth)).text == "");
  CHECK(*render_ok(t, nested(3)).text == "leaf");
  auto rendered = render::render(t, nested(100000));
  REQUIRE_FALSE(rendered);
  CHECK(rendered.error().fields ==
        std::vector<FieldError>{{"variables", "variables are nested deeper than 32 levels"}});
}

namespace {
/// `depth` sections nested in one another, each opened on its own line.
std::string nested_sections(int depth) {
  std::string text;
  for (int i = 0; i < depth; ++i) text += "{{#s" + std::to_string(i) + "}}\n";
  for (int i = depth - 1; i >= 0; --i) text += "{{/s" + std::to_string(i) + "}}";
  return text;
}
}  // namespace

TEST_CASE("render::compile_template bounds section nesting before parsing", "[render]") {
  SECTION("the limit itself compiles and renders") {
    auto t = compile("s", std::nullopt, nested_sections(render::k_max_section_depth));
    CHECK(render_ok(t, json::object()).text == "");
  }
  SECTION("one more is refused at the opening tag, in every part") {
    const std::string deep = nested_sections(render::k_max_section_depth + 1);
    auto errors = compile_errors("s", deep, "x\n" + deep);
    CHECK(errors ==
          std::vector<FieldError>{{"html", "sections are nested deeper than 32 levels at line 33, column 1"},
                                  {"text", "sections are nested deeper than 32 levels at line 34, column 1"}});
  }
  SECTION("inverted sections count too") {
    std::string text;
    for (int i = 0; i < 33; ++i) text += "{{^x}}";
    for (int i = 0; i < 33; ++i) text += "{{/x}}";
    CHECK(compile_errors("s", std::nullopt, text) ==
          std::vector<FieldError>{{"text", "sections are nested deeper than 32 levels at line 1, column 193"}});
  }
  SECTION("20,000 levels (240 KB) are refused at the 33rd") {
    // Before the bound, kainjow took 9.4 s and 2.95 GB on this text.
    const std::string deep = nested_sections(20000);
    REQUIRE(deep.size() > 200000);
    auto errors = compile_errors("s", deep);
    CHECK(errors.size() == 1);
    CHECK(errors[0].message == "sections are nested deeper than 32 levels at line 33, column 1");
  }
}

TEST_CASE("render::compile_template bounds the size of each part", "[render]") {
  CHECK(render::compile_template(
      {std::string(render::k_max_subject_bytes, 's'), std::nullopt, std::string(render::k_max_body_part_bytes, 't')}));
  CHECK(compile_errors(std::string(render::k_max_subject_bytes + 1, 's'),
                       std::string(render::k_max_body_part_bytes + 1, 'h'),
                       std::string(render::k_max_body_part_bytes + 2, 't')) ==
        std::vector<FieldError>{{"subject", "is 990 bytes; at most 989 are allowed"},
                                {"html", "is 1048577 bytes; at most 1048576 are allowed"},
                                {"text", "is 1048578 bytes; at most 1048576 are allowed"}});
}

TEST_CASE("render::render refuses a message SES would refuse for its size", "[render]") {
  SECTION("a long value fits; one that passes 40 MiB after base64 does not") {
    auto t = compile("s", std::nullopt, "{{{body}}}");
    CHECK(render_ok(t, {{"body", std::string(20 << 20, 'x')}}).text->size() == 20u << 20);
    auto rendered = render::render(t, {{"body", std::string(31 << 20, 'x')}});
    REQUIRE_FALSE(rendered);
    CHECK(rendered.error().fields ==
          std::vector<FieldError>{{"variables",
                                   "the rendered message would be more than 41943040 bytes after base64 encoding; "
                                   "SES accepts at most 41943040"}});
  }
  SECTION("a section repeated by list items stops early, without building the output") {
    // 2,000 x 2,000 items x 1 KB = 4 GB of output, from a few KB of variables.
    auto t = compile("s", std::nullopt, "{{#rows}}{{#cols}}" + std::string(1000, 'x') + "{{/cols}}{{/rows}}");
    json rows = json::array();
    for (int i = 0; i < 2000; ++i) rows.push_back(json::object());
    auto rendered = render::render(t, {{"rows", rows}, {"cols", rows}});
    REQUIRE_FALSE(rendered);
    CHECK(rendered.error().fields.at(0).field == "variables");
  }
  SECTION("a repeated section charges its own body, not the largest one") {
    // 10,000 items of a 20-byte section next to a 200 KB block: 400 KB of output,
    // far below the bound, though 10,000 x 200 KB would not be.
    auto t =
        compile("s", std::nullopt,
                "{{#promo}}" + std::string(200000, 'p') + "{{/promo}}{{#items}}[{{#name}}{{.}}{{/name}}]{{/items}}");
    json items = json::array();
    for (int i = 0; i < 10000; ++i) items.push_back({{"name", "n" + std::to_string(i)}});
    auto m = render_ok(t, {{"promo", true}, {"items", items}});
    CHECK(m.text->size() == 200000 + 10 * 4 + 90 * 5 + 900 * 6 + 9000 * 7);
  }
  SECTION("a subject over a header line") {
    auto t = compile("{{s}}", std::nullopt, "t");
    CHECK(render_ok(t, {{"s", std::string(render::k_max_subject_bytes, 's')}}).subject.size() == 989);
    auto rendered = render::render(t, {{"s", std::string(render::k_max_subject_bytes + 1, 's')}});
    REQUIRE_FALSE(rendered);
    CHECK(rendered.error().fields ==
          std::vector<FieldError>{{"subject", "rendered subject is 990 bytes; at most 989 fit a header line"}});
  }
}

TEST_CASE("subjects refuse control characters as templates and rendered", "[render]") {
  SECTION("in the template, with the position") {
    CHECK(compile_errors("Hi\x01 there", std::nullopt, "t") ==
          std::vector<FieldError>{{"subject", "control character U+0001 is not allowed at line 1, column 3"}});
    for (std::string bad : {std::string("a\0b", 3), std::string("a\tb"), std::string("a\x1b[1mb"), std::string("a\x7f"),
                            std::string("\xc2\x85next line")}) {
      INFO(bad);
      auto errors = compile_errors(bad, std::nullopt, "t");
      REQUIRE(errors.size() == 1);
      CHECK(errors[0].message.find("is not allowed at line 1") != std::string::npos);
    }
    CHECK(compile("Grüße \xc2\xa0 ✓", std::nullopt, "t").has_text());  // U+00A0 is printable
  }
  SECTION("rendered from a variable, with the reason as the detail") {
    auto t = compile("Hi {{name}}", std::nullopt, "t");
    auto rendered = render::render(t, {{"name", "Ana\u0085"}});
    REQUIRE_FALSE(rendered);
    CHECK(rendered.error().detail == "rendered subject contains control character U+0085");
    CHECK(rendered.error().fields ==
          std::vector<FieldError>{{"subject", "rendered subject contains control character U+0085"}});
    auto tab = render::render_subject(t, {{"name", "A\tB"}});
    REQUIRE_FALSE(tab);
    CHECK(tab.error().detail == "rendered subject contains control character U+0009");
  }
}

TEST_CASE("render::render_subject renders and checks the subject as render does", "[render]") {
  auto t = compile("Hi {{first_name}} {{#vip}}(VIP){{/vip}}", std::nullopt, "{{body}}");
  CHECK(*render::render_subject(t, {{"first_name", "Ana"}, {"vip", true}}) == "Hi Ana (VIP)");
  auto long_name = render::render_subject(t, {{"first_name", std::string(5000, 'x')}});
  REQUIRE_FALSE(long_name);
  CHECK(long_name.error().detail == "rendered subject is 5004 bytes; at most 989 fit a header line");
  CHECK(render::subject_variables_of(t, {{"first_name", "A"}, {"body", "B"}, {"vip", 1}}) ==
        json{{"first_name", "A"}, {"vip", 1}});
  CHECK(render::subject_variables_of(t, json::array()) == json::object());
}

TEST_CASE("render::SubjectRenderer gives what render_subject gives on the merged variables", "[render]") {
  auto t = compile("Hi {{first_name}}{{#shop}} from {{shop.name}}{{/shop}} {{tier}} <{{email}}> {{batch_id}}", "x");
  const json batch = {{"shop", {{"name", "Acme"}, {"city", "Porto"}}}, {"tier", "gold"}, {"unused", 1}};
  const render::BuiltIns built_ins{"", "", "bat_1"};
  render::SubjectRenderer renderer(t, batch, built_ins);
  // In an order that makes the renderer undo what the recipient before set.
  const std::vector<json> recipients = {
      {{"first_name", "Ana"}},
      {{"first_name", "Bo"}, {"tier", 3}, {"extra", "x"}},
      {{"tier", nullptr}},                                  // null removes the batch's value
      {{"shop", {{"name", "Mine"}}}},                       // an object merges into the batch's
      {{"first_name", json::array({1, 2})}},                // an array is a value like any other
      {{"first_name", ""}},                                 // "" is falsy, as in to_data
      {{"email", "spoof@example.com"}, {"batch_id", "x"}},  // built-ins win
      json(nullptr),
      {{"first_name", std::string(5000, 'x')}},
      {{"first_name", "Ana\u001b[31m"}},
      {{"first_name", "Cy"}},
  };
  for (std::size_t i = 0; i < recipients.size(); ++i) {
    const std::string email = "r" + std::to_string(i) + "@example.com";
    auto expected = render::render_subject(
        t, render::merge_variables(batch, recipients[i], {email, built_ins.unsubscribe_url, built_ins.batch_id}));
    auto got = renderer.render(email, recipients[i]);
    INFO("recipient " << i << ": " << recipients[i].dump());
    REQUIRE(static_cast<bool>(got) == static_cast<bool>(expected));
    if (expected) CHECK(*got == *expected);
    else CHECK(got.error().detail == expected.error().detail);
  }
  SECTION("too deep, as render_subject counts the merged object") {
    json deep = "leaf";
    for (int i = 0; i < render::k_max_variable_depth; ++i) deep = json::array({deep});
    auto got = renderer.render("a@example.com", {{"first_name", deep}});
    auto expected = render::render_subject(
        t, render::merge_variables(batch, {{"first_name", deep}}, {"a@example.com", "", "bat_1"}));
    REQUIRE_FALSE(got);
    REQUIRE_FALSE(expected);
    CHECK(got.error().detail == expected.error().detail);
  }
}

TEST_CASE("render::encoded_message_bytes counts base64 with CRLF every 76 characters", "[render]") {
  CHECK(render::encoded_message_bytes({"", std::nullopt, std::nullopt}) == 0);
  CHECK(render::encoded_message_bytes({"abc", std::nullopt, std::nullopt}) == 4 + 2);
  CHECK(render::encoded_message_bytes({"", std::string(57, 'h'), std::string(58, 't')}) == (76 + 2) + (80 + 4));
}
