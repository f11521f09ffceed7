// Loading the configuration: defaults (Config's member initialisers), then the
// TOML file, then the environment. Each value is parsed by its key's type and
// checked by its key's validator as it arrives, so a bad value in the file is
// reported even when the environment overrides it: the file is still wrong.
// Every problem is collected into one Error (mold's checkpoint()), so an
// operator fixes a config in one round instead of one restart per typo.

#include "mailer/core/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <ostream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/text.hpp"

extern char** environ;  // NOLINT: POSIX

namespace mailer {
namespace {

constexpr std::string_view k_mask = "********";
constexpr std::string_view k_unset = "(unset)";

// ---- showing values ---------------------------------------------------------

std::string json_quoted(std::string_view text) { return dump_json(nlohmann::json(text)); }

nlohmann::json to_json(const ConfigValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

bool is_empty_string(const ConfigValue& value) {
  return std::holds_alternative<std::string>(value) && std::get<std::string>(value).empty();
}

std::string mask(const ConfigKey& row, std::string_view text) {
  if (row.secret == Secret::partial && text.size() >= 12) {
    return std::string(k_mask) + std::string(text.substr(text.size() - 4));
  }
  return std::string(k_mask);
}

// How a value appears in `config check` and in error messages: secrets masked.
std::string shown_value(const ConfigKey& row, const ConfigValue& value) {
  if (is_empty_string(value)) return std::string(k_unset);
  if (row.secret != Secret::no) return mask(row, std::get<std::string>(value));
  return format_config_value(value);
}

std::string shown_json(const ConfigKey& row, const ConfigValue& value) {
  if (is_empty_string(value)) return "null";
  if (row.secret != Secret::no) return json_quoted(mask(row, std::get<std::string>(value)));
  // A path may hold any byte but NUL; the JSON shown for it stays valid UTF-8.
  return dump_json(to_json(value));
}

std::string shown_raw(const ConfigKey& row, std::string_view raw) {
  return row.secret != Secret::no ? std::string(k_mask) : json_quoted(raw);
}

std::string shown_node(const ConfigKey& row, const toml::node& node) {
  if (row.secret != Secret::no) return std::string(k_mask);
  if (node.is_table()) return "(table)";
  // toml++ prints strings in single quotes; show them as everywhere else.
  if (const auto* text = node.as_string()) return json_quoted(text->get());
  std::ostringstream out;
  node.visit([&out](const auto& n) { out << n; });
  return out.str();
}

// ---- "did you mean" ---------------------------------------------------------

// Optimal string alignment distance: Levenshtein plus adjacent transpositions,
// so "prot" is one edit from "port".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

std::string_view leaf_of(std::string_view key) {
  const auto dot = key.rfind('.');
  return dot == std::string_view::npos ? key : key.substr(dot + 1);
}

// The closest candidate within a third of the name's length (at least one edit),
// else a candidate whose last part is the same (a key put in the wrong section).
std::string suggestion(std::string_view name, const std::vector<std::string_view>& candidates) {
  const std::size_t limit = std::max<std::size_t>(1, std::min<std::size_t>(3, leaf_of(name).size() / 3));
  std::string_view best;
  std::size_t best_distance = limit + 1;
  for (auto candidate : candidates) {
    const auto distance = edit_distance(name, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  if (best.empty()) {
    for (auto candidate : candidates) {
      if (leaf_of(candidate) == leaf_of(name)) best = candidate;
    }
  }
  return best.empty() ? "" : fmt::format("; did you mean {}?", best);
}

std::vector<std::string_view> all_keys() {
  std::vector<std::string_view> keys;
  for (const auto& row : config_keys()) keys.push_back(row.key);
  return keys;
}

std::vector<std::string_view> all_env_names() {
  std::vector<std::string_view> names;
  for (const auto& row : config_keys()) names.push_back(row.env_name);
  return names;
}

std::vector<std::string_view> all_sections() {
  std::vector<std::string_view> sections;
  for (const auto& row : config_keys()) {
    const auto section = row.key.substr(0, row.key.find('.'));
    if (std::find(sections.begin(), sections.end(), section) == sections.end()) sections.push_back(section);
  }
  return sections;
}

// ---- parsing by type --------------------------------------------------------

Error reason(std::string text) { return make_error(ErrorCode::invalid_input, std::move(text)); }

const char* type_reason(ConfigType type) {
  switch (type) {
    case ConfigType::integer: return "must be an integer";
    case ConfigType::number: return "must be a number";
    case ConfigType::boolean: return "must be true or false";
    case ConfigType::string: return "must be a string";
    case ConfigType::string_list: return "must be an array of strings";
    case ConfigType::rate: return "must be a number or \"auto\"";
  }
  return "has the wrong type";
}

Result<ConfigValue> finite(double x) {
  if (!std::isfinite(x)) return reason("must be a finite number");
  return ConfigValue(x);
}

Result<ConfigValue> from_node(ConfigType type, const toml::node& node) {
  switch (type) {
    case ConfigType::integer:
      if (auto n = node.value_exact<int64_t>()) return ConfigValue(static_cast<long long>(*n));
      break;
    case ConfigType::number:
      if (node.is_number()) return finite(*node.value<double>());
      break;
    case ConfigType::boolean:
      if (auto b = node.value_exact<bool>()) return ConfigValue(*b);
      break;
    case ConfigType::string:
      if (auto s = node.value_exact<std::string>()) return ConfigValue(*s);
      break;
    case ConfigType::string_list:
      if (const auto* array = node.as_array()) {
        std::vector<std::string> items;
        for (const auto& item : *array) {
          if (!item.is_string()) return reason(type_reason(type));
          items.push_back(*item.value_exact<std::string>());
        }
        return ConfigValue(std::move(items));
      }
      break;
    case ConfigType::rate:
      if (node.is_number()) return finite(*node.value<double>());
      if (node.value_exact<std::string>() == "auto") return ConfigValue(std::string("auto"));
      break;
  }
  return reason(type_reason(type));
}

template <typename Number>
std::optional<Number> parse_number(std::string_view text) {
  text = text::trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  Number n{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

Result<ConfigValue> list_from_text(std::string_view raw) {
  if (text::trim(raw).substr(0, 1) == "[") {
    try {
      const toml::table parsed = toml::parse("v = " + std::string(raw));
      if (const auto* node = parsed.get("v")) return from_node(ConfigType::string_list, *node);
    } catch (const toml::parse_error&) {
    }
    return reason("must be a comma-separated list or a TOML array of strings");
  }
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= raw.size()) {
    const auto comma = std::min(raw.find(',', start), raw.size());
    if (auto item = text::trim(raw.substr(start, comma - start)); !item.empty()) items.emplace_back(item);
    start = comma + 1;
  }
  return ConfigValue(std::move(items));
}

Result<ConfigValue> from_text(ConfigType type, std::string_view raw) {
  switch (type) {
    case ConfigType::integer:
      if (auto n = parse_number<long long>(raw)) return ConfigValue(*n);
      break;
    case ConfigType::number:
      if (auto x = parse_number<double>(raw)) return finite(*x);
      break;
    case ConfigType::boolean: {
      const std::string lower = text::ascii_lower(text::trim(raw));
      if (lower == "true" || lower == "1") return ConfigValue(true);
      if (lower == "false" || lower == "0") return ConfigValue(false);
      return reason("must be true, false, 1 or 0");
    }
    case ConfigType::string: return ConfigValue(std::string(raw));
    case ConfigType::string_list: return list_from_text(raw);
    case ConfigType::rate:
      if (text::trim(raw) == "auto") return ConfigValue(std::string("auto"));
      if (auto x = parse_number<double>(raw)) return finite(*x);
      break;
  }
  return reason(type_reason(type));
}

// ---- the loader -------------------------------------------------------------

struct Origin {
  ConfigSource source = ConfigSource::default_value;
  std::string env_name;
};

class Loader {
 public:
  void load_file(const std::string& path);
  void load_env(const EnvLookup& env);
  void check_env_names(const std::vector<std::string>& names);
  void check_cross_key_rules();
  Result<LoadedConfig> finish();

 private:
  void add_error(std::string field, std::string message) { m_errors.push_back({std::move(field), std::move(message)}); }
  void load_table(const toml::table& root);
  void load_section(std::string_view section, const toml::table& table);
  void apply(const ConfigKey& row, const ConfigValue& value, const std::string& shown, Origin origin,
             std::string_view suffix);
  void apply_env(const ConfigKey& row, const std::string& name, const std::string& raw,
                 Result<std::string> (*rewrite)(std::string_view));
  void require_file(const ConfigKey& row, const std::string& path);

  Config m_config;
  std::map<std::string_view, Origin> m_origins;
  FieldErrors m_errors;
};

void Loader::apply(const ConfigKey& row, const ConfigValue& value, const std::string& shown, Origin origin,
                   std::string_view suffix) {
  if (auto why = row.validate(value); !why.empty()) {
    add_error(std::string(row.key), fmt::format("{}: {}{}", shown, why, suffix));
    return;
  }
  row.set(m_config, value);
  m_origins[row.key] = std::move(origin);
}

std::optional<std::string> read_file(const std::string& path, std::string& why) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    why = "is a directory";
    return std::nullopt;
  }
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!file) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  while (const auto n = std::fread(buffer, 1, sizeof buffer, file.get())) text.append(buffer, n);
  if (std::ferror(file.get())) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  return text;
}

void Loader::load_file(const std::string& path) {
  std::string why;
  const auto text = read_file(path, why);
  if (!text) return add_error("config", fmt::format("{}: cannot read: {}", path, why));
  try {
    load_table(toml::parse(*text, path));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    add_error("config",
              fmt::format("{}:{}:{}: TOML syntax error: {}", path, where.line, where.column, e.description()));
  }
}

void Loader::load_table(const toml::table& root) {
  const auto sections = all_sections();
  for (const auto& [name, node] : root) {
    const std::string_view section = name.str();
    const bool known = std::find(sections.begin(), sections.end(), section) != sections.end();
    if (const auto* table = node.as_table(); table != nullptr && known) {
      load_section(section, *table);
    } else if (known) {
      add_error(std::string(section), fmt::format("must be a section ([{}])", section));
    } else if (node.is_table()) {
      add_error(std::string(section), "unknown section" + suggestion(section, sections));
    } else {
      add_error(std::string(section), "unknown key" + suggestion(section, all_keys()));
    }
  }
}

void Loader::load_section(std::string_view section, const toml::table& table) {
  for (const auto& [name, node] : table) {
    const std::string key = fmt::format("{}.{}", section, name.str());
    const ConfigKey* row = find_config_key(key);
    if (row == nullptr) {
      add_error(key, (node.is_table() ? "unknown section" : "unknown key") + suggestion(key, all_keys()));
      continue;
    }
    auto value = from_node(row->type, node);
    if (!value) {
      add_error(key, fmt::format("{}: {}", shown_node(*row, node), value.error().detail));
      continue;
    }
    apply(*row, *value, shown_value(*row, *value), {ConfigSource::file, ""}, "");
  }
}

void Loader::apply_env(const ConfigKey& row, const std::string& name, const std::string& raw,
                       Result<std::string> (*rewrite)(std::string_view)) {
  const std::string suffix = fmt::format(" (from {})", name);
  std::string text = raw;
  if (rewrite != nullptr) {
    auto rewritten = rewrite(raw);
    if (!rewritten) {
      // NOTE: a URL may carry a password; show it redacted.
      const std::string shown = row.secret != Secret::no ? std::string(k_mask) : json_quoted(log::redact_url(raw));
      return add_error(std::string(row.key), fmt::format("{}: {}{}", shown, rewritten.error().detail, suffix));
    }
    text = *rewritten;
  }
  auto value = from_text(row.type, text);
  if (!value)
    return add_error(std::string(row.key), fmt::format("{}: {}{}", shown_raw(row, raw), value.error().detail, suffix));
  apply(row, *value, shown_value(row, *value), {ConfigSource::env, name}, suffix);
}

void Loader::load_env(const EnvLookup& env) {
  for (const auto& row : config_keys()) {
    const std::string name(row.env_name);
    if (auto raw = env(name.c_str())) {
      apply_env(row, name, *raw, nullptr);
      continue;  // MAILER_* wins; an overridden alias is not even parsed
    }
    for (const auto& alias : row.aliases) {
      const std::string alias_name(alias.env_name);
      if (auto raw = env(alias_name.c_str())) {
        apply_env(row, alias_name, *raw, alias.rewrite);
        break;
      }
    }
  }
}

void Loader::check_env_names(const std::vector<std::string>& names) {
  const auto known = all_env_names();
  for (const auto& name : names) {
    if (name.rfind("MAILER_", 0) != 0) continue;
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    add_error(name, "unknown variable" + suggestion(name, known));
  }
}

void Loader::require_file(const ConfigKey& row, const std::string& path) {
  if (path.empty()) return;
  std::string why;
  if (!read_file(path, why))
    add_error(std::string(row.key), fmt::format("{}: cannot read: {}", json_quoted(path), why));
}

void Loader::check_cross_key_rules() {
  const auto require_pair = [this](std::string_view set_key, const std::string& set_value, std::string_view needed_key,
                                   const std::string& needed_value) {
    if (!set_value.empty() && needed_value.empty()) {
      add_error(std::string(needed_key), fmt::format("{}: required when {} is set", k_unset, set_key));
    }
  };
  const auto& server = m_config.server;
  require_pair("server.tls_cert_file", server.tls_cert_file, "server.tls_key_file", server.tls_key_file);
  require_pair("server.tls_key_file", server.tls_key_file, "server.tls_cert_file", server.tls_cert_file);
  require_file(*find_config_key("server.tls_cert_file"), server.tls_cert_file);
  require_file(*find_config_key("server.tls_key_file"), server.tls_key_file);
  if (server.max_body_bytes_in_flight != 0 && server.max_body_bytes_in_flight < server.max_body_bytes) {
    add_error("server.max_body_bytes_in_flight",
              fmt::format("{}: must be at least server.max_body_bytes ({}), or a body of that size is never accepted",
                          server.max_body_bytes_in_flight, server.max_body_bytes));
  }

  const auto& ses = m_config.ses;
  require_pair("ses.access_key_id", ses.access_key_id, "ses.secret_access_key", ses.secret_access_key);
  require_pair("ses.secret_access_key", ses.secret_access_key, "ses.access_key_id", ses.access_key_id);
  if (ses.secret_access_key.empty()) {  // else the pair rule above already names access_key_id
    require_pair("ses.session_token", ses.session_token, "ses.access_key_id", ses.access_key_id);
  }
  // The ARN authorizes the use of the address; alone it says nothing to SES.
  require_pair("ses.feedback_forwarding_email_address_identity_arn", ses.feedback_forwarding_email_address_identity_arn,
               "ses.feedback_forwarding_email_address", ses.feedback_forwarding_email_address);

  const auto& worker = m_config.worker;
  if (worker.backoff_max < worker.backoff_base) {
    add_error("worker.backoff_max_ms", fmt::format("{}: must be at least worker.backoff_base_ms ({})",
                                                   worker.backoff_max.count(), worker.backoff_base.count()));
  }
  const auto& webhooks = m_config.webhooks;
  if (webhooks.backoff_max < webhooks.backoff_base) {
    add_error("webhooks.backoff_max_ms", fmt::format("{}: must be at least webhooks.backoff_base_ms ({})",
                                                     webhooks.backoff_max.count(), webhooks.backoff_base.count()));
  }
}

Result<LoadedConfig> Loader::finish() {
  if (!m_errors.empty()) {
    Error error = make_error(ErrorCode::invalid_input, fmt::format("invalid configuration ({} problem{})",
                                                                   m_errors.total(), m_errors.total() == 1 ? "" : "s"));
    error.fields = std::move(m_errors);
    return error;
  }
  LoadedConfig loaded{m_config, {}};
  for (const auto& row : config_keys()) {
    const ConfigValue value = row.get(m_config);
    const Origin& origin = m_origins[row.key];
    loaded.entries.push_back(
        {std::string(row.key), shown_value(row, value), origin.source, origin.env_name, shown_json(row, value)});
  }
  return loaded;
}

}  // namespace

std::string format_config_value(const ConfigValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) return json_quoted(*s);
  if (const auto* list = std::get_if<std::vector<std::string>>(&value)) {
    std::string text = "[";
    for (const auto& item : *list) text += (text.size() > 1 ? ", " : "") + json_quoted(item);
    return text + "]";
  }
  if (const auto* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const auto* x = std::get_if<double>(&value)) return fmt::format("{}", *x);
  return std::to_string(std::get<long long>(value));
}

std::optional<std::string> process_env(const char* name) {
  const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): read before threads start
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

std::vector<std::string> process_env_names() {
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text(*entry);
    if (text.rfind("MAILER_", 0) == 0) names.emplace_back(text.substr(0, text.find('=')));
  }
  return names;
}

