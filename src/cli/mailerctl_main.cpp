// mailerctl: the admin CLI working on the same database file as mailerd (SPEC
// §8). Command groups are a table; each lives in its own src/cli/ctl_<group>.cpp
// and registers its subcommands (see ctl_common.hpp for adding one).

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "cli/ctl_completion.hpp"
#include "mailer/core/log.hpp"

namespace mailer::cli {
namespace {

struct CommandGroup {
  const char* name;
  void (*add)(CLI::App& app, CtlContext& ctx);
};

constexpr CommandGroup k_command_groups[] = {
    {"keys", add_keys_commands},
    {"db", add_db_commands},  // also "migrate"
    {"config", add_config_commands},
    {"send", add_send_commands},
    {"templates", add_templates_commands},
    {"dlq", add_dlq_commands},
    {"batches", add_batches_commands},
    {"suppressions", add_suppressions_commands},
    {"seed", add_seed_commands},
    {"webhooks", add_webhooks_commands},
    {"queue", add_queue_commands},
    {"messages", add_messages_commands},
    {"events", add_events_commands},
    {"erase", add_erase_commands},
    {"completion", add_completion_commands},
};

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// ninja's "did you mean": the command name closest to `word`, if close enough.
std::optional<std::string> suggestion(const CLI::App& app, const std::string& word) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // at most two edits away
  for (const auto* command : app.get_subcommands([](const CLI::App*) { return true; })) {
    std::size_t distance = edit_distance(word, command->get_name());
    if (distance < best_distance) {
      best_distance = distance;
      best = command->get_name();
    }
    if (auto deeper = suggestion(*command, word)) {
      if (edit_distance(word, *deeper) < best_distance) {
        best_distance = edit_distance(word, *deeper);
        best = deeper;
      }
    }
  }
  return best;
}

// The command named by the first word CLI11 could not place, when that word
// stands where a command is expected: "bogus" in `mailerctl bogus`, "keys
// bogus" in `mailerctl keys bogus`. Options and their values are left to CLI11.
std::optional<std::string> unknown_command(CLI::App& app) {
  auto remaining = app.remaining();
  if (remaining.empty() || remaining.front().empty() || remaining.front().front() == '-') return std::nullopt;
  std::string path;
  CLI::App* command = &app;
  while (true) {
    auto chosen = command->get_subcommands();
    if (chosen.empty()) break;
    command = chosen.front();
    path += command->get_name() + " ";
  }
  if (command->get_subcommands([](const CLI::App*) { return true; }).empty()) return std::nullopt;
  return path + remaining.front();
}

// CLI11 reports help and version as "errors" too; those exit 0, the rest 2.
// Under --json a usage error is the same error document as any other failure.
int usage_error(CLI::App& app, const CLI::ParseError& error, bool json) {
  if (error.get_exit_code() == 0) return app.exit(error) == 0 ? k_exit_ok : k_exit_usage;
  auto unknown = unknown_command(app);
  std::optional<std::string> hint;
  for (const auto& word : app.remaining()) {
    if ((hint = suggestion(app, word))) break;
  }
  std::string detail = unknown ? "unknown command '" + *unknown + "'" : std::string(error.what());
  if (json) {
    if (hint) detail += "; did you mean '" + *hint + "'?";
    print_json_error(Error{ErrorCode::invalid_input, detail + "; see mailerctl --help"}, k_exit_usage);
    return k_exit_usage;
  }
  if (unknown) {
    std::cerr << "mailerctl: " << detail << "\nRun 'mailerctl --help' for the list of commands.\n";
  } else {
    app.exit(error);
  }
  if (hint) std::cerr << "Did you mean '" << *hint << "'?\n";
  return k_exit_usage;
}

int run(int argc, char** argv) {
  // The library's info lines ("address erased") are for mailerd's journal;
  // mailerctl says what it did itself. Warnings still show.
  log::configure(log::Level::warn, "auto");
  remember_invocation(argc, argv);
  CtlContext ctx;
  CLI::App app{"mailerctl: administer a mailerd database", "mailerctl"};
  app.fallthrough();  // global options may follow the command: `keys list --json`
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mailerctl ") + MAILER_VERSION, "Print the version and exit");
  app.add_option("--config", ctx.config_path, "mailerd TOML configuration file");
  app.add_option("--db", ctx.db_path, "Database file (overrides db.path and DATABASE_URL)");
  app.add_flag("--json", ctx.json,
               "Machine-readable output: one JSON document on stdout (lists as {\"data\", \"next_cursor\"}); "
               "errors as {\"error\": {...}} on stderr, same exit codes");
  for (const auto& group : k_command_groups) group.add(app, ctx);
  if (argc >= 2 && std::string(argv[1]) == k_complete_command) {
    for (const auto& candidate : completions(app, std::vector<std::string>(argv + 2, argv + argc))) {
      std::cout << candidate << '\n';
    }
    return k_exit_ok;
  }
  if (std::find(argv, argv + argc, std::string(k_help_all_flag)) != argv + argc) {
    std::cout << full_help(app);
    return k_exit_ok;
  }
  try {
    app.parse(argc, argv);  // runs the chosen command's callback
  } catch (const CLI::ParseError& error) {
    return usage_error(app, error, ctx.json || std::find(argv, argv + argc, std::string("--json")) != argv + argc);
  }
  return ctx.exit_code;
}

}  // namespace
}  // namespace mailer::cli

namespace {

// Output that never arrived is a failure: `mailerctl events list > /dev/full`
// must not exit 0 with nothing written (as coreutils' close_stdout).
int checked_stdout(int exit_code) {
  std::cout.flush();
  errno = 0;
  if (std::fflush(stdout) == 0 && !std::cout.fail() && !std::ferror(stdout)) return exit_code;
  int error = errno;
  std::cerr << "mailerctl: cannot write to standard output" << (error != 0 ? ": " : "")
            << (error != 0 ? std::strerror(error) : "") << "\n";
  return exit_code == mailer::cli::k_exit_ok ? mailer::cli::k_exit_failure : exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return checked_stdout(mailer::cli::run(argc, argv));
  } catch (const std::exception& e) {
    std::cerr << "mailerctl: internal error: " << e.what() << "\n";
  } catch (...) {
    std::cerr << "mailerctl: internal error\n";
  }
  return mailer::cli::k_exit_failure;
}
