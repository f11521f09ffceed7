// mailerctl send: a batch from a CSV file (SPEC §8). The `email` column is the
// address; every other column is a per-recipient string variable. The batch is
// accepted into the database exactly as POST /v1/batches would (same service,
// same checks); mailerd's engine picks it up at its next poll. Then, unless
// --detach, the batch is followed to completion (ctl_progress.hpp).

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <regex>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "cli/ctl_progress.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/render/attachments.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/csv.hpp"
#include "mailer/service/templates.hpp"

namespace mailer::cli {
namespace {

struct SendOptions {
  std::string template_name;
  std::string from;
  std::string recipients_path;
  std::vector<std::string> reply_to;
  std::string send_at;
  std::string send_before;
  std::string configuration_set;
  std::string contact_list;  // SES list management
  std::string topic;         // needs contact_list
  std::vector<std::string> tags;  // "name=value"
  std::vector<std::string> attach;  // "path=content/type"
  std::string variables_json;
  bool skip_invalid = false;
  bool detach = false;  // return once accepted instead of following the batch
  WatchOptions watch;
};

// Every CSV column but `email` becomes a variable of its row. An empty cell is
// left out, so a batch-wide --variables-json value still applies to that row.
std::vector<service::RecipientInput> recipients_from(const service::CsvTable& table, std::size_t email_column) {
  std::vector<service::RecipientInput> recipients;
  recipients.reserve(table.rows.size());
  for (const auto& row : table.rows) {
    service::RecipientInput recipient{row.fields[email_column], nlohmann::json::object()};
    for (std::size_t i = 0; i < row.fields.size(); ++i)
      if (i != email_column && !row.fields[i].empty()) recipient.variables[table.header[i]] = row.fields[i];
    recipients.push_back(std::move(recipient));
  }
  return recipients;
}

// `--attach PATH=TYPE` as an API attachment: the file's name without its
// directory, read whole (bounded by the per-file limit before reading) and
// sent base64, so the service checks it exactly as it checks POST /v1/batches.
Result<nlohmann::json> attachment_from(const std::string& spec) {
  auto equals = spec.rfind('=');
  if (equals == std::string::npos || equals == 0 || equals + 1 == spec.size())
    return make_error(ErrorCode::invalid_input, fmt::format("--attach {}: expected PATH=CONTENT_TYPE", spec));
  const std::filesystem::path path(spec.substr(0, equals));
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (error) return make_error(ErrorCode::invalid_input, fmt::format("--attach {}: {}", spec, error.message()));
  if (size > render::k_max_attachment_bytes)
    return make_error(ErrorCode::too_large, fmt::format("--attach {}: {} bytes; at most {} are allowed per file", spec,
                                                        size, render::k_max_attachment_bytes));
  std::ifstream in(path, std::ios::binary);
  std::string bytes(static_cast<std::size_t>(size), '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(size)))
    return make_error(ErrorCode::invalid_input, fmt::format("--attach {}: cannot be read", spec));
  return nlohmann::json{{"filename", path.filename().string()},
                        {"content_type", spec.substr(equals + 1)},
                        {"content", crypto::base64_encode(bytes)}};
}

// The option-only parts of the request; usage errors name the option.
Result<service::BatchRequest> request_from_options(const SendOptions& options) {
  service::BatchRequest request;
  request.from = options.from;
  request.reply_to = options.reply_to;
  request.skip_invalid = options.skip_invalid;
  if (!options.send_at.empty()) request.send_at = options.send_at;
  if (!options.send_before.empty()) request.send_before = options.send_before;
  if (!options.configuration_set.empty()) request.configuration_set = options.configuration_set;
  if (!options.topic.empty() && options.contact_list.empty())
    return make_error(ErrorCode::invalid_input,
                      fmt::format("--topic {}: needs --contact-list, the SES contact list the topic belongs to",
                                  options.topic));
  if (!options.contact_list.empty()) {
    request.list_management = service::ListManagementInput{options.contact_list, std::nullopt};
    if (!options.topic.empty()) request.list_management->topic_name = options.topic;
  }
  if (!options.variables_json.empty()) {
    auto variables = parse_json(options.variables_json, "--variables-json", {.max_bytes = k_size_checked_elsewhere});
    if (!variables) return std::move(variables).error();
    request.variables = std::move(*variables);
  }
  if (!options.tags.empty()) request.tags = nlohmann::json::object();
  for (const auto& tag : options.tags) {
    auto equals = tag.find('=');
    if (equals == std::string::npos || equals == 0)
      return make_error(ErrorCode::invalid_input, fmt::format("--tag {}: expected NAME=VALUE", tag));
    request.tags[tag.substr(0, equals)] = tag.substr(equals + 1);
  }
  for (const auto& spec : options.attach) {
    auto attachment = attachment_from(spec);
    if (!attachment) return std::move(attachment).error();
    request.attachments.push_back(std::move(*attachment));
  }
  return request;
}

// "recipients[12].email" -> "line 14 (recipient 12): email", so the operator
// can find the row in the file, and "attachments[0].filename" -> "--attach
// setup.exe=...: filename", "attachments" (their count or total size) -> "--attach";
// other fields are left as they are.
Error with_csv_lines(Error error, const service::CsvTable& table, std::size_t email_column,
                     const std::vector<std::string>& attach) {
  static const std::regex k_recipient_field(R"(^recipients\[(\d+)\]\.(\w+)$)");
  static const std::regex k_attachment_field(R"(^attachments\[(\d+)\]\.(\w+)$)");
  for (auto& field : error.fields) {
    if (field.field == "list_management.contact_list_name") field.field = "--contact-list";
    if (field.field == "list_management.topic_name") field.field = "--topic";
    if (field.field == "attachments") field.field = "--attach";
    std::smatch match;
    if (std::regex_match(field.field, match, k_attachment_field) && std::stoul(match[1]) < attach.size()) {
      field.field = fmt::format("--attach {}: {}", attach[std::stoul(match[1])], std::string(match[2]));
      continue;
    }
    if (!std::regex_match(field.field, match, k_recipient_field)) continue;
    std::size_t index = std::stoul(match[1]);
    if (index >= table.rows.size()) continue;
    std::string what = match[2];
    if (what == "email")
      field.message = fmt::format("\"{}\": {}", table.rows[index].fields[email_column], field.message);
    field.field = fmt::format("line {} (recipient {}): {}", table.rows[index].line, index, what);
  }
  return error;
}

// Names the columns that were found, so a stray space, a misspelling or a
// file exported with semicolons (a common spreadsheet default) is seen at once.
Error no_email_column(const std::string& path, const std::vector<std::string>& header) {
  std::string found;
  for (const auto& name : header) found += fmt::format("{}\"{}\"", found.empty() ? "" : ", ", name);
  std::string detail = fmt::format("{}: line 1: no \"email\" column in the header (found {})", path, found);
  if (header.size() == 1 && header.front().find(';') != std::string::npos)
    detail += "; fields must be separated by commas, not semicolons";
  return make_error(ErrorCode::invalid_input, std::move(detail));
}

void print_accepted(CtlContext& ctx, const service::BatchAccepted& accepted, const service::CsvTable& table) {
  auto line_of = [&](int index) { return table.rows.at(static_cast<std::size_t>(index)).line; };
  if (ctx.json) {
    // The API's 202 body, with what only a file has: its row count and each
    // skipped recipient's line.
    auto body = service::to_json(accepted);
    body["recipients"] = table.rows.size();
    for (auto& item : body["invalid"]) item["line"] = line_of(item["index"].get<int>());
    return print_json(body);
  }
  std::cout << "Batch " << accepted.id << " (" << store::to_string(accepted.status) << "): " << table.rows.size()
            << " recipients\n";
  print_table({"ACCEPTED", "DUPLICATE", "SUPPRESSED", "INVALID"},
              {{std::to_string(accepted.accepted), std::to_string(accepted.duplicate),
                std::to_string(accepted.suppressed), std::to_string(accepted.invalid.size())}});
  if (accepted.invalid.empty()) return;
  std::cout << "\nSkipped invalid recipients:\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& i : accepted.invalid)
    rows.push_back({std::to_string(line_of(i.index)), std::to_string(i.index), i.address, i.reason});
  print_table({"LINE", "INDEX", "ADDRESS", "REASON"}, rows);
}

void run_send(CtlContext& ctx, const SendOptions& options) {
  auto request = request_from_options(options);
  if (!request) return ctx.fail(request.error(), k_exit_usage);
  auto table = service::read_csv(std::filesystem::path(options.recipients_path));
  if (!table) return ctx.fail(table.error());
  auto email_column = table->column("email");
  if (!email_column) return ctx.fail(no_email_column(options.recipients_path, table->header));
  // Caught here, where the file is known: the service would only say that
  // "recipients" is empty, leaving the operator to guess which input was.
  if (table->rows.empty())
    return ctx.fail(make_error(
        ErrorCode::invalid_input,
        fmt::format("{}: no data rows: the file has a header line but no recipients", options.recipients_path)));
  request->recipients = recipients_from(*table, *email_column);

  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  // mailerd may have the secret from its own environment, so this is a
  // warning, not a refusal: without it every message would be dead-lettered.
  if (ctx.config.unsubscribe.secret.empty() && !request->list_management)
    std::cerr << "mailerctl: warning: unsubscribe.secret is not set in this configuration; a mailerd without it "
                 "sends none of this bulk batch (every message goes to the DLQ). Set it, or use --contact-list.\n";
  SystemClock clock;
  auto found = service::TemplateService(*db, clock).find_by_name(options.template_name);
  if (!found) return ctx.fail(found.error());
  request->template_id = found->id;
  // unsubscribe.secret is mailerd's: it signs the links when it sends (and
  // refuses to send bulk mail without one), so this process need not know it.
  service::AcceptOptions accept{ctx.config.limits.max_recipients, /*unsubscribe_secret_set=*/true, {}};
  // Storing a large file takes a few seconds: say so on a terminal, then
  // clear the line for the summary.
  bool on_terminal = !ctx.json && stdout_is_terminal();
  if (on_terminal) std::cout << "Storing " << request->recipients.size() << " recipients..." << std::flush;
  auto accepted = service::BatchService(*db, clock).accept_batch(std::move(*request), accept);
  if (on_terminal) std::cout << "\r\x1b[K" << std::flush;
  if (!accepted) return ctx.fail(with_csv_lines(std::move(accepted).error(), *table, *email_column, options.attach));
  print_accepted(ctx, *accepted, *table);
  if (options.detach) return;
  // Hours may pass before a scheduled batch starts: not worth a terminal.
  if (accepted->status == store::BatchStatus::scheduled) {
    (ctx.json ? std::cerr : std::cout) << "The batch is scheduled; follow it later with `mailerctl batches watch "
                                       << accepted->id << "`.\n";
    return;
  }
  if (!ctx.json)
    std::cout << "\nFollowing the batch (Ctrl-C stops watching, the batch goes on; --detach skips this):\n";
  std::cout << std::flush;
  follow_to_end(ctx, *db, accepted->id, options.watch);
}

}  // namespace

// An SES contact list or topic name, checked as CLI11 checks any value (a
// usage error, exit 2, naming the option): an empty one would otherwise
// quietly mean "no list management" and the batch would carry mailerd's own
// unsubscribe links instead.
CLI::Validator ses_list_name() {
  return CLI::Validator([](const std::string& name) { return service::ses_list_name_problem(name); }, "NAME");
}

void add_send_commands(CLI::App& app, CtlContext& ctx) {
  auto options = std::make_shared<SendOptions>();
  auto* send = app.add_subcommand("send", "Send a batch to the recipients of a CSV file (header: email, variables...)");
  send->add_option("--template", options->template_name, "Template name")->required();
  send->add_option("--from", options->from, "Sender, \"Name <addr>\" or addr")->required();
  send->add_option("--recipients", options->recipients_path, "CSV file: an email column, every other column a variable")
      ->required()
      ->check(CLI::ExistingFile);
  send->add_option("--reply-to", options->reply_to, "Reply-To address (repeatable)");
  send->add_option("--send-at", options->send_at, "Send at this RFC 3339 time (default: now)");
  send->add_option("--send-before", options->send_before, "Cancel what has not gone out by this RFC 3339 time");
  send->add_option("--configuration-set", options->configuration_set, "SES configuration set");
  send->add_option("--contact-list", options->contact_list,
                   "SES contact list: SES adds its unsubscribe headers and link, mailerd none")
      ->check(ses_list_name());
  send->add_option("--topic", options->topic, "Topic of the SES contact list (needs --contact-list)")
      ->check(ses_list_name());
  send->add_option("--tag", options->tags, "SES message tag NAME=VALUE (repeatable)");
  send->add_option("--attach", options->attach,
                   "Attach FILE=CONTENT_TYPE to every message, e.g. terms.pdf=application/pdf (repeatable, at most 10)");
  send->add_option("--variables-json", options->variables_json,
                   "Batch variables as a JSON object; CSV columns override them");
  send->add_flag("--skip-invalid", options->skip_invalid,
                 "Skip invalid addresses instead of rejecting the whole batch");
  send->add_flag("--detach", options->detach, "Return once the batch is accepted, without following it");
  add_watch_options(*send, options->watch);
  send->callback([&ctx, options] { run_send(ctx, *options); });
}

}  // namespace mailer::cli
