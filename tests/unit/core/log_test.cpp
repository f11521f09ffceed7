#include <catch2/catch.hpp>

#include <regex>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "mailer/core/log.hpp"

namespace mlog = mailer::log;  // not "log": ::log is the math function

namespace {

// Captures log lines for one test and restores stderr and the defaults after.
struct CapturedLog {
  std::ostringstream out;
  CapturedLog(mlog::Level level, std::string_view format, bool terminal = false) {
    mlog::configure(level, format);
    mlog::set_output(&out, terminal);
  }
  ~CapturedLog() {
    mlog::set_output(nullptr);
    mlog::configure(mlog::Level::info, "auto");
  }
  std::vector<std::string> lines() const {
    std::vector<std::string> result;
    std::istringstream in(out.str());
    for (std::string line; std::getline(in, line);) result.push_back(line);
    return result;
  }
};

}  // namespace

TEST_CASE("log writes JSON lines", "[core][log]") {
  CapturedLog captured(mlog::Level::info, "json");
  mlog::info("message sent", {{"message_id", "msg_1"}, {"attempt", 2}, {"ok", true}});
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 1);
  const auto line = nlohmann::json::parse(lines[0]);
  CHECK(line["level"] == "info");
  CHECK(line["msg"] == "message sent");
  CHECK(line["message_id"] == "msg_1");
  CHECK(line["attempt"] == 2);
  CHECK(line["ok"] == true);
  static const std::regex k_rfc3339_ms(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  CHECK(std::regex_match(line["time"].get<std::string>(), k_rfc3339_ms));
  CHECK(lines[0].rfind(R"({"time":)", 0) == 0);  // envelope first, then fields
}

TEST_CASE("log keeps the envelope when a field reuses its name", "[core][log]") {
  CapturedLog captured(mlog::Level::info, "json");
  mlog::warn("real", {{"msg", "fake"}, {"level", "debug"}});
  const auto line = nlohmann::json::parse(captured.lines().at(0));
  CHECK(line["msg"] == "real");
  CHECK(line["level"] == "warn");
  CHECK(line["field_msg"] == "fake");
  CHECK(line["field_level"] == "debug");
}

TEST_CASE("log writes pretty lines", "[core][log]") {
  CapturedLog captured(mlog::Level::debug, "pretty");
  mlog::error("send failed", {{"status", 503}, {"reason", "slow down"}, {"route", "/v1/messages"}});
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 1);
  static const std::regex k_pretty(
      R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ERROR send failed status=503 reason="slow down" route=/v1/messages)");
  CHECK(std::regex_match(lines[0], k_pretty));
  mlog::info("x");
  CHECK_THAT(captured.lines().at(1), Catch::Contains(" INFO  x"));
}

TEST_CASE("log format auto follows the terminal", "[core][log]") {
  SECTION("not a terminal: JSON") {
    CapturedLog captured(mlog::Level::info, "auto", false);
    mlog::info("hello");
    CHECK(captured.lines().at(0).front() == '{');
  }
  SECTION("a terminal: pretty") {
    CapturedLog captured(mlog::Level::info, "auto", true);
    mlog::info("hello");
    CHECK_THAT(captured.lines().at(0), Catch::EndsWith("INFO  hello"));
  }
}

TEST_CASE("log drops lines below the level", "[core][log]") {
  CapturedLog captured(mlog::Level::warn, "json");
  CHECK_FALSE(mlog::enabled(mlog::Level::info));
  CHECK(mlog::enabled(mlog::Level::error));
  mlog::debug("no");
  mlog::info("no");
  mlog::write(mlog::Level::info, "no", {});
  mlog::warn("yes");
  mlog::error("yes");
  CHECK(captured.lines().size() == 2);
}

TEST_CASE("mlog::parse_level and to_string", "[core][log]") {
  mlog::Level level = mlog::Level::info;
  CHECK(mlog::parse_level("debug", level));
  CHECK(level == mlog::Level::debug);
  CHECK(mlog::parse_level("error", level));
  CHECK(level == mlog::Level::error);
  CHECK_FALSE(mlog::parse_level("loud", level));
  CHECK(level == mlog::Level::error);
  CHECK(mlog::to_string(mlog::Level::warn) == "warn");
}

TEST_CASE("log lines from many threads never interleave", "[core][log]") {
  CapturedLog captured(mlog::Level::info, "json");
  std::vector<std::jthread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t] {
      for (int i = 0; i < 200; ++i) mlog::info("tick", {{"thread", t}, {"i", i}, {"pad", std::string(100, 'x')}});
    });
  }
  threads.clear();
  const auto lines = captured.lines();
  REQUIRE(lines.size() == 1600);
  for (const auto& line : lines) CHECK_NOTHROW(nlohmann::json::parse(line));
}

TEST_CASE("log survives invalid UTF-8 in a field", "[core][log]") {
  CapturedLog captured(mlog::Level::info, "json");
  mlog::info("bad", {{"value", std::string("\xff\xfe")}});
  CHECK_NOTHROW(nlohmann::json::parse(captured.lines().at(0)));
}

TEST_CASE("redact_url drops userinfo, query and fragment", "[core][log]") {
  CHECK(mlog::redact_url("https://user:pw@email.us-east-1.amazonaws.com:443/v2/email?X-Amz-Signature=abc#f") ==
        "https://email.us-east-1.amazonaws.com:443/v2/email");
  CHECK(mlog::redact_url("http://127.0.0.1:4566") == "http://127.0.0.1:4566");
  CHECK(mlog::redact_url("https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t") ==
        "https://sns.us-east-1.amazonaws.com/");
  CHECK(mlog::redact_url("postgres://app:secret@db/mail") == "postgres://db/mail");
  CHECK(mlog::redact_url("https://host/path@x") == "https://host/path@x");
  CHECK(mlog::redact_url("mailer.db?mode=ro") == "mailer.db");
  CHECK(mlog::redact_url("") == "");
}

TEST_CASE("log::Throttle lets one line through per interval and counts the rest", "[core][log]") {
  mlog::Throttle throttle(std::chrono::seconds(1));
  const auto start = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  std::uint64_t held_back = 99;
  CHECK(throttle.admit(held_back, start));
  CHECK(held_back == 0);
  for (int i = 1; i <= 5; ++i) CHECK_FALSE(throttle.admit(held_back, start + std::chrono::milliseconds(100 * i)));
  CHECK(throttle.admit(held_back, start + std::chrono::seconds(1)));
  CHECK(held_back == 5);
  CHECK_FALSE(throttle.admit(held_back, start + std::chrono::milliseconds(1999)));
  CHECK(throttle.admit(held_back, start + std::chrono::seconds(5)));
  CHECK(held_back == 1);
}

TEST_CASE("log::warn_throttled writes one line for a flood and says how many it held back", "[core][log]") {
  CapturedLog captured(mlog::Level::info, "json");
  mlog::Throttle throttle(std::chrono::hours(1));
  for (int i = 0; i < 1000; ++i) mlog::warn_throttled(throttle, "SNS message rejected", {{"i", i}});
  auto lines = captured.lines();
  REQUIRE(lines.size() == 1);
  auto line = nlohmann::json::parse(lines[0]);
  CHECK(line["i"] == 0);
  CHECK_FALSE(line.contains("suppressed_since_last"));
}
