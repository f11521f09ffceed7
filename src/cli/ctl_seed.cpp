// mailerctl seed: demo data for a fresh database (a template and a few
// suppressions, SPEC §8). Idempotent: what exists already is left as it is and
// reported, so `make demo` can run it every time.

#include <iostream>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/suppressions.hpp"
#include "mailer/service/templates.hpp"

namespace mailer::cli {
namespace {

const service::TemplateInput k_welcome{
    "welcome", "Welcome, {{first_name}}!",
    "<!doctype html>\n<html><body>\n<p>Hello {{first_name}},</p>\n"
    "<p>thanks for joining us from {{city}}. You are on the <strong>{{plan}}</strong> plan.</p>\n"
    "<p><a href=\"{{unsubscribe_url}}\">Unsubscribe</a></p>\n</body></html>\n",
    "Hello {{first_name}},\n\nthanks for joining us from {{city}}. You are on the {{plan}} plan.\n\n"
    "Unsubscribe: {{unsubscribe_url}}\n"};

// Addresses that also appear in examples/recipients.csv, so a demo send shows
// suppressed recipients of each scope.
const service::SuppressionInput k_suppressions[] = {
    {"bounced.reader@example.org", "bounce", std::nullopt, R"({"bounce_type":"Permanent","seed":true})"},
    {"complained.reader@example.net", "complaint", std::nullopt, R"({"seed":true})"},
    {"unsubscribed.reader@example.com", "unsubscribe", "bulk", R"({"seed":true})"},
};

struct Seeded {
  std::string what;
  bool created = false;
};

Result<Seeded> seed_template(service::TemplateService& templates) {
  auto found = templates.find_by_name(k_welcome.name);
  if (found) return Seeded{"template " + found->name + " (" + found->id + ")", false};
  if (found.error().code != ErrorCode::not_found) return found.error();
  auto created = templates.create(k_welcome);
  if (!created) return created.error();
  return Seeded{"template " + created->name + " (" + created->id + ")", true};
}

Result<Seeded> seed_suppression(service::SuppressionService& suppressions, const service::SuppressionInput& input) {
  std::string what = "suppression " + input.email + " (" + input.reason.value_or("manual") + ")";
  auto found = suppressions.get(input.email);
  if (found) return Seeded{what, false};
  if (found.error().code != ErrorCode::not_found) return found.error();
  auto added = suppressions.add(input);
  if (!added) return added.error();
  return Seeded{what, true};
}

void run_seed(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::TemplateService templates(*db, clock);
  service::SuppressionService suppressions(*db, clock);
  std::vector<Seeded> seeded;
  auto welcome = seed_template(templates);
  if (!welcome) return ctx.fail(welcome.error());
  seeded.push_back(*welcome);
  for (const auto& input : k_suppressions) {
    auto row = seed_suppression(suppressions, input);
    if (!row) return ctx.fail(row.error());
    seeded.push_back(*row);
  }
  if (ctx.json) {
    auto out = nlohmann::json::array();
    for (const auto& s : seeded) out.push_back({{"item", s.what}, {"created", s.created}});
    return print_json(out);
  }
  for (const auto& s : seeded) std::cout << (s.created ? "created " : "present ") << s.what << "\n";
}

}  // namespace

void add_seed_commands(CLI::App& app, CtlContext& ctx) {
  app.add_subcommand("seed", "Add demo data: the \"welcome\" template and a few suppressions (idempotent)")
      ->callback([&ctx] { run_seed(ctx); });
}

}  // namespace mailer::cli
