// mailerctl migrate, db check, db backup: schema and file maintenance (SPEC §8).

#include <iostream>
#include <memory>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/store/maintenance.hpp"

namespace mailer::cli {
namespace {

void run_migrate(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::any_version, store::OpenMode::create);
  if (!db) return;
  auto status = store::migrate(*db);
  if (!status) return ctx.fail(status.error());
  if (ctx.json) {
    return print_json({{"applied", status->applied_now},
                       {"current_version", status->current_version},
                       {"latest_version", status->latest_version}});
  }
  for (const auto& name : status->applied_now) std::cout << "applied " << name << "\n";
  if (status->applied_now.empty()) std::cout << "nothing to apply\n";
  std::cout << "schema version " << status->current_version << " (latest " << status->latest_version << ")\n";
}

// Healthy means intact, no dangling references, and exactly the schema this
// binary expects: an outdated file is reported too (mailerd would migrate it
// at start, but an operator checking a copy wants to know).
void run_check(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::any_version, store::OpenMode::existing);
  if (!db) return;
  auto integrity = store::check_integrity(*db);
  if (!integrity) return ctx.fail(integrity.error());
  auto schema = store::migration_status(*db);
  if (!schema) return ctx.fail(schema.error());
  bool schema_current = schema->current_version == schema->latest_version;
  bool ok = integrity->ok() && schema_current;
  if (!ok) ctx.exit_code = k_exit_failure;
  if (ctx.json) {
    return print_json(
        {{"ok", ok},
         {"integrity", integrity->problems.empty() ? nlohmann::json("ok") : nlohmann::json(integrity->problems)},
         {"foreign_key_violations", integrity->foreign_key_violations},
         {"schema_version", schema->current_version},
         {"latest_version", schema->latest_version}});
  }
  std::cout << "integrity: " << (integrity->problems.empty() ? "ok" : "FAILED") << "\n";
  for (const auto& problem : integrity->problems) std::cout << "  " << problem << "\n";
  std::cout << "foreign keys: "
            << (integrity->foreign_key_violations == 0
                    ? std::string("ok")
                    : std::to_string(integrity->foreign_key_violations) + " violations")
            << "\n";
  std::cout << "schema: version " << schema->current_version << " (latest " << schema->latest_version << ")"
            << (schema->current_version < schema->latest_version   ? ", run mailerctl migrate"
                : schema->current_version > schema->latest_version ? ", newer than this mailerctl"
                                                                   : "")
            << "\n";
  std::cout << (ok ? "ok" : "NOT OK") << "\n";
}

void run_backup(CtlContext& ctx, const std::string& dest) {
  auto db = open_database(ctx, SchemaCheck::any_version, store::OpenMode::existing);
  if (!db) return;
  auto report = store::backup(*db, dest);
  if (!report) return ctx.fail(report.error());
  if (ctx.json) return print_json({{"file", dest}, {"pages", report->pages}});
  std::cout << "backed up " << db->path() << " to " << dest << " (" << report->pages << " pages)\n";
}

}  // namespace

void add_db_commands(CLI::App& app, CtlContext& ctx) {
  app.add_subcommand("migrate", "Create the file if missing and apply pending schema migrations")->callback([&ctx] {
    run_migrate(ctx);
  });

  auto* db = app.add_subcommand("db", "Create/upgrade, check, back up, measure, prune or compact the database file");
  db->require_subcommand(1);
  // `db migrate` sits next to `db check` where operators look for it; same as `migrate`.
  db->add_subcommand("migrate", "Create the file if missing and apply pending schema migrations")->callback([&ctx] {
    run_migrate(ctx);
  });
  db->add_subcommand("check", "Integrity check and schema version; exit 1 when not ok")->callback([&ctx] {
    run_check(ctx);
  });

  auto dest = std::make_shared<std::string>();
  auto* backup = db->add_subcommand("backup", "Online copy to a new FILE, safe while mailerd runs");
  backup->add_option("FILE", *dest, "Destination (must not exist)")->required();
  backup->callback([&ctx, dest] { run_backup(ctx, *dest); });
  add_db_space_commands(*db, ctx);
}

}  // namespace mailer::cli
