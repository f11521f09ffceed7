// mailerctl erase EMAIL: the right to erasure (docs/API.md "Erasing an
// address"), the use case of DELETE /v1/admin/recipients/{email}
// (service::ErasureService). It destroys records for good, so it asks on a
// terminal and needs --yes anywhere else (a script, a pipe), where a prompt
// would read whatever stdin holds.

#include <unistd.h>

#include <iostream>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/erasure.hpp"

namespace mailer::cli {
namespace {

struct EraseOptions {
  std::string email;
  bool hash_suppression = false;
  bool yes = false;
};

// Whether the operator typed "yes" at the prompt for `email`.
bool confirmed(const std::string& email) {
  std::cerr << "Erase every message, event and delivery of " << email
            << " for good? This cannot be undone. Type yes to go on: " << std::flush;
  std::string answer;
  return static_cast<bool>(std::getline(std::cin, answer)) && answer == "yes";
}

void print_text(const store::ErasureResult& result) {
  std::cout << "Erased:";
  for (const auto& [name, n] : store::named_counts(result.counts)) std::cout << " " << name << "=" << n;
  std::cout << "\nSuppression: " << store::to_string(result.suppression);
  if (result.suppression != store::SuppressionOutcome::none) std::cout << " (" << result.address_hash << ")";
  std::cout << "\n";
  if (!result.wal_checkpointed)
    std::cerr << "mailerctl: note: the WAL file could not be emptied (a reader held it); older copies of the "
                 "erased pages stay in it until mailerd's next checkpoints\n";
}

void erase(CtlContext& ctx, const EraseOptions& options) {
  if (!options.yes) {
    if (isatty(STDIN_FILENO) == 0)
      return ctx.fail(make_error(ErrorCode::invalid_input, "erase: stdin is not a terminal; pass --yes to erase"),
                      k_exit_usage);
    if (!confirmed(options.email))
      return ctx.fail(make_error(ErrorCode::invalid_input, "erase: not confirmed; nothing was changed"));
  }
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto hashing = options.hash_suppression ? store::SuppressionHashing::hash : store::SuppressionHashing::keep;
  auto erased = service::ErasureService(*db, clock).erase(options.email, hashing, "mailerctl");
  if (!erased)
    return ctx.fail(erased.error(), erased.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json) return print_json(service::to_json(*erased));
  print_text(*erased);
}

}  // namespace

void add_erase_commands(CLI::App& app, CtlContext& ctx) {
  auto options = std::make_shared<EraseOptions>();
  auto* erase_command = app.add_subcommand(
      "erase", "Remove every trace of an address: its messages, events, stored replies, webhook deliveries");
  erase_command->add_option("EMAIL", options->email, "The address, in any spelling")->required();
  erase_command->add_flag("--hash-suppression", options->hash_suppression,
                          "Keep a suppression of the address only as a salted hash (still blocks mail to it)");
  erase_command->add_flag("--yes", options->yes, "Do not ask (needed when stdin is not a terminal)");
  erase_command->callback([&ctx, options] { erase(ctx, *options); });
}

}  // namespace mailer::cli
