// Shell completion: `mailerctl __complete` walks the real command tree, and
// the bash and zsh scripts that `mailerctl completion` prints turn its answer
// into the shell's candidates (run in a real bash and zsh).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace {

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> complete(std::vector<std::string> words) {
  words.insert(words.begin(), {MAILERCTL_BIN, "__complete"});
  auto result = mailer::test::run_command(words);
  INFO(result.errors);
  REQUIRE(result.exit_code == 0);
  return lines(result.output);
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

// Runs `script` in `shell` with the completion script of that shell sourced;
// $BIN is mailerctl.
std::vector<std::string> in_shell(const std::string& shell, const std::string& script) {
  mailer::test::TempDir dir;
  auto script_path = (dir / "completion").string();
  auto printed = mailer::test::run_command({MAILERCTL_BIN, "completion", shell});
  REQUIRE(printed.exit_code == 0);
  { std::ofstream(script_path) << printed.output; }
  std::vector<std::string> argv = shell == "bash" ? std::vector<std::string>{"/bin/bash", "--norc", "-c"}
                                                  : std::vector<std::string>{"/usr/bin/zsh", "-f", "-c"};
  argv.push_back(script);
  auto result = mailer::test::run_command(argv, {{"BIN", MAILERCTL_BIN}, {"SCRIPT", script_path}});
  INFO(shell << " stderr: " << result.errors);
  REQUIRE(result.exit_code == 0);
  return lines(result.output);
}

bool have(const std::string& program) {
  return mailer::test::run_command({"/bin/sh", "-c", "command -v " + program}).exit_code == 0;
}

}  // namespace

TEST_CASE("mailerctl __complete offers the commands and options of the real tree", "[mailerctl][completion]") {
  SECTION("top-level commands, hidden ones never") {
    auto top = complete({""});
    CHECK(contains(top, "batches"));
    CHECK(contains(top, "keys"));
    CHECK(contains(top, "completion"));
    CHECK_FALSE(contains(top, "__complete"));
    CHECK(complete({"ba"}) == std::vector<std::string>{"batches"});
  }
  SECTION("subcommands after a command, past global options and their values") {
    CHECK(contains(complete({"keys", ""}), "create"));
    CHECK(complete({"--db", "/tmp/x.db", "keys", "cr"}) == std::vector<std::string>{"create"});
    CHECK(complete({"--db=/tmp/x.db", "keys", "cr"}) == std::vector<std::string>{"create"});
    CHECK(complete({"--json", "db", "pru"}) == std::vector<std::string>{"prune"});
  }
  SECTION("a command's own options and the global ones that fall through") {
    CHECK(contains(complete({"keys", "create", "--sc"}), "--scope"));
    CHECK(complete({"keys", "create", "--js"}) == std::vector<std::string>{"--json"});
    CHECK_FALSE(contains(complete({"keys", "create", "--"}), "--recipients"));
    auto helps = complete({"keys", "create", "--he"});
    CHECK(std::count(helps.begin(), helps.end(), "--help") == 1);
  }
  SECTION("file names for an option's value and for a leaf command's arguments") {
    CHECK(complete({"--db", ""}) == std::vector<std::string>{":files"});
    CHECK(complete({"--db", "=", ""}) == std::vector<std::string>{":files"});  // bash's split of --db=
    CHECK(complete({"send", "--recipients", "ex"}) == std::vector<std::string>{":files"});
    CHECK(complete({"suppressions", "add", ""}) == std::vector<std::string>{":files"});
  }
  SECTION("nothing for a word that matches nothing") {
    CHECK(complete({"zzz"}).empty());
    CHECK(complete({"keys", "--no-such-option"}).empty());
  }
}

TEST_CASE("mailerctl __complete reads no configuration and opens no database", "[mailerctl][completion]") {
  mailer::test::TempDir dir;
  auto db = (dir / "never.db").string();
  auto result = mailer::test::run_command({MAILERCTL_BIN, "__complete", "--config", "/nonexistent.toml", "keys", ""},
                                          {{"MAILER_DB_PATH", db}});
  CHECK(result.exit_code == 0);
  CHECK(contains(lines(result.output), "list"));
  CHECK_FALSE(std::filesystem::exists(db));
}

TEST_CASE("mailerctl completion prints the bash script that bash completes with", "[mailerctl][completion]") {
  auto reply = in_shell("bash", R"sh(source "$SCRIPT"
complete -p mailerctl >/dev/null || exit 3
COMP_WORDS=("$BIN" batches sh); COMP_CWORD=2; _mailerctl; printf 'A:%s\n' "${COMPREPLY[@]}"
COMP_WORDS=("$BIN" keys create --sc); COMP_CWORD=3; _mailerctl; printf 'B:%s\n' "${COMPREPLY[@]}"
cd "$(dirname "$SCRIPT")"
COMP_WORDS=("$BIN" --db comp); COMP_CWORD=2; _mailerctl; printf 'C:%s\n' "${COMPREPLY[@]}")sh");
  CHECK(contains(reply, "A:show"));
  CHECK(contains(reply, "B:--scope"));
  CHECK(contains(reply, "C:completion"));  // the file next to the script, by the shell's own completion
}

TEST_CASE("mailerctl completion prints the zsh script that zsh completes with", "[mailerctl][completion]") {
  if (!have("zsh")) {
    WARN("zsh not installed (make deps installs it); skipped");
    return;
  }
  // compadd and _files belong to zsh's completion system, which needs a
  // terminal; these stand-ins print what the script hands them.
  auto reply = in_shell("zsh", R"sh(compdef() { print "compdef:$*"; }
compadd() { [[ $1 == -- ]] && shift; print -l -- "${@/#/cand:}"; }
_files() { print files; }
source "$SCRIPT"
words=("$BIN" batches sh); CURRENT=3; _mailerctl
words=("$BIN" --db ""); CURRENT=3; _mailerctl)sh");
  CHECK(contains(reply, "compdef:_mailerctl mailerctl"));
  CHECK(contains(reply, "cand:show"));
  CHECK(contains(reply, "files"));
}

TEST_CASE("mailerctl --help-all documents every command", "[mailerctl][completion]") {
  auto result = mailer::test::run_command({MAILERCTL_BIN, "--help-all"});
  CHECK(result.exit_code == 0);
  for (const char* text : {"--scope", "--recipients", "prune", "completion"}) {
    CHECK_THAT(result.output, Catch::Contains(text));
  }
}
