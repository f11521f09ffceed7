// mailerd as a process: the signals an operator's tools send it, and the
// database lock that keeps a second mailerd off the same file.
#include <catch2/catch.hpp>

#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"
#include "support/mailerd_fixture.hpp"
#include "support/message_rows.hpp"
#include "support/proc_status.hpp"

using mailer::test::ChildProcess;
using mailer::test::MailerdFixture;

namespace {

// The SigIgn mask of /proc/<pid>/status: bit N-1 set when signal N is ignored.
unsigned long long ignored_signals(int pid) {
  auto mask = mailer::test::proc_status_field(pid, "SigIgn");
  return mask.empty() ? 0 : std::stoull(mask, nullptr, 16);
}

}  // namespace

TEST_CASE("mailerd logs SIGHUP and keeps serving", "[integration][process]") {
  MailerdFixture mailerd;
  REQUIRE(kill(mailerd.process().pid(), SIGHUP) == 0);
  CHECK(mailerd.process().wait_for_log("\"msg\":\"SIGHUP ignored\""));
  REQUIRE(mailerd.process().running());
  auto health = mailerd.client()->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  // Still stops cleanly afterwards: SIGHUP left the shutdown path alone.
  CHECK(mailerd.process().stop(SIGTERM) == std::optional<int>(0));
}

TEST_CASE("mailerd ignores SIGPIPE", "[integration][process]") {
  MailerdFixture mailerd;
  CHECK((ignored_signals(mailerd.process().pid()) >> (SIGPIPE - 1) & 1) == 1);
}

TEST_CASE("a second mailerd on a symlink to the database is refused", "[integration][process]") {
  MailerdFixture first;
  const auto link = first.dir() / "link.db";
  std::filesystem::create_symlink(first.db_path(), link);
  auto env = first.env();
  env["MAILER_DB_PATH"] = link.string();
  ChildProcess second({MAILERD_BIN}, first.dir() / "second.log", env);
  auto code = second.wait();
  REQUIRE(code);
  CHECK(*code == 1);
  const auto expected = "database " + link.string() + " (the file " +
                        std::filesystem::canonical(first.db_path()).string() + ") is in use by another mailerd";
  CHECK(second.log().find(expected) != std::string::npos);
  CHECK(first.client()->Get("/health")->status == 200);  // the first one is unharmed
}

// QA found it: SIGTERM while a credential_process hung made mailerd wait out
// the process's 30 s timeout, past Docker's 10 s stop timeout (then SIGKILL).
TEST_CASE("SIGTERM while a credential_process hangs: mailerd exits at once and gives the message back",
          "[integration][process][credentials]") {
  using namespace std::chrono_literals;
  mailer::test::TempDir aws;
  std::ofstream(aws / "config") << "[profile hang]\ncredential_process = sleep 100\n";
  MailerdFixture mailerd(mailer::test::MailerdOptions{.env = {{"MAILER_SES_ACCESS_KEY_ID", ""},
                                                              {"MAILER_SES_SECRET_ACCESS_KEY", ""},
                                                              {"AWS_ACCESS_KEY_ID", ""},
                                                              {"AWS_SECRET_ACCESS_KEY", ""},
                                                              {"AWS_PROFILE", "hang"},
                                                              {"AWS_CONFIG_FILE", (aws / "config").string()},
                                                              {"AWS_SHARED_CREDENTIALS_FILE", (aws / "none").string()}}});
  auto db = mailer::store::Database::open(mailerd.db_path().string());
  REQUIRE(db);
  const auto id = mailer::test::insert_message(**db, {.email = "ana@example.com"},
                                               mailer::to_ms(std::chrono::system_clock::now()));
  // A worker claims it and waits in the credential fetch.
  const auto claimed_by = std::chrono::steady_clock::now() + 20s;
  while (mailer::test::message_state(**db, id) != "sending" && std::chrono::steady_clock::now() < claimed_by) {
    std::this_thread::sleep_for(50ms);
  }
  REQUIRE(mailer::test::message_state(**db, id) == "sending");
  std::this_thread::sleep_for(300ms);  // into the wait for `sleep 100`
  const auto start = std::chrono::steady_clock::now();
  CHECK(mailerd.process().stop(SIGTERM, 20s) == std::optional<int>(0));
  CHECK(std::chrono::steady_clock::now() - start < 8s);
  // Back in the queue, its attempt not counted: nothing was sent.
  CHECK(mailer::test::message_state(**db, id) == "queued");
  CHECK(mailer::test::message_int(**db, id, "attempts") == 0);
}
