// mailerctl templates create|list|show|update|render: the /v1/templates
// calls for an operator at the database file (and `make demo`), so a
// `mailerctl send` can be prepared and previewed without the HTTP API. A
// template is named by its id (tmpl_...) or its name.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/templates.hpp"

namespace mailer::cli {
namespace {

struct CreateOptions {
  std::string name;
  std::string subject;
  std::string subject_file;
  std::string html_file;
  std::string text_file;
};

Result<std::string> read_file(const std::string& option, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(ErrorCode::invalid_input,
                      fmt::format("{} {}: cannot open: {}", option, path, std::strerror(errno)));
  std::ostringstream content;
  content << in.rdbuf();
  return content.str();
}

// A subject is one line; an editor's final newline in subject.txt is not part of it.
std::string strip_final_newline(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// `current` is the template being updated: a part not given keeps its text.
Result<service::TemplateInput> template_input(const CreateOptions& options, const store::Template* current = nullptr) {
  service::TemplateInput input{options.name, options.subject, std::nullopt, std::nullopt};
  if (current != nullptr) {
    if (input.subject.empty()) input.subject = current->current.content.subject;
    input.html = current->current.content.html;
    input.text = current->current.content.text;
  }
  if (!options.subject_file.empty()) {
    auto subject = read_file("--subject-file", options.subject_file);
    if (!subject) return subject.error();
    input.subject = strip_final_newline(std::move(*subject));
  }
  if (!options.html_file.empty()) {
    auto html = read_file("--html-file", options.html_file);
    if (!html) return html.error();
    input.html = std::move(*html);
  }
  if (!options.text_file.empty()) {
    auto text = read_file("--text-file", options.text_file);
    if (!text) return text.error();
    input.text = std::move(*text);
  }
  return input;
}

nlohmann::json template_json(const store::Template& t) { return service::to_json(t); }

std::string joined(const std::vector<std::string>& names) {
  return names.empty() ? std::string("-") : fmt::format("{}", fmt::join(names, ", "));
}

void create_template(CtlContext& ctx, const CreateOptions& options) {
  auto input = template_input(options);
  if (!input) return ctx.fail(input.error());
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto created = service::TemplateService(*db, clock).create(*input);
  if (!created) return ctx.fail(created.error());
  if (ctx.json) return print_json(template_json(*created));
  std::cout << "Created template " << created->id << " (\"" << created->name
            << "\"), variables: " << joined(created->current.content.variables) << "\n";
}

// The database and, in it, a template named by id ("tmpl_...") or name;
// nullopt after reporting through ctx.
struct FoundTemplate {
  std::unique_ptr<store::Database> db;
  store::Template found;
};
std::optional<FoundTemplate> open_template(CtlContext& ctx, const std::string& id_or_name) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return std::nullopt;
  SystemClock clock;
  service::TemplateService templates(*db, clock);
  auto found = id_or_name.starts_with("tmpl_") ? templates.get(id_or_name) : templates.find_by_name(id_or_name);
  if (!found) {
    ctx.fail(found.error());
    return std::nullopt;
  }
  return FoundTemplate{std::move(db), std::move(*found)};
}

void print_template(const store::Template& t) {
  const auto& c = t.current.content;
  print_table({"FIELD", "VALUE"}, {{"id", t.id},
                                   {"name", t.name},
                                   {"version", std::to_string(t.current_version)},
                                   {"subject", c.subject},
                                   {"variables", joined(c.variables)},
                                   {"created", format_rfc3339(t.created_at_ms)},
                                   {"updated", format_rfc3339(t.updated_at_ms)}});
  if (c.html) std::cout << "\n--- html\n" << *c.html << (c.html->ends_with('\n') ? "" : "\n");
  if (c.text) std::cout << "\n--- text\n" << *c.text << (c.text->ends_with('\n') ? "" : "\n");
}

void show_template(CtlContext& ctx, const std::string& id_or_name) {
  auto opened = open_template(ctx, id_or_name);
  if (!opened) return;
  if (ctx.json) return print_json(template_json(opened->found));
  print_template(opened->found);
}

struct UpdateOptions {
  std::string id_or_name;
  CreateOptions parts;  // name: the new name, or "" to keep it
};

void update_template(CtlContext& ctx, const UpdateOptions& options) {
  auto opened = open_template(ctx, options.id_or_name);
  if (!opened) return;
  auto input = template_input(options.parts, &opened->found);
  if (!input) return ctx.fail(input.error());
  SystemClock clock;
  auto updated = service::TemplateService(*opened->db, clock).update(opened->found.id, *input);
  if (!updated) return ctx.fail(updated.error());
  if (ctx.json) return print_json(template_json(*updated));
  std::cout << "Updated template " << updated->id << " (\"" << updated->name << "\") to version "
            << updated->current_version << ", variables: " << joined(updated->current.content.variables) << "\n";
}

struct RenderOptions {
  std::string id_or_name;
  std::string variables_json;
  int version = 0;  // 0: the current version
};

void render_template(CtlContext& ctx, const RenderOptions& options) {
  nlohmann::json variables = nlohmann::json::object();
  if (!options.variables_json.empty()) {
    auto parsed = parse_json(options.variables_json, "--variables-json", {.max_bytes = k_size_checked_elsewhere});
    if (!parsed) return ctx.fail(parsed.error(), k_exit_usage);
    variables = std::move(*parsed);
  }
  auto opened = open_template(ctx, options.id_or_name);
  if (!opened) return;
  std::optional<int> version;
  if (options.version > 0) version = options.version;
  SystemClock clock;
  auto rendered = service::TemplateService(*opened->db, clock).render_preview(opened->found.id, variables, version);
  if (!rendered) return ctx.fail(rendered.error());
  if (ctx.json) return print_json(service::to_json(*rendered));
  std::cout << "Subject: " << rendered->subject << "\n";
  if (rendered->html) std::cout << "\n--- html\n" << *rendered->html << "\n";
  if (rendered->text) std::cout << "\n--- text\n" << *rendered->text << "\n";
}

void list_templates(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::TemplateService templates(*db, clock);
  std::vector<store::Template> all;
  service::PageParams page{service::k_max_page_limit, {}, {}};
  do {
    auto found = templates.list(page);
    if (!found) return ctx.fail(found.error());
    for (auto& t : found->data) all.push_back(std::move(t));
    page.cursor = found->next_cursor;
  } while (!page.cursor.empty());
  if (ctx.json) return print_page(all, template_json, {});  // every page read above
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : all)
    rows.push_back({t.id, t.name, std::to_string(t.current_version), joined(t.current.content.variables),
                    format_rfc3339(t.updated_at_ms)});
  print_table({"ID", "NAME", "VERSION", "VARIABLES", "UPDATED"}, rows);
}

// --subject | --subject-file, --html-file, --text-file.
void add_part_options(CLI::App& command, CreateOptions& options) {
  auto* subject = command.add_option("--subject", options.subject, "Subject (mustache)");
  auto* subject_file = command.add_option("--subject-file", options.subject_file, "File holding the subject");
  subject->excludes(subject_file);
  command.add_option("--html-file", options.html_file, "HTML part (mustache)");
  command.add_option("--text-file", options.text_file, "Text part (mustache)");
}

}  // namespace

