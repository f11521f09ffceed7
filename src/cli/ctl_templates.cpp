// mailerctl templates create|list: enough template handling for an operator
// (and `make demo`) to prepare a `mailerctl send` without the HTTP API.

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
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

Result<service::TemplateInput> template_input(const CreateOptions& options) {
  service::TemplateInput input{options.name, options.subject, std::nullopt, std::nullopt};
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

nlohmann::json template_json(const store::Template& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"version", t.current_version},
          {"variables", t.current.content.variables},
          {"created_at", format_rfc3339(t.created_at_ms)},
          {"updated_at", format_rfc3339(t.updated_at_ms)}};
}

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

}  // namespace

void add_templates_commands(CLI::App& app, CtlContext& ctx) {
  auto* templates = app.add_subcommand("templates", "Create and list templates");
  templates->require_subcommand(1);

  auto options = std::make_shared<CreateOptions>();
  auto* create = templates->add_subcommand("create", "Create a template from files (mustache parts)");
  create->add_option("--name", options->name, "Unique template name")->required();
  auto* subject = create->add_option("--subject", options->subject, "Subject (mustache)");
  auto* subject_file = create->add_option("--subject-file", options->subject_file, "File holding the subject");
  subject->excludes(subject_file);
  create->add_option("--html-file", options->html_file, "HTML part (mustache)");
  create->add_option("--text-file", options->text_file, "Text part (mustache)");
  create->callback([&ctx, options, subject, subject_file] {
    if (subject->count() + subject_file->count() == 0) throw CLI::RequiredError("--subject or --subject-file");
    if (options->html_file.empty() && options->text_file.empty())
      throw CLI::RequiredError("--html-file or --text-file");
    create_template(ctx, *options);
  });

  templates->add_subcommand("list", "List templates")->callback([&ctx] { list_templates(ctx); });
}

}  // namespace mailer::cli
