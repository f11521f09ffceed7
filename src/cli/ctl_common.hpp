#pragma once
// What every mailerctl command group shares: the context (global options and
// configuration), the registration function of each group, opening the
// database, error reporting and output helpers.
//
// Adding a command group, e.g. `mailerctl dlq ...`:
//   1. Write src/cli/ctl_dlq.cpp (the build picks up src/cli/ctl_*.cpp) with
//        void add_dlq_commands(CLI::App& app, CtlContext& ctx);
//      which adds a "dlq" subcommand and its children. Each child's callback runs
//      the command and leaves its outcome in ctx.exit_code, usually through
//      open_database() and fail() below. Read ctx.json for --json output.
//   2. Declare the function below and add {"dlq", add_dlq_commands} to
//      k_command_groups in mailerctl_main.cpp.
//
// Exit codes (sysexits.h): 0 ok, 1 failure, 2 usage, 78 configuration
// (including a database schema this mailerctl cannot use as it is).
//
// --json output: a command's result is one JSON document on stdout; every list
// is a page, {"data": [...], "next_cursor": null|"..."} (print_page), as in the
// HTTP API. An error is one JSON document on stderr (print_json_error), stdout
// stays empty, and the exit code is the same as without --json.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/core/json.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"

namespace CLI {
class App;
}

namespace mailer::cli {

inline constexpr int k_exit_ok = 0;
inline constexpr int k_exit_failure = 1;
inline constexpr int k_exit_usage = 2;
inline constexpr int k_exit_config = k_config_exit_code;  // 78

struct CtlContext {
  std::string config_path;    // --config FILE; empty: defaults plus environment
  std::string db_path;        // --db PATH; empty: db.path from the configuration
  bool json = false;          // --json: machine-readable output on stdout
  Config config;              // valid after resolve() succeeds
  int exit_code = k_exit_ok;  // set by the command that ran

  /// Loads the configuration once (see resolve_config); on failure prints every
  /// problem, sets exit_code to 78 and returns false.
  bool resolve();
  /// Prints "mailerctl: <detail>" (and field problems) to stderr, or under
  /// --json the error document (print_json_error), and sets exit_code to
  /// `exit_code_to_use`.
  void fail(const Error& error, int exit_code_to_use = k_exit_failure);

