// mailerctl keys create|list|revoke|audit (SPEC §7): the first admin key comes
// from here, so `create` prints the key alone on its last line for scripts.

#include <iostream>
#include <memory>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/service/keys.hpp"

namespace mailer::cli {
namespace {

constexpr const char* k_actor = "mailerctl";

struct CreateOptions {
  std::string name;
  std::string scope;
};

void create_key(CtlContext& ctx, const CreateOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  // CLI11 already restricted --scope to the three names.
  auto created = service::KeyService(*db, clock)
                     .create(options.name, store::parse_scope(options.scope).value_or(store::Scope::read), k_actor);
  if (!created) return ctx.fail(created.error());
  const auto& key = created->key;
  if (ctx.json) {
    auto out = service::to_json(key);
    out["key"] = created->secret;
    return print_json(out);
  }
  std::cout << "Created " << store::to_string(key.scope) << " key " << key.id << " (\"" << key.name << "\", prefix "
            << key.prefix << ").\n"
            << "Store the key now; it is not shown again:\n"
            << created->secret << "\n";
}

void list_keys(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto keys = service::KeyService(*db, clock).list();
  if (!keys) return ctx.fail(keys.error());
  if (ctx.json)
    return print_page(*keys, [](const auto& x) { return service::to_json(x); }, {});  // every key on one page
  std::vector<std::vector<std::string>> rows;
  for (const auto& key : *keys) {
    rows.push_back({key.id, key.name, store::to_string(key.scope), key.prefix, format_time(key.created_at_ms),
                    format_time(key.last_used_at_ms), std::to_string(key.use_count), format_time(key.revoked_at_ms)});
  }
  print_table({"ID", "NAME", "SCOPE", "PREFIX", "CREATED", "LAST USED", "USES", "REVOKED"}, rows);
}

void revoke_key(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto key = service::KeyService(*db, clock).revoke(id, k_actor);
  if (!key) return ctx.fail(key.error());
  if (ctx.json) return print_json(service::to_json(*key));
  std::cout << "Revoked key " << key->id << " (\"" << key->name << "\") at " << format_time(key->revoked_at_ms)
            << ".\n";
}

void audit_key(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto audit = service::KeyService(*db, clock).audit(id);
  if (!audit) return ctx.fail(audit.error());
  const auto& key = audit->key;
  const auto& entries = audit->entries;
  if (ctx.json) {  // as GET /v1/admin/keys/{id}/audit: the key, then its history as one page
    auto out = page_json(entries, [](const auto& x) { return service::to_json(x); }, {});
    out["key"] = service::to_json(key);
    return print_json(out);
  }
  std::cout << "Key " << key.id << " (\"" << key.name << "\"): last used " << format_time(key.last_used_at_ms) << ", "
            << key.use_count << " uses\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : entries) rows.push_back({format_rfc3339(entry.at_ms), entry.action, entry.actor});
  print_table({"TIME", "ACTION", "ACTOR"}, rows);
}

}  // namespace

void add_keys_commands(CLI::App& app, CtlContext& ctx) {
  auto* keys = app.add_subcommand("keys", "Create, list, revoke and audit API keys");
  keys->require_subcommand(1);

  auto create_options = std::make_shared<CreateOptions>();
  auto* create = keys->add_subcommand("create", "Create a key; prints it once, alone on the last line");
  create->add_option("--name", create_options->name, "Who or what uses the key")->required();
  create->add_option("--scope", create_options->scope, "read | send | admin")
      ->required()
      ->check(CLI::IsMember({"read", "send", "admin"}));
  create->callback([&ctx, create_options] { create_key(ctx, *create_options); });

  keys->add_subcommand("list", "List keys (never the keys themselves)")->callback([&ctx] { list_keys(ctx); });

  auto revoke_id = std::make_shared<std::string>();
  auto* revoke = keys->add_subcommand("revoke", "Revoke a key: it stops working at once");
  revoke->add_option("ID", *revoke_id, "Key id (key_...)")->required();
  revoke->callback([&ctx, revoke_id] { revoke_key(ctx, *revoke_id); });

  auto audit_id = std::make_shared<std::string>();
  auto* audit = keys->add_subcommand("audit", "Show a key's history and usage");
  audit->add_option("ID", *audit_id, "Key id (key_...)")->required();
  audit->callback([&ctx, audit_id] { audit_key(ctx, *audit_id); });
}

}  // namespace mailer::cli
