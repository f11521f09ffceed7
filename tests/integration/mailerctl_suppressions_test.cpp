// mailerctl suppressions list|add|remove|import|export as a real process.

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>

#include "ctl_fixture.hpp"
#include "support/temp_dir.hpp"

using ctltest::Ctl;

namespace {

using mailer::test::read_file;

std::vector<std::string> emails(const nlohmann::json& page) {
  std::vector<std::string> out;
  for (const auto& s : page["data"]) out.push_back(s["email"]);
  return out;
}

// The export without its created_at column (the one thing an import renews).
std::string without_times(const std::string& csv) {
  std::istringstream in(csv);
  std::string line, out;
  while (std::getline(in, line)) out += line.substr(0, line.rfind(',')) + "\n";
  return out;
}

}  // namespace

TEST_CASE("mailerctl suppressions add, list and remove", "[mailerctl]") {
  Ctl ctl;
  auto added = ctl.json({"suppressions", "add", "Ana@Example.COM", "--reason", "complaint"});
  CHECK(added["email"] == "ana@example.com");
  CHECK(added["scope"] == "all");
  CHECK(ctl.json({"suppressions", "add", "bo@example.net", "--reason", "unsubscribe"})["scope"] == "bulk");
  CHECK(ctl.json({"suppressions", "add", "cy@example.org", "--scope", "bulk"})["reason"] == "manual");

  CHECK(emails(ctl.json({"suppressions", "list"})) ==
        std::vector<std::string>{"ana@example.com", "bo@example.net", "cy@example.org"});
  CHECK(emails(ctl.json({"suppressions", "list", "--reason", "complaint"})) ==
        std::vector<std::string>{"ana@example.com"});
  auto table = ctl.run({"suppressions", "list"});
  CHECK_THAT(table.output, Catch::Contains("bo@example.net") && Catch::Contains("unsubscribe"));

  auto removed = ctl.run({"suppressions", "remove", "ANA@example.com"});
  CHECK(removed.exit_code == 0);
  CHECK(emails(ctl.json({"suppressions", "list"})) == std::vector<std::string>{"bo@example.net", "cy@example.org"});
  CHECK(ctl.run({"suppressions", "remove", "ana@example.com"}).exit_code == 1);  // not suppressed any more

  auto bad = ctl.run({"suppressions", "add", "not-an-email"});
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.errors, Catch::Contains("email"));
}

TEST_CASE("mailerctl suppressions import is all or nothing", "[mailerctl]") {
  Ctl ctl;
  SECTION("good file") {
    auto path = ctl.file("s.csv",
                         "email,reason,scope\r\nana@example.com,bounce,\r\nbo@example.net,,bulk\r\n"
                         "\"cy@example.org\",complaint,all\r\n");
    CHECK(ctl.json({"suppressions", "import", path})["imported"] == 3);
    auto page = ctl.json({"suppressions", "list"});
    REQUIRE(page["data"].size() == 3);
    CHECK(page["data"][0]["reason"] == "bounce");
    CHECK(page["data"][1]["reason"] == "manual");
    CHECK(page["data"][1]["scope"] == "bulk");
  }
  SECTION("rows naming one address in two spellings count once") {
    auto path = ctl.file("s.csv", "email\nA@x.com\na@x.com\nb@x.com\n");
    auto text = ctl.run({"suppressions", "import", path});
    INFO(text.errors);
    REQUIRE(text.exit_code == 0);
    CHECK_THAT(text.output, Catch::Contains("Imported 2 suppression(s)") && Catch::Contains("1 duplicate row(s)"));
    auto imported = ctl.json({"suppressions", "import", path});
    CHECK(imported["imported"] == 2);
    CHECK(imported["duplicates"] == 1);
    CHECK(ctl.json({"suppressions", "list"})["data"].size() == 2);
  }
  SECTION("one bad row: nothing imported, each bad row named by line") {
    auto path = ctl.file("s.csv", "email,reason\nana@example.com,bounce\nnot-an-email,bounce\nbo@example.net,oops\n");
    auto result = ctl.run({"suppressions", "import", path});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("line 3: email") && Catch::Contains("line 4: reason"));
    CHECK(ctl.json({"suppressions", "list"})["data"].empty());
  }
  SECTION("bad detail JSON") {
    auto path = ctl.file("s.csv", "email,detail\nana@example.com,\"{\"\"a\"\":1}\"\nbo@example.com,[1]\n");
    auto result = ctl.run({"suppressions", "import", path});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("line 3: detail: must be a JSON object"));
    CHECK(ctl.json({"suppressions", "list"})["data"].empty());
  }
  SECTION("unknown column") {
    auto result = ctl.run({"suppressions", "import", ctl.file("s.csv", "email,reson\nana@example.com,bounce\n")});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("unknown column \"reson\""));
  }
  SECTION("ragged row") {
    auto result = ctl.run({"suppressions", "import", ctl.file("s.csv", "email,reason\na@example.com\n")});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("s.csv: line 2: expected 2 fields"));
  }
}

