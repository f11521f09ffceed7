// `mailerctl config check`: registration only; the check is in ctl_config.cpp.

#include <iostream>

#include "cli/cli11.hpp"
#include "cli/ctl_common.hpp"
#include "cli/ctl_config.hpp"

namespace mailer::cli {

void add_config_commands(CLI::App& app, CtlContext& ctx) {
  auto* config = app.add_subcommand("config", "Configuration")->require_subcommand(1);
  auto* check =
      config->add_subcommand("check", "Validate the configuration and print each effective value with its source");
  check->callback(
      [&ctx] { ctx.exit_code = run_config_check(ctx.config_path, ctx.json, std::cout, std::cerr, ctx.db_path); });
}

}  // namespace mailer::cli
