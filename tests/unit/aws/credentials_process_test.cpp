#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stop_token>
#include <thread>

#include "mailer/aws/credentials_process.hpp"
#include "mailer/core/log.hpp"
#include "support/aws_env.hpp"
#include "support/temp_dir.hpp"

using namespace mailer;
using namespace mailer::aws;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> split(std::string_view command) {
  auto words = split_command_line(command);
  REQUIRE(words);
  return *words;
}

// An executable shell script in `dir` (the script's own interpreter is a
// shell; mailerd runs it directly, without one).
std::string script(const test::TempDir& dir, const std::string& name, const std::string& body) {
  auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path.string();
}

const std::string k_good_json =
    R"({"Version": 1, "AccessKeyId": "AKIDPROC", "SecretAccessKey": "proc-secret", "SessionToken": "proc-token",
        "Expiration": "2026-11-09T13:34:41Z"})";

}  // namespace

TEST_CASE("split_command_line splits like shlex.split", "[aws][process]") {
  using V = std::vector<std::string>;
  CHECK(split("/usr/bin/get-creds --profile x") == V{"/usr/bin/get-creds", "--profile", "x"});
  CHECK(split("  a\t 'b c'  \"d e\" ") == V{"a", "b c", "d e"});
  CHECK(split(R"(a\ b 'it\s' "q\"u\\o\te" x'y'"z")") == V{"a b", "it\\s", "q\"u\\o\\te", "xyz"});
  CHECK(split("a '' b") == V{"a", "", "b"});
  CHECK(split("echo $HOME;rm *") == V{"echo", "$HOME;rm", "*"});
  for (const auto& [text, problem] :
       {std::pair{"a 'b", "no closing quotation"}, std::pair{"a \"b\\\"", "no closing quotation"},
        std::pair{"a b\\", "ends with a backslash"}, std::pair{"  ", "is empty"}}) {
    auto words = split_command_line(text);
    REQUIRE_FALSE(words);
    CHECK(words.error().detail == problem);
  }
}

TEST_CASE("parse_process_credentials reads Version 1 output", "[aws][process]") {
  auto credentials = parse_process_credentials(k_good_json, "cp", "process:p");
  REQUIRE(credentials);
  CHECK(credentials->access_key_id == "AKIDPROC");
  CHECK(credentials->session_token == "proc-token");
  CHECK(credentials->source == "process:p");
  CHECK(credentials->expiration->time_since_epoch() == std::chrono::seconds(1794231281));
  auto lasting = parse_process_credentials(R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S"})", "cp", "p");
  REQUIRE(lasting);
  CHECK_FALSE(lasting->expiration);
  CHECK(lasting->session_token.empty());

  for (const auto& [json, problem] :
       {std::pair{"not json", "cp: output is not valid JSON (at byte 2)"},
        std::pair{R"({"AccessKeyId":"A","SecretAccessKey":"S"})", "cp: output Version: missing"},
        std::pair{R"({"Version":2,"AccessKeyId":"A","SecretAccessKey":"S"})", "cp: output Version: must be 1"},
        std::pair{R"({"Version":1,"SecretAccessKey":"S"})", "cp: output AccessKeyId: missing"},
        std::pair{R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":""})", "cp: output SecretAccessKey: empty"},
        std::pair{R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","SessionToken":5})",
                  "cp: output SessionToken: must be a string"},
        std::pair{R"({"Version":1,"AccessKeyId":"A","SecretAccessKey":"S","Expiration":"soon"})",
                  "cp: output Expiration: not an ISO 8601 UTC time"}}) {
    auto refused = parse_process_credentials(json, "cp", "p");
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code == ErrorCode::unauthorized);
    CHECK(refused.error().detail == problem);
  }
}