TEST_CASE("mailerctl suppressions export round-trips through import", "[mailerctl]") {
  Ctl source;
  source.json({"suppressions", "add", "ana@example.com", "--reason", "bounce"});
  source.json({"suppressions", "add", "bo@example.net", "--reason", "unsubscribe"});
  auto imported = source.file("in.csv",
                              "email,reason,detail\n\"comma,quote\"\"@example.org\",complaint,"
                              "\"{\"\"feedback\"\":\"\"abuse, spam\"\"}\"\n");
  auto quoted = source.run({"suppressions", "import", imported});
  // A quoted local part is not accepted: the import is refused as a whole.
  CHECK(quoted.exit_code == 1);
  source.json({"suppressions", "import",
               source.file("ok.csv",
                           "email,reason,detail\ncy@example.org,complaint,"
                           "\"{\"\"feedback\"\":\"\"abuse, spam\"\"}\"\n")});

  auto stdout_export = source.run({"suppressions", "export"});
  REQUIRE(stdout_export.exit_code == 0);
  CHECK_THAT(stdout_export.output, Catch::StartsWith("email,reason,scope,detail,created_at\r\n"));
  CHECK_THAT(stdout_export.output,
             Catch::Contains("cy@example.org,complaint,all,\"{\"\"feedback\"\":\"\"abuse, spam\"\"}\","));

  auto file = (source.dir / "export.csv").string();
  REQUIRE(source.run({"suppressions", "export", file}).exit_code == 0);
  CHECK(read_file(file) == stdout_export.output);

  Ctl target;
  CHECK(target.json({"suppressions", "import", file})["imported"] == 3);
  auto again = target.run({"suppressions", "export"});
  CHECK(without_times(again.output) == without_times(stdout_export.output));
}

TEST_CASE("mailerctl suppressions exits 2 on bad usage", "[mailerctl]") {
  Ctl ctl;
  CHECK(ctl.run({"suppressions"}).exit_code == 2);
  CHECK(ctl.run({"suppressions", "add"}).exit_code == 2);
  CHECK(ctl.run({"suppressions", "add", "a@example.com", "--scope", "some"}).exit_code == 2);
  CHECK(ctl.run({"suppressions", "add", "a@example.com", "--reason", "angry"}).exit_code == 2);
  CHECK(ctl.run({"suppressions", "import"}).exit_code == 2);
  CHECK(ctl.run({"suppressions", "list", "--limit", "5000"}).exit_code == 2);
}

// mailerctl and the API print a suppression through one function: a detail
// stored before the depth limit existed shows as {} in both, never null in one.
TEST_CASE("mailerctl shows an unreadable stored detail as an empty object", "[mailerctl]") {
  Ctl ctl;
  ctl.json({"suppressions", "add", "deep@example.com"});
  {
    SQLite::Database conn(ctl.db, SQLite::OPEN_READWRITE);
    conn.exec("UPDATE suppressions SET detail_json = '" + std::string(100, '[') + std::string(100, ']') +
              "' WHERE email = 'deep@example.com'");
  }
  auto listed = ctl.json({"suppressions", "list"});
  REQUIRE(listed["data"].size() == 1);
  CHECK(listed["data"][0]["detail"] == nlohmann::json::object());
}
