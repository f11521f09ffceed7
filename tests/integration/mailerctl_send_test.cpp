// mailerctl send and templates: a batch from a CSV file, run as a real process.

#include <catch2/catch.hpp>

#include "ctl_fixture.hpp"

using ctltest::Ctl;

namespace {

// 7 data rows: 3 unique valid, 1 duplicate (domain case), 2 invalid, 1 suppressed.
const std::string k_mixed_csv =
    "email,first_name,city\r\n"
    "ana@example.com,Ana,München\r\n"                     // line 2
    "not-an-email,Nobody,Nowhere\r\n"                     // line 3, invalid
    "\"jose@example.net\",José,\"Washington, D.C.\"\r\n"  // line 4
    "ANA@EXAMPLE.COM,Ana again,Berlin\r\n"                // line 5, duplicate
    "ü@example.com,Ü,Köln\r\n"                            // line 6, invalid
    "blocked@example.org,Blocked,Oslo\r\n"                // line 7, suppressed
    "zoe@example.org,Zoë,Zürich\r\n";                     // line 8

}  // namespace

TEST_CASE("mailerctl send rejects a CSV with invalid rows, listing each, storing nothing", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto path = ctl.file("mixed.csv", k_mixed_csv);
  auto result = ctl.send(path);
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.errors, Catch::Contains("line 3 (recipient 1): email: \"not-an-email\""));
  CHECK_THAT(result.errors, Catch::Contains("line 6 (recipient 4): email: \"ü@example.com\": non-ASCII local part"));
  CHECK(ctl.json({"batches", "list"})["data"].empty());
}

TEST_CASE("mailerctl send --skip-invalid reports exact counts", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  ctl.json({"suppressions", "add", "Blocked@Example.org"});
  auto path = ctl.file("mixed.csv", k_mixed_csv);
  auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                            path, "--skip-invalid", "--tag", "campaign=dec", "--variables-json", R"({"city":"?"})"});
  CHECK(accepted["recipients"] == 7);
  CHECK(accepted["counts"]["accepted"] == 3);
  CHECK(accepted["counts"]["duplicate"] == 1);
  CHECK(accepted["counts"]["suppressed"] == 1);
  REQUIRE(accepted["invalid"].size() == 2);
  CHECK(accepted["invalid"][0]["index"] == 1);
  CHECK(accepted["invalid"][0]["line"] == 3);
  CHECK(accepted["invalid"][0]["address"] == "not-an-email");
  CHECK(accepted["invalid"][1]["line"] == 6);
  CHECK(accepted["invalid"][1]["address"] == "ü@example.com");

  auto batch = ctl.json({"batches", "show", accepted["id"]});
  CHECK(batch["status"] == "queued");
  CHECK(batch["states"]["queued"] == 3);
  CHECK(batch["states"]["suppressed"] == 1);
  CHECK(batch["events"]["SUPPRESSED"] == 1);
  CHECK(batch["tags"]["campaign"] == "dec");
}

TEST_CASE("mailerctl send prints a human summary with the skipped rows", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto result = ctl.send(ctl.file("mixed.csv", k_mixed_csv), {"--skip-invalid", "--detach"});
  INFO(result.errors);
  REQUIRE(result.exit_code == 0);
  CHECK_THAT(result.output, Catch::StartsWith("Batch bat_"));
  CHECK_THAT(result.output, Catch::Contains("LINE  INDEX  ADDRESS"));
  CHECK_THAT(result.output, Catch::Contains("not-an-email"));
}

TEST_CASE("mailerctl send sends the example recipients with the example newsletter", "[mailerctl][examples]") {
  Ctl ctl;
  ctl.json({"seed"});
  std::string dir = std::string(MAILER_SOURCE_DIR) + "/examples/newsletter/";
  auto created = ctl.json({"templates", "create", "--name", "newsletter", "--subject-file", dir + "subject.txt",
                           "--html-file", dir + "newsletter.html", "--text-file", dir + "newsletter.txt"});
  CHECK(created["variables"] == nlohmann::json({"city", "first_name", "plan", "unsubscribe_url"}));
  auto accepted =
      ctl.json({"send", "--detach", "--template", "newsletter", "--from", "Example Manufaktur <news@example.com>",
                "--recipients", std::string(MAILER_SOURCE_DIR) + "/examples/recipients.csv", "--skip-invalid"});
  // examples/gen_recipients.py: 1000 unique (3 seeded suppressions), 6 duplicates, 4 invalid.
  CHECK(accepted["recipients"] == 1010);
  CHECK(accepted["counts"]["accepted"] == 997);
  CHECK(accepted["counts"]["suppressed"] == 3);
  CHECK(accepted["counts"]["duplicate"] == 6);
  CHECK(accepted["invalid"].size() == 4);
}

