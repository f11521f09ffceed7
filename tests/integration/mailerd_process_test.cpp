// mailerd as a process: the signals an operator's tools send it, and the
// database lock that keeps a second mailerd off the same file.
#include <catch2/catch.hpp>

#include <signal.h>

#include <filesystem>
#include <string>

#include "support/mailerd_fixture.hpp"
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
