// mailerctl events list|export as a real process, on events written through
// the store (as mailerd's engine and SNS feedback write them).

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ctl_fixture.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/store/events.hpp"
#include "support/temp_dir.hpp"

using ctltest::Ctl;
using nlohmann::json;

namespace {

constexpr std::int64_t k_base_ms = 1'764'547'200'000;  // 2025-12-01T00:00:00Z

// `count` events, `per_ms` of them sharing each millisecond (ties the keyset
// must order by id), types alternating SENT and DELIVERY.
void add_events(Ctl& ctl, int count, int per_ms = 1) {
  auto db = mailer::store::Database::open(ctl.db);
  REQUIRE(db);
  std::vector<mailer::store::Event> events;
  for (int i = 0; i < count; ++i) {
    mailer::store::Event e;
    e.type = i % 2 == 0 ? "SENT" : "DELIVERY";
    e.email = "user" + std::to_string(i) + "@example.com";
    e.detail_json = R"({"n":)" + std::to_string(i) + "}";
    e.occurred_at_ms = k_base_ms + i / per_ms;
    events.push_back(e);
  }
  REQUIRE(mailer::store::EventRepo(**db).insert(events));
}

std::vector<json> lines_of(const std::string& text) {
  std::vector<json> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

using mailer::test::read_file;

int count_lines_with(const std::string& text, const std::string& needle) {
  int n = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) n += line.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

std::string at(std::int64_t offset_ms) { return mailer::format_rfc3339(k_base_ms + offset_ms); }

}  // namespace

TEST_CASE("mailerctl events list pages with the API's filters and objects", "[mailerctl][events]") {
  Ctl ctl;
  add_events(ctl, 30);
  auto first = ctl.json({"events", "list", "--limit", "10"});
  REQUIRE(first["data"].size() == 10);
  CHECK(first["data"][0]["type"] == "SENT");
  CHECK(first["data"][0]["detail"] == json({{"n", 0}}));
  CHECK(first["data"][0]["occurred_at"] == at(0));
  for (const char* member : {"id", "type", "batch_id", "message_id", "email", "metadata", "detail", "occurred_at"})
    CHECK(first["data"][0].contains(member));
  REQUIRE(first["next_cursor"].is_string());
  auto second = ctl.json({"events", "list", "--limit", "10", "--cursor", first["next_cursor"]});
  CHECK(second["data"][0]["detail"] == json({{"n", 10}}));

  CHECK(ctl.json({"events", "list", "--type", "DELIVERY", "--limit", "100"})["data"].size() == 15);
  auto one = ctl.json({"events", "list", "--email", "USER3@Example.com"});
  REQUIRE(one["data"].size() == 1);
  CHECK(one["data"][0]["detail"] == json({{"n", 3}}));
  auto window = ctl.json({"events", "list", "--since", at(5), "--until", at(8)});
  CHECK(window["data"].size() == 3);

  auto text = ctl.run({"events", "list", "--limit", "2"});
  CHECK(text.exit_code == 0);
  CHECK_THAT(text.output, Catch::Contains("TYPE") && Catch::Contains("user1@example.com") &&
                              Catch::Contains("events list --limit 2 --cursor "));
  // The pointer to the next page keeps the filters it was listed with.
  auto filtered = ctl.run({"events", "list", "--type", "DELIVERY", "--limit", "10"});
  CHECK_THAT(filtered.output, Catch::Contains("events list --type DELIVERY --limit 10 --cursor "));
  auto next = ctl.run_more(filtered.output);
  CHECK(next.exit_code == 0);
  CHECK(count_lines_with(next.output, "DELIVERY") == 5);
}

TEST_CASE("mailerctl events list names the flag of a bad filter", "[mailerctl][events]") {
  Ctl ctl;
  auto bad_type = ctl.run({"events", "list", "--type", "BOGUS"});
  CHECK(bad_type.exit_code == 2);
  CHECK_THAT(bad_type.errors, Catch::Contains("--type: must be one of SENT"));
  auto bad_time = ctl.run({"events", "list", "--since", "yesterday"});
  CHECK(bad_time.exit_code == 2);
  CHECK_THAT(bad_time.errors, Catch::Contains("--since: must be an RFC 3339 timestamp"));
  auto long_id = ctl.run({"events", "list", "--ses-message-id", std::string(300, 'x')});
  CHECK(long_id.exit_code == 2);
  CHECK_THAT(long_id.errors, Catch::Contains("--ses-message-id: at most 256 bytes"));
}

TEST_CASE("mailerctl events export writes every event of the range as API objects", "[mailerctl][events]") {
  Ctl ctl;
  add_events(ctl, 2500, 7);  // pages of 1000 end inside runs of equal times
  auto listed = ctl.json({"events", "list", "--limit", "1000"});

  auto all = ctl.run({"events", "export"});
  REQUIRE(all.exit_code == 0);
  auto lines = lines_of(all.output);
  REQUIRE(lines.size() == 2500);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    INFO(i);
    REQUIRE(lines[i]["detail"]["n"] == i);  // every event once, in time then id order
  }
  for (std::size_t i = 0; i < 1000; ++i) REQUIRE(lines[i] == listed["data"][i]);  // the API's object

