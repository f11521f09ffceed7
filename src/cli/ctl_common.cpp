#include "cli/ctl_common.hpp"

#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/text.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/events.hpp"
#include "mailer/store/database.hpp"

namespace mailer::cli {
Result<Config> resolve_config(const std::string& config_path, const std::string& db_override) {
  auto loaded = load_config(config_path);
  if (!loaded) return std::move(loaded).error();
  Config config = std::move(loaded->config);
  if (!db_override.empty()) config.db.path = db_override;
  return config;
}

bool CtlContext::resolve() {
  if (m_resolved) return true;
  auto loaded = resolve_config(config_path, db_path);
  if (!loaded) {
    fail(loaded.error(), k_exit_config);
    return false;
  }
  config = std::move(*loaded);
  m_resolved = true;
  return true;
}

void CtlContext::fail(const Error& error, int exit_code_to_use) {
  if (json) {
    print_json_error(error, exit_code_to_use);
  } else if (exit_code_to_use == k_exit_config) {
    print_config_errors(error, std::cerr);
  } else {
    std::cerr << "mailerctl: " << error.detail << "\n";
    for (const auto& field : error.fields) std::cerr << "  " << field.field << ": " << field.message << "\n";
    if (auto note = error.fields.omitted_note()) std::cerr << "  " << note->message << "\n";
  }
  exit_code = exit_code_to_use;
}

std::unique_ptr<store::Database> open_database(CtlContext& ctx, SchemaCheck schema_check, store::OpenMode mode) {
  if (!ctx.resolve()) return nullptr;
  const auto& path = ctx.config.db.path;
  if (mode == store::OpenMode::existing && !std::filesystem::exists(path)) {
    ctx.fail(Error{ErrorCode::not_found, fmt::format("database {} does not exist; create it by starting mailerd once "
                                                     "or with `mailerctl --db {} migrate`",
                                                     path, path)});
    return nullptr;
  }
  auto db = store::Database::open(path, mode);
  if (!db) {
    ctx.fail(db.error());
    return nullptr;
  }
  if (schema_check == SchemaCheck::require_current) {
    auto schema = store::require_current_schema(
        **db, "mailerctl",
        "stop mailerd, then run `mailerctl migrate` (or start the new mailerd, which migrates "
        "at start)");
    if (!schema) {
      // A schema this mailerctl cannot use is a setup problem (78, like a bad
      // configuration) but one sentence, not fail()'s list of config fields.
      if (schema.error().code != ErrorCode::conflict) {
        ctx.fail(schema.error());
      } else if (ctx.json) {
        ctx.fail(schema.error(), k_exit_config);
      } else {
        std::cerr << "mailerctl: " << schema.error().detail << "\n";
        ctx.exit_code = k_exit_config;
      }
      return nullptr;
    }
  }
  return std::move(*db);
}

std::string format_time(std::optional<std::int64_t> ms) { return ms ? format_rfc3339(*ms) : std::string("-"); }

void print_json(const nlohmann::json& value) { std::cout << dump_json(value, 2) << "\n"; }

nlohmann::json page_json(nlohmann::json data, const std::string& next_cursor) {
  return service::page_json(std::move(data), next_cursor);
}

namespace {

std::vector<std::string>& invocation() {
  static std::vector<std::string> words;
  return words;
}

// A word as a POSIX shell reads it back: bare when it holds only safe
// characters, else in single quotes.
std::string shell_word(const std::string& word) {
  bool safe = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                      "0123456789@%+=:,./_-") == std::string::npos;
  if (safe) return word;
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

void remember_invocation(int argc, const char* const* argv) {
  invocation().assign(argv + std::min(argc, 1), argv + argc);
}

void print_more(const std::string& command, const std::string& next_cursor) {
  if (next_cursor.empty()) return;
  std::string line = "more: mailerctl";
  if (invocation().empty()) line += " " + command;
  for (std::size_t i = 0; i < invocation().size(); ++i) {
    const auto& word = invocation()[i];
    if (word == "--cursor") {
      ++i;  // and its value
      continue;
    }
    if (word.rfind("--cursor=", 0) == 0) continue;
    line += " " + shell_word(word);
  }
  std::cout << line << " --cursor " << next_cursor << "\n";
}

nlohmann::json error_json(const Error& error, int exit_code) {
  const std::string code(to_string(error.code));
  nlohmann::json body = {{"type", "https://mailerd.dev/problems/" + code},
                         {"code", code},
                         {"detail", error.detail},
                         {"exit_code", exit_code}};
  if (!error.fields.empty()) {
    auto errors = nlohmann::json::array();
    for (const auto& f : error.fields) errors.push_back({{"field", f.field}, {"message", f.message}});
    if (auto note = error.fields.omitted_note()) errors.push_back({{"field", note->field}, {"message", note->message}});
    body["errors"] = std::move(errors);
  }
  return {{"error", std::move(body)}};
}

void print_json_error(const Error& error, int exit_code) {
  std::cerr << dump_json(error_json(error, exit_code), 2) << "\n";
}

bool stdin_is_terminal() { return ::isatty(STDIN_FILENO) == 1; }
bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }
bool stderr_is_terminal() { return ::isatty(STDERR_FILENO) == 1; }

bool ask_yes_no(const std::string& question) {
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  while (!answer.empty() && (answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  for (char& c : answer) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return answer == "y" || answer == "yes";
}

std::string printable(const std::string& text, std::size_t max_chars) {
  std::string out = text::shorten(text, max_chars);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

void print_events(const std::vector<store::Event>& events) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events)
    rows.push_back({service::event_public_id(e.id), e.type, printable(e.email), e.batch_id.value_or("-"),
                    e.message_id.value_or("-"), format_rfc3339(e.occurred_at_ms)});
  print_table({"ID", "TYPE", "EMAIL", "BATCH", "MESSAGE", "OCCURRED"}, rows);
}

void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& header : headers) widths.push_back(header.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  auto print_row = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (std::size_t i = 0; i < cells.size() && i < widths.size(); ++i) {
      line += cells[i];
      if (i + 1 < cells.size()) line += std::string(widths[i] - cells[i].size() + 2, ' ');
    }
    std::cout << line << "\n";
  };
  print_row(headers);
  for (const auto& row : rows) print_row(row);
}

}  // namespace mailer::cli
