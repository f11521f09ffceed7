#include <catch2/catch.hpp>

#include <chrono>

#include "mailer/core/json.hpp"
#include "mailer/core/json_stream.hpp"

using namespace mailer;

namespace {

std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// {"recipients":[{"email":"a@b.c","variables":{"a":{"a":...{}}}}]} with `depth` objects under variables.
std::string deep_batch(int depth) {
  std::string variables;
  for (int i = 0; i < depth - 1; ++i) variables += R"({"a":)";
  variables += "{}" + std::string(depth - 1, '}');
  return R"({"from":"x@y.z","recipients":[{"email":"a@b.c","variables":)" + variables + "}]}";
}

}  // namespace

TEST_CASE("parse_json accepts documents up to the depth limit", "[core][json]") {
  auto at_limit = parse_json(nested_arrays(64), "body");
  REQUIRE(at_limit);
  CHECK(at_limit->dump() == nested_arrays(64));
  auto document = parse_json(R"({"a":[1,"x",{"b":null}],"c":true,"d":-2.5,"e":18446744073709551615})", "body");
  REQUIRE(document);
  CHECK((*document)["a"][2].contains("b"));
  CHECK((*document)["e"].get<std::uint64_t>() == 18446744073709551615ull);
  CHECK(parse_json("\"text\"", "body")->get<std::string>() == "text");
}

TEST_CASE("parse_json refuses nesting past the limit and names the field", "[core][json]") {
  SECTION("65 levels") {
    auto deep = parse_json(nested_arrays(65), "request body");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().code == ErrorCode::invalid_input);
    CHECK(deep.error().detail.starts_with("request body nests deeper than 64 levels at [0][0]"));
  }
  SECTION("a recipient's variables") {
    auto deep = parse_json(deep_batch(100), "request body");
    REQUIRE_FALSE(deep);
    REQUIRE(deep.error().fields.size() == 1);
    CHECK(deep.error().fields[0].field == "recipients[0].variables");
    CHECK(deep.error().fields[0].message == "nests deeper than 64 levels");
    // Nesting from the root: object, recipients array, recipient object, 61 levels of variables.
    CHECK(deep.error().detail.starts_with("request body nests deeper than 64 levels at recipients[0].variables.a.a"));
    CHECK(parse_json(deep_batch(61), "request body"));
    CHECK_FALSE(parse_json(deep_batch(62), "request body"));
  }
  SECTION("a top-level member") {
    auto deep = parse_json(R"({"Type":"Notification","Subject":)" + nested_arrays(100) + "}", "body");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().fields[0].field == "Subject");
  }
  SECTION("a custom limit") {
    auto deep = parse_json(R"({"a":[[1]]})", "body", {.max_depth = 2});
    REQUIRE_FALSE(deep);
    CHECK(deep.error().detail == "body nests deeper than 2 levels at a[0]");
    CHECK(deep.error().fields[0].field == "a");
  }
  SECTION("a long path is shortened") {
    std::string key(300, 'k');
    auto deep = parse_json(R"({")" + key + R"(":)" + nested_arrays(70) + "}", "body");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().detail.size() < 300);
    CHECK(deep.error().detail.ends_with("..."));
  }
}

TEST_CASE("parse_json stops at once on 100,000 levels", "[core][json]") {
  // Once a SIGSEGV: copying or dumping such a value recursed per level.
  const std::string hostile = std::string(100'000, '[') + std::string(100'000, ']');
  auto deep = parse_json(hostile, "body", {.max_bytes = k_size_checked_elsewhere});
  REQUIRE_FALSE(deep);
  CHECK(deep.error().code == ErrorCode::invalid_input);
  // Stopped where the bound was passed, not after reading 100,000 levels.
  CHECK(deep.error().detail.starts_with("body nests deeper than 64 levels at [0][0]"));
  CHECK(deep.error().detail.size() < 300);
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += R"({"a":)";
  CHECK_FALSE(parse_json(objects, "body", {.max_bytes = k_size_checked_elsewhere}));
}

TEST_CASE("parse_json refuses text over the size limit before parsing", "[core][json]") {
  auto big = parse_json(std::string(2 * 1024 * 1024, ' ') + "{}", "SES answer");
  REQUIRE_FALSE(big);
  CHECK(big.error().code == ErrorCode::too_large);
  CHECK(big.error().detail == "SES answer is larger than 1048576 bytes");
  CHECK(parse_json("[1, 2]", "body", {.max_bytes = 6}));
  CHECK(parse_json("[1, 2] ", "body", {.max_bytes = 6}).error().code == ErrorCode::too_large);
}

TEST_CASE("parse_json refuses malformed text without echoing it", "[core][json]") {
  for (std::string text : {"", "{", "{\"secret-ish\":", "[1,]", "{} {}", "nul", "\"\xff\"", "{'a':1}", "// c\n{}"}) {
    INFO(text);
    auto bad = parse_json(text, "IMDS answer");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code == ErrorCode::invalid_input);
    CHECK(bad.error().detail.starts_with("IMDS answer is not valid JSON (at byte "));
    CHECK(bad.error().detail.find("secret") == std::string::npos);
  }
}