  // 7 events share each millisecond: [since, until) takes whole milliseconds.
  auto window = lines_of(ctl.run({"events", "export", "--since", at(10), "--until", at(20)}).output);
  REQUIRE(window.size() == 70);
  CHECK(window.front()["detail"]["n"] == 70);
  CHECK(window.back()["detail"]["n"] == 139);

  auto delivery = lines_of(ctl.run({"events", "export", "--type", "DELIVERY", "--until", at(100)}).output);
  CHECK(delivery.size() == 350);
  for (const auto& line : delivery) CHECK(line["type"] == "DELIVERY");

  CHECK(ctl.run({"events", "export", "--since", at(1'000'000)}).output.empty());
}

TEST_CASE("mailerctl events export --output replaces the file only when complete", "[mailerctl][events]") {
  Ctl ctl;
  add_events(ctl, 20);
  auto path = ctl.file("archive.jsonl", "old archive\n");

  SECTION("a refused export leaves the old file and no temporary file") {
    auto refused = ctl.run({"events", "export", "--since", at(10), "--until", at(5), "--output", path});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.errors, Catch::Contains("--until: must be after since"));
    CHECK(read_file(path) == "old archive\n");
    int files = 0;
    for (const auto& entry : std::filesystem::directory_iterator(ctl.dir.path()))
      files += entry.path().filename().string().starts_with("archive.jsonl");
    CHECK(files == 1);
  }
  SECTION("a complete export replaces it") {
    auto done = ctl.json({"events", "export", "--output", path});
    CHECK(done["exported"] == 20);
    CHECK(lines_of(read_file(path)).size() == 20);
    CHECK((std::filesystem::status(path).permissions() & std::filesystem::perms::others_read) ==
          std::filesystem::perms::none);
  }
  SECTION("--gzip compresses it") {
    auto done = ctl.run({"events", "export", "--gzip", "--output", path + ".gz"});
    REQUIRE(done.exit_code == 0);
    CHECK_THAT(done.output, Catch::Contains("Exported 20 event(s) to"));
    CHECK(read_file(path + ".gz").substr(0, 2) == "\x1f\x8b");
    auto unpacked = mailer::test::run_command({"/usr/bin/gzip", "-dc", path + ".gz"});
    REQUIRE(unpacked.exit_code == 0);
    CHECK(lines_of(unpacked.output) == lines_of(ctl.run({"events", "export"}).output));
  }
  SECTION("--gzip does not write binary to a terminal") {
    auto refused = ctl.run_in_terminal({"events", "export", "--gzip"});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.output, Catch::Contains("--gzip: stdout is a terminal"));
  }
  SECTION("an unwritable place fails and creates nothing") {
    auto missing = (ctl.dir / "no-such-dir" / "a.jsonl").string();
    auto failed = ctl.run({"events", "export", "--output", missing});
    CHECK(failed.exit_code == 1);
    CHECK_THAT(failed.errors, Catch::Contains("no-such-dir"));
    CHECK_FALSE(std::filesystem::exists(missing));
    auto directory = ctl.run({"events", "export", "--output", ctl.dir.path().string()});
    CHECK(directory.exit_code == 2);
    CHECK_THAT(directory.errors, Catch::Contains("is a directory"));
  }
  SECTION("a symbolic link is written through, and stays a link") {
    auto link = ctl.dir / "latest.jsonl";
    std::filesystem::create_symlink(path, link);
    auto done = ctl.json({"events", "export", "--output", link.string()});
    CHECK(done["exported"] == 20);
    CHECK(std::filesystem::is_symlink(link));
    CHECK(lines_of(read_file(path)).size() == 20);
  }
  SECTION("a pipe or device is refused, never replaced by the rename") {
    auto fifo = (ctl.dir / "pipe").string();
    REQUIRE(mailer::test::run_command({"/usr/bin/mkfifo", fifo}).exit_code == 0);
    auto refused = ctl.run({"events", "export", "--output", fifo});
    CHECK(refused.exit_code == 2);
    CHECK_THAT(refused.errors, Catch::Contains("not a regular file"));
    CHECK(std::filesystem::is_fifo(fifo));
  }
}

TEST_CASE("mailerctl events export validates its flags, naming them", "[mailerctl][events]") {
  Ctl ctl;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const auto& c : std::vector<Case>{
           {{"--since", "2026-13-01"}, "--since: must be an RFC 3339 timestamp"},
           {{"--until", "soon"}, "--until: must be an RFC 3339 timestamp"},
           {{"--since", "2026-01-02T00:00:00Z", "--until", "2026-01-01T00:00:00Z"}, "--until: must be after since"},
           {{"--since", "2999-01-01T00:00:00Z"}, "--since: must be before now"},
           {{"--type", "sent"}, "--type: must be one of SENT"},
       }) {
    std::vector<std::string> args{"events", "export"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    auto result = ctl.run(args);
    INFO(result.errors);
    CHECK(result.exit_code == 2);
    CHECK(result.output.empty());
    CHECK_THAT(result.errors, Catch::Contains(c.message));
  }
}