void add_templates_commands(CLI::App& app, CtlContext& ctx) {
  auto* templates = app.add_subcommand("templates", "Create, list, show, update and preview templates");
  templates->require_subcommand(1);

  auto options = std::make_shared<CreateOptions>();
  auto* create = templates->add_subcommand("create", "Create a template from files (mustache parts)");
  create->add_option("--name", options->name, "Unique template name")->required();
  add_part_options(*create, *options);
  create->callback([&ctx, options, create] {
    if (create->count("--subject") + create->count("--subject-file") == 0)
      throw CLI::RequiredError("--subject or --subject-file");
    if (options->html_file.empty() && options->text_file.empty())
      throw CLI::RequiredError("--html-file or --text-file");
    create_template(ctx, *options);
  });

  auto show_id = std::make_shared<std::string>();
  auto* show = templates->add_subcommand("show", "A template's current version: subject, parts and variables");
  show->add_option("TEMPLATE", *show_id, "Template id (tmpl_...) or name")->required();
  show->callback([&ctx, show_id] { show_template(ctx, *show_id); });

  auto update_options = std::make_shared<UpdateOptions>();
  auto* update = templates->add_subcommand("update", "Store a new version; parts not given keep their text");
  update->add_option("TEMPLATE", update_options->id_or_name, "Template id (tmpl_...) or name")->required();
  update->add_option("--name", update_options->parts.name, "Rename the template");
  add_part_options(*update, update_options->parts);
  update->callback([&ctx, update_options] { update_template(ctx, *update_options); });

  auto render_options = std::make_shared<RenderOptions>();
  auto* render = templates->add_subcommand("render", "Preview a template rendered with variables, as sent");
  render->add_option("TEMPLATE", render_options->id_or_name, "Template id (tmpl_...) or name")->required();
  render->add_option("--variables-json", render_options->variables_json, "Variables as a JSON object");
  render->add_option("--version", render_options->version, "Render this version (default: the current one)")
      ->check(CLI::Range(1, 1'000'000'000));
  render->callback([&ctx, render_options] { render_template(ctx, *render_options); });

  templates->add_subcommand("list", "List templates")->callback([&ctx] { list_templates(ctx); });
}

}  // namespace mailer::cli