TEST_CASE("string_member, number_member and bool_member never throw", "[core][json]") {
  auto object = *parse_json(R"({"s":"x","n":1.5,"i":3,"b":false,"wrong":"fast","null":null})", "body");
  CHECK(*string_member(object, "s") == "x");
  CHECK(*number_member(object, "n") == 1.5);
  CHECK(*number_member(object, "i") == 3);
  CHECK_FALSE(*bool_member(object, "b"));
  CHECK(number_member(object, "wrong").error().detail == "wrong: must be a number");
  CHECK(bool_member(object, "wrong").error().detail == "wrong: must be a boolean");
  CHECK(string_member(object, "n").error().detail == "n: must be a string");
  CHECK(string_member(object, "null").error().detail == "null: must be a string");
  CHECK(number_member(object, "absent").error().detail == "absent: missing");
  CHECK(number_member(object, "absent").error().fields[0].field == "absent");
  CHECK(string_member(nlohmann::json::array(), "s").error().detail == "s: missing");
}

TEST_CASE("stored_json_or_empty reads stored text and falls back to an empty object", "[core][json]") {
  CHECK(mailer::stored_json_or_empty(R"({"a":[1]})") == nlohmann::json{{"a", {1}}});
  CHECK(mailer::stored_json_or_empty("not json") == nlohmann::json::object());
  CHECK(mailer::stored_json_or_empty(std::string(100, '[') + std::string(100, ']')) == nlohmann::json::object());
}

TEST_CASE("parse_json refuses a member named twice and names where", "[core][json]") {
  SECTION("at the top level") {
    auto twice = parse_json(R"({"to":"a@b.c","subject":"x","to":"evil@x.y"})", "request body");
    REQUIRE_FALSE(twice);
    CHECK(twice.error().code == ErrorCode::invalid_input);
    CHECK(twice.error().detail == "request body has the member 'to' twice at to");
    REQUIRE(twice.error().fields.size() == 1);
    CHECK(twice.error().fields[0].field == "to");
  }
  SECTION("inside a recipient") {
    auto twice = parse_json(R"({"recipients":[{"email":"a@b.c"},{"email":"d@e.f","email":"g@h.i"}]})", "body");
    REQUIRE_FALSE(twice);
    CHECK(twice.error().detail == "body has the member 'email' twice at recipients[1].email");
    CHECK(twice.error().fields[0].field == "recipients[1].email");
  }
  SECTION("a long name is shortened") {
    std::string key(5000, 'k');
    auto twice = parse_json(R"({")" + key + R"(":1,")" + key + R"(":2})", "body");
    REQUIRE_FALSE(twice);
    CHECK(twice.error().detail.size() < 400);
  }
  SECTION("the same name in different objects is fine") {
    CHECK(parse_json(R"({"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]})", "body"));
  }
}

TEST_CASE("parse_json_streaming hands over the list's elements as they are read", "[core][json]") {
  std::vector<std::pair<std::size_t, nlohmann::json>> taken;
  TakeElement take = [&](std::size_t index, nlohmann::json&& element) {
    taken.emplace_back(index, std::move(element));
  };
  SECTION("elements in order, the member left empty, everything else kept") {
    auto parsed =
        parse_json_streaming(R"({"a":[1],"recipients":["x",{"email":"y","v":[1,{"k":2}]},[3]],"z":{"recipients":[4]}})",
                             "request body", {}, "recipients", take);
    REQUIRE(parsed);
    CHECK(*parsed == nlohmann::json::parse(R"({"a":[1],"recipients":[],"z":{"recipients":[4]}})"));
    REQUIRE(taken.size() == 3);
    CHECK(taken[0] == std::pair<std::size_t, nlohmann::json>{0, "x"});
    CHECK(taken[1].first == 1);
    CHECK(taken[1].second == nlohmann::json::parse(R"({"email":"y","v":[1,{"k":2}]})"));
    CHECK(taken[2].second == nlohmann::json::parse("[3]"));
  }
  SECTION("not an array, or not at the top: parsed as parse_json does") {
    auto parsed = parse_json_streaming(R"({"recipients":{"a":[1]}})", "request body", {}, "recipients", take);
    REQUIRE(parsed);
    CHECK((*parsed)["recipients"] == nlohmann::json::parse(R"({"a":[1]})"));
    CHECK(taken.empty());
    CHECK(parse_json_streaming("[[1]]", "request body", {}, "recipients", take));
    CHECK(taken.empty());
  }
  SECTION("error paths count the elements already taken") {
    std::string body = R"({"recipients":[{"email":"a"},{"email":"b"},{"email":"c","email":"d"}]})";
    auto duplicate = parse_json_streaming(body, "request body", {}, "recipients", take);
    REQUIRE_FALSE(duplicate);
    CHECK(duplicate.error().detail == parse_json(body, "request body").error().detail);
    CHECK(duplicate.error().fields[0].field == "recipients[2].email");
    auto deep = parse_json_streaming(deep_batch(100), "request body", {}, "recipients", take);
    REQUIRE_FALSE(deep);
    CHECK(deep.error().detail == parse_json(deep_batch(100), "request body").error().detail);
  }
}
