// mailerctl suppressions list|add|remove|import|export (SPEC §6, §8). Import is
// all or nothing so a file with one bad row can be fixed and run again without
// wondering which half went in; export writes what import reads.

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/csv.hpp"
#include "mailer/service/suppressions.hpp"

namespace mailer::cli {
namespace {

const std::vector<std::string> k_reasons{"bounce", "complaint", "unsubscribe", "manual", "soft_bounce"};
const std::vector<std::string> k_export_columns{"email", "reason", "scope", "detail", "created_at"};
// Columns import reads; created_at is accepted (an export reads back) but not
// kept: an imported row is created now.
const std::vector<std::string> k_import_columns{"email", "reason", "scope", "detail", "created_at"};

struct ListOptions {
  std::string reason;
  int limit = 50;
  std::string cursor;
};

void list_suppressions(CtlContext& ctx, const ListOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  std::optional<std::string> reason;
  if (!options.reason.empty()) reason = options.reason;
  auto page = service::SuppressionService(*db, clock).list({options.limit, options.cursor, {}}, reason);
  if (!page)
    return ctx.fail(page.error(), page.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json)
    return print_page(
        page->data, [](const auto& x) { return service::to_json(x); }, page->next_cursor);
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : page->data)
    rows.push_back({s.email, store::to_string(s.reason), store::to_string(s.scope), format_rfc3339(s.created_at_ms)});
  print_table({"EMAIL", "REASON", "SCOPE", "CREATED"}, rows);
  print_more("suppressions list", page->next_cursor);
}

struct AddOptions {
  std::string email;
  std::string reason;
  std::string scope;
};

void add_suppression(CtlContext& ctx, const AddOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::SuppressionInput input{options.email, {}, {}};
  if (!options.reason.empty()) input.reason = options.reason;
  if (!options.scope.empty()) input.scope = options.scope;
  auto added = service::SuppressionService(*db, clock).add(input);
  if (!added) return ctx.fail(added.error());
  if (ctx.json) return print_json(service::to_json(*added));
  std::cout << "Suppressed " << added->email << " (" << store::to_string(added->reason) << ", scope "
            << store::to_string(added->scope) << ").\n";
}

void remove_suppression(CtlContext& ctx, const std::string& email) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto removed = service::SuppressionService(*db, clock).remove(email);
  if (!removed) return ctx.fail(removed.error());
  if (ctx.json) return print_json({{"removed", email}});
  std::cout << "Removed " << email << " from the suppression list.\n";
}

std::string cell(const service::CsvTable& table, const service::CsvRow& row, const char* column) {
  auto index = table.column(column);
  return index ? row.fields[*index] : std::string();
}

// The rows of an import file; unknown columns are an error (a typo such as
// "reson" must not silently import every row as `manual`).
Result<std::vector<service::SuppressionInput>> import_rows(const service::CsvTable& table, const std::string& path) {
  for (const auto& name : table.header)
    if (std::find(k_import_columns.begin(), k_import_columns.end(), name) == k_import_columns.end())
      return make_error(
          ErrorCode::invalid_input,
          fmt::format("{}: line 1: unknown column \"{}\" (expected email, reason, scope, detail)", path, name));
  if (!table.column("email"))
    return make_error(ErrorCode::invalid_input, fmt::format("{}: line 1: no \"email\" column in the header", path));
  std::vector<service::SuppressionInput> rows;
  std::vector<FieldError> problems;
  for (std::size_t i = 0; i < table.rows.size(); ++i) {
    const auto& row = table.rows[i];
    service::SuppressionInput input{cell(table, row, "email"), {}, {}, "{}"};
    if (auto reason = cell(table, row, "reason"); !reason.empty()) input.reason = reason;
    if (auto scope = cell(table, row, "scope"); !scope.empty()) input.scope = scope;
    if (auto detail = cell(table, row, "detail"); !detail.empty()) {
      auto parsed = parse_json(detail, "detail");
      if (parsed && parsed->is_object()) input.detail_json = parsed->dump();
      else if (parsed) problems.push_back({fmt::format("rows[{}].detail", i), "must be a JSON object"});
      else problems.push_back({fmt::format("rows[{}].detail", i), parsed.error().detail});
    }
    rows.push_back(std::move(input));
  }
  if (!problems.empty()) return Error{ErrorCode::invalid_input, "import rejected: invalid rows", std::move(problems)};
  return rows;
}