TEST_CASE("mailerctl send needs no unsubscribe.secret: only mailerd signs links", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  ctl.env.erase("MAILER_UNSUBSCRIBE_SECRET");
  auto csv = ctl.file("good.csv", "email,first_name\nana@example.com,Ana\n");
  auto result = ctl.run({"--json", "send", "--detach", "--template", "news", "--from", "news@example.com",
                         "--recipients", csv});
  REQUIRE(result.exit_code == 0);
  auto accepted = nlohmann::json::parse(result.output);
  CHECK(accepted["counts"]["accepted"] == 1);
  CHECK(accepted["status"] == "queued");
  // ...but says that a mailerd configured as this one would send none of it.
  CHECK_THAT(result.errors, Catch::Contains("warning: unsubscribe.secret is not set"));
  auto list_managed = ctl.run({"send", "--detach", "--template", "news", "--from", "news@example.com",
                               "--recipients", csv, "--contact-list", "customers"});
  CHECK(list_managed.exit_code == 0);
  CHECK(list_managed.errors.empty());
}

TEST_CASE("mailerctl send fails clearly", "[mailerctl]") {
  Ctl ctl;
  ctl.create_template();
  auto good = ctl.file("good.csv", "email,first_name\nana@example.com,Ana\n");
  SECTION("unknown template") {
    auto result = ctl.run({"send", "--template", "nope", "--from", "a@example.com", "--recipients", good});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("no template named \"nope\""));
  }
  SECTION("malformed CSV names the line") {
    auto bad = ctl.file("bad.csv", "email,first_name\nana@example.com,Ana\n\"bo@example.com,Bo\n");
    auto result = ctl.send(bad);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("bad.csv: line 3: unterminated quoted field"));
  }
  SECTION("no email column") {
    auto result = ctl.send(ctl.file("noemail.csv", "mail,first_name\nana@example.com,Ana\n"));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("line 1: no \"email\" column"));
    CHECK_THAT(result.errors, Catch::Contains("found \"mail\", \"first_name\""));
  }
  SECTION("a header-only file is named, with no data rows") {
    auto result = ctl.send(ctl.file("header-only.csv", "email,first_name\n"));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("header-only.csv: no data rows"));
    CHECK_THAT(result.errors, !Catch::Contains("must not be empty"));
  }
  SECTION("a semicolon-separated file is named as such") {
    auto result = ctl.send(ctl.file("semicolon.csv", "email;first_name\nana@example.com;Ana\n"));
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("separated by commas"));
  }
  SECTION("missing file: a usage error naming the flag") {
    auto result = ctl.send((ctl.dir / "missing.csv").string());
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.errors, Catch::Contains("--recipients"));
  }
  SECTION("a directory: a usage error, not an internal one") {
    auto result = ctl.send(ctl.dir.path().string());
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.errors, Catch::Contains("--recipients"));
    CHECK_THAT(result.errors, !Catch::Contains("internal error"));
  }
  SECTION("bad send_at") {
    auto result = ctl.send(good, {"--send-at", "tomorrow"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("send_at"));
  }
  CHECK(ctl.json({"batches", "list"})["data"].empty());
}

TEST_CASE("mailerctl send and templates exit 2 on bad usage", "[mailerctl]") {
  Ctl ctl;
  auto csv = ctl.file("r.csv", "email\nana@example.com\n");
  SECTION("missing --from") { CHECK(ctl.run({"send", "--template", "t", "--recipients", csv}).exit_code == 2); }
  SECTION("bad --tag") { CHECK(ctl.send(csv, {"--tag", "novalue"}).exit_code == 2); }
  SECTION("bad --variables-json") { CHECK(ctl.send(csv, {"--variables-json", "{oops"}).exit_code == 2); }
  SECTION("templates create without parts") {
    CHECK(ctl.run({"templates", "create", "--name", "x", "--subject", "s"}).exit_code == 2);
  }
  SECTION("templates create without subject") {
    CHECK(ctl.run({"templates", "create", "--name", "x", "--text-file", csv}).exit_code == 2);
  }
}

TEST_CASE("mailerctl templates create reports syntax errors and lists templates", "[mailerctl]") {
  Ctl ctl;
  auto bad = ctl.file("bad.txt", "Hi {{#open}}");
  auto result = ctl.run({"templates", "create", "--name", "bad", "--subject", "s", "--text-file", bad});
  CHECK(result.exit_code == 1);
  CHECK_THAT(result.errors, Catch::Contains("text"));
  ctl.create_template("one");
  auto page = ctl.json({"templates", "list"});
  CHECK(page["next_cursor"].is_null());  // every page read
  auto list = page["data"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["name"] == "one");
  CHECK(ctl.run({"templates", "create", "--name", "one", "--subject", "s", "--text-file", bad}).exit_code == 1);
}

