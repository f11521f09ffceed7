#include "cli/ctl_common.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "mailer/core/clock.hpp"
#include "mailer/store/database.hpp"

namespace mailer::cli {
namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

// DATABASE_URL as the seed accepted it: a plain path or a sqlite: URL.
std::optional<std::string> path_from_database_url(std::string url) {
  for (std::string_view scheme : {"sqlite://", "sqlite:"}) {
    if (url.starts_with(scheme)) {
      url.erase(0, scheme.size());
      break;
    }
  }
  if (auto query = url.find('?'); query != std::string::npos) url.resize(query);
  if (url.empty()) return std::nullopt;
  return url;
}

void read_toml_db_keys(const std::string& path, Config& config, std::vector<FieldError>& problems) {
  if (!std::filesystem::exists(path)) {
    problems.push_back({"--config", fmt::format("{}: no such file", path)});
    return;
  }
  try {
    toml::table file = toml::parse_file(path);
    if (auto db_path = file["db"]["path"].value<std::string>()) config.db.path = *db_path;
    if (auto migrate = file["db"]["auto_migrate"].value<bool>()) config.db.auto_migrate = *migrate;
  } catch (const toml::parse_error& e) {
    problems.push_back({"--config", fmt::format("{}: {}", path, e.description())});
  }
}

}  // namespace

Result<Config> resolve_config(const std::string& config_path, const std::string& db_override) {
  Config config;
  std::vector<FieldError> problems;
  if (!config_path.empty()) read_toml_db_keys(config_path, config, problems);
  if (auto path = env("MAILER_DB_PATH"); path && !path->empty()) {
    config.db.path = *path;
  } else if (auto url = env("DATABASE_URL"); url) {
    if (auto url_path = path_from_database_url(*url)) config.db.path = *url_path;
    else problems.push_back({"DATABASE_URL", fmt::format("{}: no database path in it", *url)});
  }
  if (!db_override.empty()) config.db.path = db_override;
  if (!problems.empty())
    return Error{ErrorCode::invalid_input, "invalid configuration", std::move(problems)};
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
  std::cerr << "mailerctl: " << error.detail << "\n";
  for (const auto& field : error.fields) std::cerr << "  " << field.field << ": " << field.message << "\n";
  exit_code = exit_code_to_use;
}

std::unique_ptr<store::Database> open_database(CtlContext& ctx, AutoMigrate auto_migrate,
                                               store::OpenMode mode) {
  if (!ctx.resolve()) return nullptr;
  auto db = store::Database::open(ctx.config.db.path, mode);
  if (!db) {
    ctx.fail(db.error());
    return nullptr;
  }
  if (auto_migrate == AutoMigrate::if_configured && ctx.config.db.auto_migrate) {
    auto migrated = store::migrate(**db);
    if (!migrated) {
      ctx.fail(migrated.error());
      return nullptr;
    }
  }
  return std::move(*db);
}

std::string format_time(std::optional<std::int64_t> ms) {
  return ms ? format_rfc3339(*ms) : std::string("-");
}

nlohmann::json json_time(std::optional<std::int64_t> ms) {
  return ms ? nlohmann::json(format_rfc3339(*ms)) : nlohmann::json(nullptr);
}

void print_json(const nlohmann::json& value) { std::cout << value.dump(2) << "\n"; }

void print_table(const std::vector<std::string>& headers,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& header : headers) widths.push_back(header.size());
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
      widths[i] = std::max(widths[i], row[i].size());
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
