#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "mailer/service/csv.hpp"
#include "support/temp_dir.hpp"

using mailer::ErrorCode;
using mailer::service::csv_record;
using mailer::service::CsvTable;
using mailer::service::read_csv;

namespace {

mailer::Result<CsvTable> parse(const std::string& text) {
  std::istringstream in(text);
  return read_csv(in, "recipients.csv");
}

CsvTable parse_ok(const std::string& text) {
  auto table = parse(text);
  INFO((table ? std::string() : table.error().detail));
  REQUIRE(table);
  return std::move(*table);
}

std::string parse_error(const std::string& text) {
  auto table = parse(text);
  REQUIRE_FALSE(table);
  CHECK(table.error().code == ErrorCode::invalid_input);
  return table.error().detail;
}

}  // namespace

TEST_CASE("read_csv reads a header and records with their lines", "[service][csv]") {
  auto table = parse_ok("email,first_name\nana@example.com,Ana\nbo@example.com,Bo\n");
  CHECK(table.header == std::vector<std::string>{"email", "first_name"});
  REQUIRE(table.rows.size() == 2);
  CHECK(table.rows[0].line == 2);
  CHECK(table.rows[1].fields == std::vector<std::string>{"bo@example.com", "Bo"});
  CHECK(table.column("EMAIL") == 0u);
  CHECK(table.column("first_name") == 1u);
  CHECK_FALSE(table.column("city"));
}

TEST_CASE("read_csv undoes RFC 4180 quoting", "[service][csv]") {
  SECTION("embedded comma, doubled quote and empty quoted field") {
    auto table = parse_ok("a,b,c\n\"x, y\",\"say \"\"hi\"\"\",\"\"\n");
    CHECK(table.rows.at(0).fields == std::vector<std::string>{"x, y", "say \"hi\"", ""});
  }
  SECTION("embedded line breaks keep the record's first line") {
    auto table = parse_ok("a,b\n\"one\ntwo\r\nthree\",z\nlast,row\n");
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0].fields[0] == "one\ntwo\r\nthree");
    CHECK(table.rows[0].line == 2);
    CHECK(table.rows[1].line == 5);
  }
  SECTION("spaces are data") {
    auto table = parse_ok("a,b\n x , y\n");
    CHECK(table.rows.at(0).fields == std::vector<std::string>{" x ", " y"});
  }
}

TEST_CASE("read_csv accepts CRLF, a BOM, no final newline and empty lines", "[service][csv]") {
  SECTION("CRLF") {
    auto table = parse_ok("email,name\r\nana@example.com,Ana\r\n");
    CHECK(table.header == std::vector<std::string>{"email", "name"});
    CHECK(table.rows.at(0).fields == std::vector<std::string>{"ana@example.com", "Ana"});
  }
  SECTION("UTF-8 byte order mark is dropped") {
    auto table = parse_ok(
        "\xEF\xBB\xBF"
        "email\nana@example.com\n");
    CHECK(table.header.at(0) == "email");
    CHECK(table.column("email") == 0u);
  }
  SECTION("last record without a line break") {
    auto table = parse_ok("a,b\n1,2");
    CHECK(table.rows.at(0).fields == std::vector<std::string>{"1", "2"});
  }
  SECTION("empty lines are skipped but counted") {
    auto table = parse_ok("\na,b\n\n\r\n1,2\n\n");
    REQUIRE(table.rows.size() == 1);
    CHECK(table.rows[0].line == 5);
  }
  SECTION("UTF-8 text") {
    auto table = parse_ok("name,city\nZoë,München\n佐藤,Łódź\n");
    CHECK(table.rows.at(0).fields[0] == "Zoë");
    CHECK(table.rows.at(1).fields == std::vector<std::string>{"佐藤", "Łódź"});
  }
}

TEST_CASE("read_csv names the line of every malformed input", "[service][csv]") {
  SECTION("ragged row") {
    CHECK(parse_error("a,b\n1,2\n3\n") == "recipients.csv: line 3: expected 2 fields as in the header, found 1");
    CHECK(parse_error("a,b\n1,2,3\n") == "recipients.csv: line 2: expected 2 fields as in the header, found 3");
  }
  SECTION("unterminated quote names the line it opened on") {
    CHECK(parse_error("a,b\n1,2\n3,4\n5,6\n6,7\n7,8\n\"open,8\nmore\n") ==
          "recipients.csv: line 7: unterminated quoted field");
  }
  SECTION("stray quote") {
    CHECK_THAT(parse_error("a,b\n1,2\nx\"y,3\n"), Catch::StartsWith("recipients.csv: line 3: stray quote"));
    CHECK_THAT(parse_error("a,b\n\"x\"y,3\n"), Catch::StartsWith("recipients.csv: line 2: stray quote"));
  }
  SECTION("invalid UTF-8") {
    CHECK(parse_error("a,b\n1,\xC3\x28\n") == "recipients.csv: line 2: field 2 is not valid UTF-8");
    CHECK(parse_error("a\n\xC0\xAF\n") == "recipients.csv: line 2: field 1 is not valid UTF-8");  // overlong '/'
    CHECK(parse_error("a\n\xE2\x82\n") == "recipients.csv: line 2: field 1 is not valid UTF-8");  // truncated
  }
  SECTION("header problems") {
    CHECK(parse_error("") == "recipients.csv: line 1: no header row (the file is empty)");
    CHECK(parse_error("email,,name\n") == "recipients.csv: line 1: column 2 has no name");
    CHECK(parse_error("email,Email\n") == "recipients.csv: line 1: column \"Email\" appears twice");
  }
}