TEST_CASE("mailerctl seed is idempotent", "[mailerctl]") {
  Ctl ctl;
  auto first = ctl.json({"seed"});
  REQUIRE(first.size() == 4);
  for (const auto& item : first) CHECK(item["created"] == true);
  auto second = ctl.json({"seed"});
  for (const auto& item : second) CHECK(item["created"] == false);
  CHECK(ctl.json({"templates", "list"})["data"].size() == 1);
  CHECK(ctl.json({"suppressions", "list"})["data"].size() == 3);
}

TEST_CASE("mailerctl send --attach adds files checked as the API checks them", "[mailerctl][attachments]") {
  Ctl ctl;
  ctl.create_template();
  auto csv = ctl.file("r.csv", "email\nana@example.com\nbo@example.com\n");
  SECTION("a PDF is accepted") {
    auto pdf = ctl.file("terms.pdf", "%PDF-1.7 terms");
    auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                              csv, "--attach", pdf + "=application/pdf"});
    CHECK(accepted["counts"]["accepted"] == 2);
  }
  SECTION("a type SES refuses is named by its option, nothing stored") {
    auto exe = ctl.file("setup.exe", "MZ");
    auto result = ctl.send(csv, {"--attach", exe + "=application/pdf"});
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("--attach " + exe + "=application/pdf: filename"));
    CHECK(ctl.json({"batches", "list"})["data"].empty());
  }
  SECTION("too many files are named by the option, not the API's member") {
    std::vector<std::string> args;
    for (int i = 0; i < 11; ++i) {
      args.push_back("--attach");
      args.push_back(ctl.file("f" + std::to_string(i) + ".pdf", "%PDF") + "=application/pdf");
    }
    auto result = ctl.send(csv, args);
    CHECK(result.exit_code == 1);
    CHECK_THAT(result.errors, Catch::Contains("  --attach: "));
    CHECK(ctl.json({"batches", "list"})["data"].empty());
  }
  SECTION("usage errors exit 2") {
    CHECK(ctl.send(csv, {"--attach", "no-type.pdf"}).exit_code == 2);
    CHECK(ctl.send(csv, {"--attach", "/nonexistent/x.pdf=application/pdf"}).exit_code == 2);
    CHECK(ctl.json({"batches", "list"})["data"].empty());
  }
}

TEST_CASE("mailerctl send --contact-list and --topic ask for SES list management", "[mailerctl][list_management]") {
  Ctl ctl;
  ctl.create_template();
  auto csv = ctl.file("r.csv", "email\nana@example.com\n");
  SECTION("shown on the batch") {
    auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                              csv, "--contact-list", "customers", "--topic", "orders"});
    auto batch = ctl.json({"batches", "show", accepted["id"]});
    CHECK(batch["list_management"] == nlohmann::json{{"contact_list_name", "customers"}, {"topic_name", "orders"}});
  }
  SECTION("--topic without --contact-list is a usage error naming both") {
    auto result = ctl.send(csv, {"--topic", "orders"});
    CHECK(result.exit_code == 2);
    CHECK_THAT(result.errors, Catch::Contains("--topic orders: needs --contact-list"));
    CHECK(ctl.json({"batches", "list"})["data"].empty());
  }
  SECTION("the text view names the list and topic") {
    auto accepted = ctl.json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients",
                              csv, "--contact-list", "customers", "--topic", "orders"});
    CHECK_THAT(ctl.run({"batches", "show", accepted["id"]}).output,
               Catch::Contains("list_management") && Catch::Contains("customers / topic orders"));
  }
  SECTION("a name SES refuses, or an empty one, is a usage error naming its option") {
    for (const auto& args : std::vector<std::vector<std::string>>{{"--contact-list", "has space"},
                                                                 {"--contact-list", ""},
                                                                 {"--contact-list", "customers", "--topic", ""}}) {
      auto result = ctl.send(csv, args);
      INFO(args[args.size() - 2] << " '" << args.back() << "'");
      CHECK(result.exit_code == 2);
      CHECK_THAT(result.errors, Catch::Contains(args[args.size() - 2]));
      CHECK_THAT(result.errors, Catch::Contains("must be 1 to 64 ASCII letters, digits, _ or -"));
    }
    CHECK(ctl.json({"batches", "list"})["data"].empty());
  }
}
