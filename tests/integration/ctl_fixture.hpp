#pragma once
// A temporary database driven by the real mailerctl (MAILERCTL_BIN), shared by
// the mailerctl_{send,dlq,batches,suppressions} tests.

#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/child_process.hpp"
#include "support/temp_dir.hpp"

namespace ctltest {

// Long enough for config validation (at least 16 characters).
inline const std::string k_unsubscribe_secret = "0123456789abcdef0123456789abcdef";

struct Ctl {
  mailer::test::TempDir dir;
  std::string db = (dir / "mailer.db").string();
  // No metadata service: `config check` looks for credentials, and tests stay on loopback.
  std::map<std::string, std::string> env{{"MAILER_UNSUBSCRIBE_SECRET", k_unsubscribe_secret},
                                         {"AWS_EC2_METADATA_DISABLED", "true"}};

  // Creates the database as an operator would (mailerctl opens only existing files).
  Ctl() { json({"migrate"}); }

  // mailerctl --db <db> args...
  mailer::test::CommandResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {MAILERCTL_BIN, "--db", db});
    return mailer::test::run_command(args, env);
  }
  // mailerctl --db <db> args... on a pseudo-terminal (util-linux `script`),
  // as a person at a terminal runs it; `input` is typed in. The output is the
  // terminal's: stdout and stderr together, lines ending in "\r\n".
  mailer::test::CommandResult run_in_terminal(std::vector<std::string> args, const std::string& input = "") {
    std::string command = shell_quote(MAILERCTL_BIN) + " --db " + shell_quote(db);
    for (const auto& arg : args) command += " " + shell_quote(arg);
    return mailer::test::run_command({"/usr/bin/script", "-qec", command, "/dev/null"}, env, input);
  }
  static std::string shell_quote(const std::string& word) {
    std::string quoted = "'";
    for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return quoted + "'";
  }
  // Runs the "more: mailerctl ..." line of a text listing as printed (its
  // words hold no spaces or quotes in these tests).
  mailer::test::CommandResult run_more(const std::string& listing) {
    auto at = listing.find("more: mailerctl ");
    REQUIRE(at != std::string::npos);
    std::istringstream words(listing.substr(at + 16, listing.find('\n', at) - at - 16));
    std::vector<std::string> args{MAILERCTL_BIN};
    for (std::string word; words >> word;) args.push_back(word);
    return mailer::test::run_command(args, env);
  }
  // Runs with --json, requires exit 0 and returns the parsed output.
  nlohmann::json json(std::vector<std::string> args) {
    args.push_back("--json");
    auto result = run(args);
    INFO("stderr: " << result.errors << "\nstdout: " << result.output);
    REQUIRE(result.exit_code == 0);
    return nlohmann::json::parse(result.output);
  }
  // Writes `content` to a file in the temporary directory and returns its path.
  std::string file(const std::string& name, const std::string& content) {
    auto path = dir / name;
    std::ofstream(path, std::ios::binary) << content;
    return path.string();
  }
  // A template named `name` using first_name, for `send --template`.
  void create_template(const std::string& name = "news") {
    auto html = file(name + ".html", "<p>Hi {{first_name}} from {{city}}</p>");
    auto text = file(name + ".txt", "Hi {{first_name}}, unsubscribe: {{unsubscribe_url}}");
    json({"templates", "create", "--name", name, "--subject", "News for {{first_name}}", "--html-file", html,
          "--text-file", text});
  }
  // A batch of ana, bo and cy with template "news", not followed; returns its id.
  std::string send_three() {
    auto csv = file("r.csv", "email,first_name\nana@example.com,Ana\nbo@example.com,Bo\ncy@example.com,Cy\n");
    return json({"send", "--detach", "--template", "news", "--from", "news@example.com", "--recipients", csv})["id"];
  }
  // Sends the CSV at `path` with template "news"; extra args appended. No
  // mailerd runs on most tests' database: add "--detach" unless following.
  mailer::test::CommandResult send(const std::string& path, std::vector<std::string> extra = {}) {
    std::vector<std::string> args{"send",         "--template", "news", "--from", "Shop <news@example.com>",
                                  "--recipients", path};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  }
};

}  // namespace ctltest
