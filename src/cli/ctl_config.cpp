// `mailerctl config check`: a thin report over load_config, which owns all rules.

#include "cli/ctl_config.hpp"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <ostream>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/aws/credentials.hpp"
#include "mailer/aws/credentials_profile.hpp"
#include "mailer/aws/ses_client.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"

namespace mailer::cli {
namespace {

// The one option that overrides a key: mailerctl's --db (db.path).
constexpr const char* k_db_option = "--db";

// db.path when --db replaced it: the value came from the command line.
bool from_db_option(const ConfigEntry& entry, const std::string& db_override) {
  return !db_override.empty() && entry.key == "db.path";
}

std::string source_text(const ConfigEntry& entry, const std::string& db_override) {
  if (from_db_option(entry, db_override)) return fmt::format("option {}", k_db_option);
  if (entry.source == ConfigSource::env) return fmt::format("env {}", entry.env_name);
  return to_string(entry.source);
}

void print_table(const LoadedConfig& loaded, const std::string& db_override, std::ostream& out) {
  std::size_t key_width = 0;
  std::size_t value_width = 0;
  for (const auto& entry : loaded.entries) {
    key_width = std::max(key_width, entry.key.size());
    value_width = std::max(value_width, std::min<std::size_t>(entry.value.size(), 40));
  }
  for (const auto& entry : loaded.entries) {
    out << fmt::format("{:<{}}  {:<{}}  {}\n", entry.key, key_width, entry.value, value_width,
                       source_text(entry, db_override));
  }
}

// Whether db.path exists. config check never opens the database, but every
// other mailerctl command refuses a missing one, so a mistyped --db or
// db.path should show here. A missing file is no error: mailerd creates it.
struct DatabaseState {
  std::string path;
  std::string source;  // as in the table: "default", "file", "env NAME", "option --db"
  std::optional<bool> exists;  // nullopt: could not tell (see error)
  std::string error;
};

DatabaseState database_state(const LoadedConfig& loaded, const std::string& db_override) {
  DatabaseState state;
  state.path = loaded.config.db.path;
  for (const auto& entry : loaded.entries) {
    if (entry.key == "db.path") state.source = source_text(entry, db_override);
  }
  std::error_code ec;
  const auto status = std::filesystem::status(state.path, ec);
  if (status.type() == std::filesystem::file_type::not_found) {
    state.exists = false;
  } else if (ec) {
    state.error = ec.message();
  } else {
    state.exists = true;
  }
  return state;
}

// One line, only when there is something to say about the file.
void print_database(const DatabaseState& state, std::ostream& out) {
  if (state.exists == false) {
    out << fmt::format("database: {} ({}): does not exist yet; mailerd creates it on start\n", state.path,
                       state.source);
  } else if (!state.exists) {
    out << fmt::format("database: {} ({}): cannot tell whether it exists: {}\n", state.path, state.source,
                       state.error);
  }
}

nlohmann::ordered_json database_json(const DatabaseState& state) {
  nlohmann::ordered_json report;
  report["path"] = state.path;
  report["exists"] = state.exists ? nlohmann::ordered_json(*state.exists) : nlohmann::ordered_json();
  if (!state.exists) report["error"] = state.error;
  return report;
}

void print_json(const std::string& config_path, const LoadedConfig& loaded, const std::string& db_override,
                nlohmann::ordered_json credentials, std::ostream& out) {
  nlohmann::ordered_json entries = nlohmann::ordered_json::array();
  for (const auto& entry : loaded.entries) {
    nlohmann::ordered_json row;
    row["key"] = entry.key;
    row["value"] = nlohmann::ordered_json::parse(entry.value_json);
    if (from_db_option(entry, db_override)) {
      row["source"] = "option";
      row["option"] = k_db_option;
    } else {
      row["source"] = to_string(entry.source);
      if (entry.source == ConfigSource::env) row["env"] = entry.env_name;
    }
    entries.push_back(std::move(row));
  }
  nlohmann::ordered_json report;
  report["valid"] = true;
  report["config_file"] = config_path.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(config_path);
  report["entries"] = std::move(entries);
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  for (const auto& warning : config_warnings(loaded.config)) {
    warnings.push_back({{"key", warning.field}, {"message", warning.message}});
  }
  report["warnings"] = std::move(warnings);
  report["database"] = database_json(database_state(loaded, db_override));
  report["credentials"] = std::move(credentials);
  out << dump_json(report, 2) << "\n";
}

void print_json_errors(const Error& error, std::ostream& out) {
  nlohmann::ordered_json errors = nlohmann::ordered_json::array();
  for (const auto& field : error.fields) errors.push_back({{"key", field.field}, {"message", field.message}});
  nlohmann::ordered_json report;
  report["valid"] = false;
  report["errors"] = std::move(errors);
  out << dump_json(report, 2) << "\n";
}

// ses.region and ses.endpoint left at their defaults come from the AWS
// profile, as mailerd takes them at start.
Result<LoadedConfig> with_aws_profile(Result<LoadedConfig> loaded, const EnvLookup& env) {
  if (!loaded) return loaded;
  auto applied = aws::apply_profile_settings(*loaded, env);
  if (applied) return loaded;
  Error error = make_error(ErrorCode::invalid_input, "invalid configuration (1 problem)");
  error.fields.push_back({"AWS profile", applied.error().detail});
  return error;
}

// load_config checks ses.endpoint only coarsely (core has no URL parser);
// mailerd refuses at start what aws::parse_ses_endpoint refuses, so check the
// endpoint mailerd would use with that same function.
Result<LoadedConfig> check_ses_endpoint(Result<LoadedConfig> loaded, const EnvLookup& env) {
  if (!loaded) return loaded;
  const auto& ses = loaded->config.ses;
  auto endpoint = aws::parse_ses_endpoint(aws::resolve_ses_endpoint(ses, env), ses.region);
  if (endpoint) return loaded;
  // "ses.endpoint VALUE: reason" -> key "ses.endpoint", message "VALUE: reason".
  const auto& detail = endpoint.error().detail;
  Error error = make_error(ErrorCode::invalid_input, "invalid configuration (1 problem)");
  error.fields.push_back({"ses.endpoint", detail.substr(detail.find(' ') + 1)});
  return error;
}

// --db replaces db.path after the file and the environment, as it does for
// every other mailerctl command, so the check shows the database they open.
Result<LoadedConfig> with_db_override(Result<LoadedConfig> loaded, const std::string& db_override) {
  if (!loaded || db_override.empty()) return loaded;
  loaded->config.db.path = db_override;
  for (auto& entry : loaded->entries) {
    if (entry.key != "db.path") continue;
    entry.value = entry.value_json = dump_json(nlohmann::json(db_override));
  }
  return loaded;
}

// Which credential source mailerd would use, found the way mailerd finds it.
// Every source is bounded by timeouts (IMDS 1 s per request, container
// endpoint 2 s per attempt), so the check cannot hang on a dead endpoint.
Result<aws::Credentials> find_credentials(const Config& config, const EnvLookup& env) {
  aws::CredentialsProvider::Options options;
  options.explicit_config = config.ses;
  options.env = env;
  return aws::CredentialsProvider(options).get();
}

std::string expiry_text(const aws::Credentials& credentials) {
  if (!credentials.expiration) return "do not expire";
  return "expire " + format_rfc3339(to_ms(*credentials.expiration));
}

// Source and expiry only: the keys and token never leave the provider.
void print_credentials(const Result<aws::Credentials>& found, std::ostream& out) {
  if (found) {
    out << fmt::format("credentials: {}, {}\n", found->source, expiry_text(*found));
  } else {
    out << fmt::format("credentials: none found: {}\n", found.error().detail);
  }
}

nlohmann::ordered_json credentials_json(const Result<aws::Credentials>& found) {
  nlohmann::ordered_json report;
  report["found"] = found.has_value();
  if (!found) {
    report["reason"] = found.error().detail;
    return report;
  }
  report["source"] = found->source;
  report["expiration"] = nullptr;
  if (found->expiration) report["expiration"] = format_rfc3339(to_ms(*found->expiration));
  return report;
}

int report(const std::string& config_path, const std::string& db_override, const Result<LoadedConfig>& loaded,
           const EnvLookup& env, bool json, std::ostream& out, std::ostream& err) {
  if (!loaded) {
    print_config_errors(loaded.error(), err);
    if (json) print_json_errors(loaded.error(), out);
    return k_config_exit_code;
  }
  auto credentials = find_credentials(loaded->config, env);
  if (json) {
    print_json(config_path, *loaded, db_override, credentials_json(credentials), out);
  } else {
    print_table(*loaded, db_override, out);
    print_database(database_state(*loaded, db_override), out);
    print_credentials(credentials, out);
    // Warnings leave the exit code alone: the configuration works.
    for (const auto& warning : config_warnings(loaded->config)) {
      err << "warning: " << warning.field << ": " << warning.message << "\n";
    }
  }
  return 0;
}

}  // namespace

int run_config_check(const std::string& config_path, bool json, std::ostream& out, std::ostream& err,
                     const std::string& db_override) {
  auto loaded = with_db_override(load_config(config_path), db_override);
  return report(config_path, db_override,
                check_ses_endpoint(with_aws_profile(std::move(loaded), aws::system_env), aws::system_env),
                aws::system_env, json, out, err);
}

int run_config_check(const std::string& config_path, bool json, std::ostream& out, std::ostream& err,
                     const EnvLookup& env, const std::vector<std::string>& env_names, const std::string& db_override) {
  auto loaded = with_db_override(load_config(config_path, env, env_names), db_override);
  return report(config_path, db_override, check_ses_endpoint(with_aws_profile(std::move(loaded), env), env), env,
                json, out, err);
}

}  // namespace mailer::cli