TEST_CASE("read_csv(path) reads files and names them in errors", "[service][csv]") {
  mailer::test::TempDir dir;
  auto path = dir / "list.csv";
  std::ofstream(path) << "email\nana@example.com\n";
  auto table = read_csv(path);
  REQUIRE(table);
  CHECK(table->rows.size() == 1);
  auto missing = read_csv(dir / "missing.csv");
  REQUIRE_FALSE(missing);
  CHECK_THAT(missing.error().detail, Catch::StartsWith((dir / "missing.csv").string() + ": cannot open"));
  auto directory = read_csv(dir.path());
  REQUIRE_FALSE(directory);
  CHECK_THAT(directory.error().detail, Catch::EndsWith("is a directory, not a CSV file"));
}

TEST_CASE("csv_record quotes what RFC 4180 requires and reads back", "[service][csv]") {
  std::vector<std::string> values{"plain", "a,b", "say \"hi\"", "two\nlines", " padded", "Zoë", ""};
  std::string record = csv_record(values);
  CHECK(record == "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",\" padded\",Zoë,\r\n");
  std::vector<std::string> header{"1", "2", "3", "4", "5", "6", "7"};
  auto table = parse_ok(csv_record(header) + record);
  CHECK(table.rows.at(0).fields == values);
}

// Found by fuzz/csv.cpp: both records below read back differently before.
TEST_CASE("csv_record output reads back when a field looks like a BOM or a record is empty", "[service][csv]") {
  SECTION("a first field starting with U+FEFF is quoted, not dropped as a byte order mark") {
    const std::string bom_name = "\xEF\xBB\xBF\temail";
    CHECK(csv_record({bom_name, "x"}) == "\"" + bom_name + "\",x\r\n");
    auto table = parse_ok(csv_record({bom_name, "x"}));
    CHECK(table.header == std::vector<std::string>{bom_name, "x"});
  }
  SECTION("a record of one empty field is written as \"\" and kept") {
    CHECK(csv_record({""}) == "\"\"\r\n");
    auto table = parse_ok(csv_record({"email"}) + csv_record({""}) + csv_record({"a@example.com"}));
    REQUIRE(table.rows.size() == 2);
    CHECK(table.rows[0].fields == std::vector<std::string>{""});
  }
}

namespace {

// An input of `fill` bytes without end, counting how many were taken: a
// reader that buffered whole lines would take until the test ran out of memory.
class EndlessInput : public std::streambuf {
 public:
  explicit EndlessInput(std::string start, char fill) : m_start(std::move(start)), m_fill(fill) {
    m_chunk.assign(64 * 1024, fill);
  }
  std::size_t taken() const { return m_taken; }

 protected:
  int_type underflow() override {
    if (gptr() != nullptr) m_taken += static_cast<std::size_t>(egptr() - eback());
    std::string& next = m_start_served ? m_chunk : m_start;
    m_start_served = true;
    setg(next.data(), next.data(), next.data() + next.size());
    return traits_type::to_int_type(next[0]);
  }

 private:
  std::string m_start;
  std::string m_chunk;
  char m_fill;
  bool m_start_served = false;
  std::size_t m_taken = 0;
};

}  // namespace

TEST_CASE("read_csv stops at a record longer than k_max_csv_record_bytes", "[service][csv]") {
  using mailer::service::k_max_csv_record_bytes;
  SECTION("a line without end") {
    EndlessInput endless("email,name\nana@example.com,", 'x');
    std::istream in(&endless);
    auto table = read_csv(in, "huge.csv");
    REQUIRE_FALSE(table);
    CHECK(table.error().detail == "huge.csv: line 2: record is longer than 2097152 bytes");
    CHECK(endless.taken() <= k_max_csv_record_bytes + 128 * 1024);
  }
  SECTION("a quoted field that goes on over many lines") {
    EndlessInput endless("email,name\nana@example.com,\"", '\n');
    std::istream in(&endless);
    auto table = read_csv(in, "huge.csv");
    REQUIRE_FALSE(table);
    CHECK(table.error().detail == "huge.csv: line 2: record is longer than 2097152 bytes");
    CHECK(endless.taken() <= k_max_csv_record_bytes + 128 * 1024);
  }
  SECTION("records at the bound are read, over many lines too") {
    std::string name(k_max_csv_record_bytes - std::string("ana@example.com,\n").size(), 'n');
    auto table = parse_ok("email,name\nana@example.com," + name + "\nbo@example.com,b\n");
    CHECK(table.rows.size() == 2);
    std::string lines(k_max_csv_record_bytes - std::string("ana@example.com,\"\"\n").size(), '\n');
    CHECK(parse_ok("email,name\nana@example.com,\"" + lines + "\"\n").rows.size() == 1);
    CHECK(parse_error("email,name\nana@example.com," + name + "n\n") ==
          "recipients.csv: line 2: record is longer than 2097152 bytes");
  }
}

TEST_CASE("read_csv finds a repeated column among 100,000", "[service][csv]") {
  std::string header;
  for (int i = 0; i < 100000; ++i) header += "c" + std::to_string(i) + ",";
  CHECK(parse_ok(header + "email\n").header.size() == 100001);
  CHECK(parse_error(header + "C5\n") == "recipients.csv: line 1: column \"C5\" appears twice");
}