TEST_CASE("credentials_from_process runs the command without a shell", "[aws][process]") {
  test::TempDir dir;
  SECTION("success, with quoted arguments reaching the program intact") {
    auto path = script(dir, "creds",
                       "[ \"$1\" = 'a b' ] && [ \"$2\" = '$HOME' ] || exit 9\ncat <<'EOF'\n" + k_good_json + "\nEOF\n");
    auto credentials = credentials_from_process(path + " 'a b' '$HOME'", "dev");
    REQUIRE(credentials);
    CHECK(credentials->access_key_id == "AKIDPROC");
    CHECK(credentials->source == "process:dev");
  }
  SECTION("non-zero exit reports the status; one line of stderr goes to the log only") {
    auto path = script(dir, "fails", "echo 'token SECRET42 expired, run login' >&2\necho second line >&2\nexit 3\n");
    std::ostringstream log_lines;
    log::set_output(&log_lines);
    auto failed = credentials_from_process(path + " --secret-arg", "dev");
    log::set_output(nullptr);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::unauthorized);
    CHECK(failed.error().detail == "credential_process of profile [dev]: " + path +
                                       " exited with status 3 (its standard error is in the log)");
    CHECK_THAT(log_lines.str(), Catch::Contains("credential_process wrote to its standard error") &&
                                    Catch::Contains("token SECRET42 expired, run login") &&
                                    !Catch::Contains("second line"));
  }
  SECTION("bad JSON") {
    auto path = script(dir, "garbage", "echo '{\"Version\": 1'\n");
    auto failed = credentials_from_process(path, "dev");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().detail.starts_with("credential_process of profile [dev]: output is not valid JSON"));
  }
  SECTION("output that cannot be used after exit 0 logs stderr too, the detail only points at the log") {
    auto path = script(dir, "garbled", "echo 'garbage'\necho 'oops something broke' >&2\necho second line >&2\n");
    std::ostringstream log_lines;
    log::set_output(&log_lines);
    auto failed = credentials_from_process(path, "dev");
    log::set_output(nullptr);
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::unauthorized);
    CHECK(failed.error().detail.starts_with("credential_process of profile [dev]: output is not valid JSON"));
    CHECK(failed.error().detail.ends_with(" (its standard error is in the log)"));
    CHECK(failed.error().detail.find("oops") == std::string::npos);
    CHECK_THAT(log_lines.str(), Catch::Contains("credential_process wrote to its standard error") &&
                                    Catch::Contains("oops something broke") && !Catch::Contains("second line"));
  }
  SECTION("timeout kills the process group") {
    auto path = script(dir, "hangs", "sleep 30 &\nwait\n");
    auto start = std::chrono::steady_clock::now();
    auto failed = credentials_from_process(path, "dev", {300ms});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().detail == "credential_process of profile [dev]: " + path + " did not finish within 300 ms");
    CHECK(std::chrono::steady_clock::now() - start < 5s);
  }
  SECTION("output over the cap") {
    auto path = script(dir, "chatty", "yes\n");
    auto failed = credentials_from_process(path, "dev", {10s, 1000});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().detail == "credential_process of profile [dev]: " + path + " wrote more than 1000 bytes");
  }
  SECTION("missing program") {
    auto failed = credentials_from_process((dir / "nope").string(), "dev");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().detail ==
          "credential_process of profile [dev]: cannot run " + (dir / "nope").string() + ": No such file or directory");
  }
  SECTION("unbalanced quotes") {
    auto failed = credentials_from_process("get 'creds", "dev");
    REQUIRE_FALSE(failed);
    CHECK(failed.error().code == ErrorCode::invalid_input);
    CHECK(failed.error().detail == "credential_process of profile [dev]: command: no closing quotation");
  }
}

TEST_CASE("a stop request kills a running credential_process at once", "[aws][process][credentials]") {
  test::TempDir dir;
  auto path = script(dir, "hangs-until-stopped", "sleep 30 &\nwait\n");
  std::stop_source stop;
  std::jthread stopper([&] {
    std::this_thread::sleep_for(200ms);
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto failed = credentials_from_process(path, "dev", {.timeout = 30s, .stop = stop.get_token()});
  REQUIRE_FALSE(failed);
  CHECK(failed.error().detail == "credential_process of profile [dev]: cancelled: mailerd is stopping");
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  SECTION("and none starts once stopped") {
    auto refused = credentials_from_process(path, "dev", {.timeout = 30s, .stop = stop.get_token()});
    REQUIRE_FALSE(refused);
    CHECK(refused.error().detail == "credential_process of profile [dev]: cancelled: mailerd is stopping");
  }
}

TEST_CASE("CredentialsProvider::stop gives up a hanging credential_process", "[aws][process][credentials]") {
  test::TempDir dir;
  std::ofstream(dir / "config") << "[profile hang]\ncredential_process = sleep 100\n";
  CredentialsProvider::Options options;
  options.env = test::env_of({{"AWS_PROFILE", "hang"},
                              {"AWS_CONFIG_FILE", (dir / "config").string()},
                              {"AWS_SHARED_CREDENTIALS_FILE", (dir / "none").string()},
                              {"AWS_EC2_METADATA_DISABLED", "true"}});
  CredentialsProvider provider(std::move(options));
  CHECK_FALSE(provider.readiness());  // starts the background fetch, which hangs
  std::optional<Result<Credentials>> got;
  std::jthread sender([&] { got = provider.get(); });  // waits for that fetch
  std::this_thread::sleep_for(300ms);
  auto start = std::chrono::steady_clock::now();
  provider.stop();
  sender.join();
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  REQUIRE(got);
  REQUIRE_FALSE(*got);
  CHECK(is_cancelled(got->error()));
  CHECK(got->error().detail == "cancelled: mailerd is stopping");
  // Nothing new starts: readiness answers at once with the same error.
  auto ready = provider.readiness();
  REQUIRE_FALSE(ready);
  CHECK(is_cancelled(ready.error()));
}