// "rows[3].email" -> "line 5: email", naming the row in the operator's file.
Error with_csv_lines(Error error, const service::CsvTable& table) {
  static const std::regex k_row_field(R"(^rows\[(\d+)\]\.(\w+)$)");
  for (auto& field : error.fields) {
    std::smatch match;
    if (!std::regex_match(field.field, match, k_row_field)) continue;
    std::size_t index = std::stoul(match[1]);
    if (index < table.rows.size()) field.field = fmt::format("line {}: {}", table.rows[index].line, match[2].str());
  }
  return error;
}

// Invalid rows are checked before the database is opened, and the service
// rechecks them all in one transaction: nothing is stored unless every row is.
void import_suppressions(CtlContext& ctx, const std::string& path) {
  auto table = service::read_csv(std::filesystem::path(path));
  if (!table) return ctx.fail(table.error());
  auto rows = import_rows(*table, path);
  if (!rows) return ctx.fail(with_csv_lines(std::move(rows).error(), *table));
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto imported = service::SuppressionService(*db, clock).import(*rows);
  if (!imported) return ctx.fail(with_csv_lines(std::move(imported).error(), *table));
  // The count is of addresses stored, not rows read: A@x.com and a@x.com are one.
  if (ctx.json) return print_json({{"imported", imported->stored}, {"duplicates", imported->duplicates}});
  std::cout << "Imported " << imported->stored << " suppression(s) from " << path;
  if (imported->duplicates > 0)
    std::cout << " (" << imported->duplicates << " duplicate row(s) repeated an address, in any case, and were merged)";
  std::cout << ".\n";
}

void export_suppressions(CtlContext& ctx, const std::string& path) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto all = service::SuppressionService(*db, clock).export_all();
  if (!all) return ctx.fail(all.error());
  std::string csv = service::csv_record(k_export_columns);
  for (const auto& s : *all)
    csv +=
        service::csv_record({s.email, store::to_string(s.reason), store::to_string(s.scope),
                             s.detail_json == "{}" ? std::string() : s.detail_json, format_rfc3339(s.created_at_ms)});
  if (path.empty()) {
    std::cout << csv;
    return;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << csv;
  out.close();
  if (!out)
    return ctx.fail(make_error(ErrorCode::internal, fmt::format("{}: cannot write: {}", path, std::strerror(errno))));
  std::cerr << "Exported " << all->size() << " suppression(s) to " << path << ".\n";
}

}  // namespace

void add_suppressions_commands(CLI::App& app, CtlContext& ctx) {
  auto* suppressions = app.add_subcommand("suppressions", "Addresses mail must not go to");
  suppressions->require_subcommand(1);

  auto list_options = std::make_shared<ListOptions>();
  auto* list = suppressions->add_subcommand("list", "List suppressed addresses, ordered by address");
  list->add_option("--reason", list_options->reason, "Only this reason")->check(CLI::IsMember(k_reasons));
  list->add_option("--limit", list_options->limit, "Rows per page (1-1000, default 50)")->check(CLI::Range(1, 1000));
  list->add_option("--cursor", list_options->cursor, "Continue after a previous page");
  list->callback([&ctx, list_options] { list_suppressions(ctx, *list_options); });

  auto add_options = std::make_shared<AddOptions>();
  auto* add = suppressions->add_subcommand("add", "Suppress an address");
  add->add_option("EMAIL", add_options->email, "Address (any case)")->required();
  add->add_option("--reason", add_options->reason, "manual (default), bounce, complaint, unsubscribe, soft_bounce")
      ->check(CLI::IsMember(k_reasons));
  add->add_option("--scope", add_options->scope, "all (every message) or bulk (bulk only); default from the reason")
      ->check(CLI::IsMember({"all", "bulk"}));
  add->callback([&ctx, add_options] { add_suppression(ctx, *add_options); });

  auto remove_email = std::make_shared<std::string>();
  auto* remove = suppressions->add_subcommand("remove", "Lift a suppression");
  remove->add_option("EMAIL", *remove_email, "Address (any case)")->required();
  remove->callback([&ctx, remove_email] { remove_suppression(ctx, *remove_email); });

  auto import_path = std::make_shared<std::string>();
  auto* import = suppressions->add_subcommand("import", "Import a CSV (email[,reason,scope,detail]); all rows or none");
  import->add_option("FILE", *import_path, "CSV file with a header row")->required();
  import->callback([&ctx, import_path] { import_suppressions(ctx, *import_path);
});

auto export_path = std::make_shared<std::string>();
auto* exporter = suppressions->add_subcommand("export", "Write every suppression as CSV (stdout or FILE)");
exporter->add_option("FILE", *export_path, "Output file (default: stdout)");
exporter->callback([&ctx, export_path] { export_suppressions(ctx, *export_path); });
}  // namespace mailer::cli

}  // namespace mailer::cli