Result<LoadedConfig> load_config(const std::string& toml_path) {
  return load_config(toml_path, process_env, process_env_names());
}

Result<LoadedConfig> load_config(const std::string& toml_path, const EnvLookup& env,
                                 const std::vector<std::string>& env_names) {
  Loader loader;
  if (!toml_path.empty()) loader.load_file(toml_path);
  loader.load_env(env);
  loader.check_env_names(env_names);
  loader.check_cross_key_rules();
  return loader.finish();
}

void print_config_errors(const Error& error, std::ostream& out) {
  out << error.detail << ":\n";
  for (const auto& field : error.fields) out << "  " << field.field << ": " << field.message << "\n";
}

std::vector<FieldError> config_warnings(const Config& config) {
  std::vector<FieldError> warnings;
  const bool https = text::ascii_lower(config.server.public_url.substr(0, 8)) == "https://";
  if (!https && !config.unsubscribe.secret.empty()) {
    warnings.push_back(
        {"server.public_url", config.server.public_url +
                                  ": not https, yet bulk mail carries List-Unsubscribe-Post; RFC 8058 section 3.1 "
                                  "requires an https List-Unsubscribe URI, so mailbox providers may ignore "
                                  "one-click unsubscribe"});
  }
  return warnings;
}

void configure_logging(const Config& config) {
  log::Level level = log::Level::info;
  if (!log::parse_level(config.log.level, level)) level = log::Level::info;
  log::configure(level, config.log.format);
}

const char* to_string(ConfigSource source) {
  switch (source) {
    case ConfigSource::default_value: return "default";
    case ConfigSource::file: return "file";
    case ConfigSource::env: return "env";
  }
  return "default";
}

}  // namespace mailer