 private:
  bool m_resolved = false;
};

/// The effective configuration for `config_path` and a --db override.
/// FIXME(lead): switch to mailer::load_config(config_path) when it lands; this
/// stand-in reads only db.path and db.auto_migrate (mailerd's) from the TOML file, then
/// MAILER_DB_PATH, then DATABASE_URL (a path, or "sqlite:PATH" / "sqlite://PATH"),
/// then `db_override`. Errors: invalid_input with one FieldError per problem.
Result<Config> resolve_config(const std::string& config_path, const std::string& db_override);

/// Whether open_database checks the schema version. mailerctl never migrates
/// as a side effect: an older mailerd may still be running on the file and
/// would go on writing rows the new schema no longer expects. Only `migrate`
/// applies migrations; `db check` and `db backup` (taken before an upgrade)
/// work on any version, so they pass `any_version`.
enum class SchemaCheck { require_current, any_version };

/// Opens ctx's database without migrating it. Only `mailerctl migrate` passes
/// `create`: for every other command a missing file is a mistyped --db or
/// db.path, so it fails (exit 1) naming the path and how to create it rather
/// than leaving a new empty database behind. With `require_current`, a schema
/// older or newer than this mailerctl's fails with exit 78 and says what to do
/// (store::require_current_schema). On failure reports through ctx.fail and
/// returns nullptr.
std::unique_ptr<store::Database> open_database(CtlContext& ctx, SchemaCheck schema_check,
                                               store::OpenMode mode = store::OpenMode::existing);

/// "2026-12-01T09:00:00.000Z", or "-" when absent.
std::string format_time(std::optional<std::int64_t> ms);
/// Writes `value` to stdout, indented, with a final newline; invalid UTF-8
/// (an address or detail stored from outside) prints as U+FFFD (dump_json).
void print_json(const nlohmann::json& value);
/// One list page, the API's shape: {"data": data, "next_cursor": null, or the
/// cursor when `next_cursor` is not empty}. Every list command prints its
/// --json output through this (print_page), with extra members added by the
/// caller when the page belongs to something (`keys audit`: "key").
nlohmann::json page_json(nlohmann::json data, const std::string& next_cursor);
/// page_json of `items` each turned into JSON by `to_json`.
template <typename Items, typename ToJson>
nlohmann::json page_json(const Items& items, ToJson&& to_json, const std::string& next_cursor) {
  auto data = nlohmann::json::array();
  for (const auto& item : items) data.push_back(to_json(item));
  return page_json(std::move(data), next_cursor);
}
/// print_json(page_json(items, to_json, next_cursor)).
template <typename Items, typename ToJson>
void print_page(const Items& items, ToJson&& to_json, const std::string& next_cursor) {
  print_json(page_json(items, std::forward<ToJson>(to_json), next_cursor));
}
/// Text output's pointer to the next page, when there is one: the command
/// line as typed (remember_invocation), every filter and global option kept,
/// any --cursor replaced: "more: mailerctl --db x events list --type bounce
/// --cursor <cursor>". Words are quoted for a POSIX shell where needed.
/// Without a remembered invocation: "more: mailerctl <command> --cursor <cursor>".
void print_more(const std::string& command, const std::string& next_cursor);
/// Keeps argv[1..] for print_more; called once by main.
void remember_invocation(int argc, const char* const* argv);

/// The --json error document, on stderr:
///   {"error": {"type": "https://mailerd.dev/problems/<code>", "code": "<code>",
///              "detail": "...", "errors": [{"field", "message"}] (when any),
///              "exit_code": N}}
/// type, detail and errors are the API's problem+json members for the same error.
nlohmann::json error_json(const Error& error, int exit_code);
void print_json_error(const Error& error, int exit_code);

/// Whether stdin (stdout, stderr) is a terminal (isatty): prompts and redrawn
/// progress lines are for people; pipes and files get plain lines.
bool stdin_is_terminal();
bool stdout_is_terminal();
bool stderr_is_terminal();
/// Prints "`question` [y/N] " to stderr and reads one line from stdin; true
/// only for "y" or "yes" (any case). End of input counts as no.
bool ask_yes_no(const std::string& question);

/// `text` from outside (an address, a SES error, a clicked link) made safe
/// for a terminal: control characters (an escape sequence) print as '?', and
/// past `max_chars` characters it is cut (text::shorten).
std::string printable(const std::string& text, std::size_t max_chars = 100);
/// Events as a table: ID, TYPE, EMAIL, BATCH, MESSAGE, OCCURRED.
void print_events(const std::vector<store::Event>& events);

/// Writes a left-aligned text table with a header row to stdout.
void print_table(const std::vector<std::string>& headers, const std::vector<std::vector<std::string>>& rows);

// One registration function per ctl_<group>.cpp.
void add_keys_commands(CLI::App& app, CtlContext& ctx);          // keys create|list|revoke|audit
void add_db_commands(CLI::App& app, CtlContext& ctx);            // migrate, db check|backup
void add_db_space_commands(CLI::App& db, CtlContext& ctx);       // db stats|prune|compact (children of `db`)
void add_config_commands(CLI::App& app, CtlContext& ctx);        // config check
void add_send_commands(CLI::App& app, CtlContext& ctx);          // send (batch from CSV)
void add_templates_commands(CLI::App& app, CtlContext& ctx);     // templates create|list|show|update|render
void add_dlq_commands(CLI::App& app, CtlContext& ctx);           // dlq list|retry|purge
void add_batches_commands(CLI::App& app, CtlContext& ctx);       // batches list|show|watch|pause|resume|cancel
void add_suppressions_commands(CLI::App& app, CtlContext& ctx);  // suppressions list|add|remove|import|export
void add_seed_commands(CLI::App& app, CtlContext& ctx);          // seed
void add_erase_commands(CLI::App& app, CtlContext& ctx);         // erase EMAIL
void add_webhooks_commands(CLI::App& app, CtlContext& ctx);  // webhooks add|list|update|remove|test|deliveries|replay
void add_queue_commands(CLI::App& app, CtlContext& ctx);     // queue
void add_messages_commands(CLI::App& app, CtlContext& ctx);  // messages show
void add_events_commands(CLI::App& app, CtlContext& ctx);    // events list|export

}  // namespace mailer::cli
