#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "mailer/core/config.hpp"
#include "mailer/core/log.hpp"
#include "support/temp_dir.hpp"

using mailer::ConfigSource;
using mailer::EnvLookup;
using mailer::LoadedConfig;
using mailer::Result;

namespace {

using Env = std::map<std::string, std::string>;

EnvLookup env_of(Env vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

Result<LoadedConfig> load(const std::string& path, Env vars = {}) {
  std::vector<std::string> names;
  for (const auto& [name, value] : vars) names.push_back(name);
  return mailer::load_config(path, env_of(vars), names);
}

Result<LoadedConfig> load_env(Env vars) { return load("", std::move(vars)); }

struct TomlFile {
  mailer::test::TempDir dir;
  std::string path;
  explicit TomlFile(const std::string& text) : path((dir / "mailerd.toml").string()) { std::ofstream(path) << text; }
};

Result<LoadedConfig> load_toml(const std::string& text, Env vars = {}) {
  TomlFile file(text);
  return load(file.path, std::move(vars));
}

// "key: message" per problem, in the order reported.
std::vector<std::string> problems(const Result<LoadedConfig>& result) {
  REQUIRE_FALSE(result);
  CHECK(result.error().code == mailer::ErrorCode::invalid_input);
  std::vector<std::string> lines;
  for (const auto& field : result.error().fields) lines.push_back(field.field + ": " + field.message);
  return lines;
}

std::string only_problem(const Result<LoadedConfig>& result) {
  auto lines = problems(result);
  REQUIRE(lines.size() == 1);
  return lines.front();
}

const mailer::ConfigEntry& entry(const LoadedConfig& loaded, const std::string& key) {
  for (const auto& e : loaded.entries) {
    if (e.key == key) return e;
  }
  FAIL("no entry " << key);
  throw std::logic_error("unreachable");
}

std::string example_path() { return std::string(MAILER_SOURCE_DIR) + "/examples/mailerd.toml"; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The example with each "# key = value" line uncommented.
std::string uncommented_example() {
  static const std::regex k_commented_key(R"(^# ([a-z_]+ = .*)$)", std::regex::multiline);
  return std::regex_replace(read_text(example_path()), k_commented_key, "$1");
}

// `literal` read through the real loader, so it is parsed by the key's own type.
mailer::ConfigValue toml_literal_value(const mailer::ConfigKey& row, std::string_view literal) {
  const auto dot = row.key.find('.');
  std::ostringstream text;
  text << "[" << row.key.substr(0, dot) << "]\n" << row.key.substr(dot + 1) << " = " << literal << "\n";
  TomlFile toml(text.str());
  auto loaded = load(toml.path);
  REQUIRE(loaded);
  return row.get(loaded->config);
}

}  // namespace

TEST_CASE("config key table is consistent", "[core][config]") {
  const auto& keys = mailer::config_keys();
  REQUIRE(keys.size() >= 39);
  std::set<std::string_view> seen;
  const mailer::Config defaults;
  for (const auto& row : keys) {
    INFO(row.key);
    CHECK(seen.insert(row.key).second);
    std::string env = "MAILER_" + std::string(row.key);
    for (auto& c : env) c = c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    CHECK(row.env_name == env);
    CHECK_FALSE(row.description.empty());
    CHECK(row.validate(row.get(defaults)).empty());
    // The documented default is what Config{} holds.
    CHECK(toml_literal_value(row, row.default_toml) == row.get(defaults));
  }
}

TEST_CASE("config key table has every SPEC key", "[core][config]") {
  for (const char* key : {"server.listen",
                          "server.port",
                          "server.public_url",
                          "server.tls_cert_file",
                          "server.tls_key_file",
                          "server.cors_origins",
                          "server.max_body_bytes",
                          "db.path",
                          "db.auto_migrate",
                          "worker.concurrency",
                          "worker.attempts",
                          "worker.backoff_base_ms",
                          "worker.backoff_max_ms",
                          "worker.lease_seconds",
                          "worker.shutdown_grace_seconds",
                          "ses.region",
                          "ses.endpoint",
                          "ses.access_key_id",
                          "ses.secret_access_key",
                          "ses.session_token",
                          "ses.configuration_set",
                          "ses.from_email_address_identity_arn",
                          "ses.feedback_forwarding_email_address",
                          "ses.feedback_forwarding_email_address_identity_arn",
                          "ses.max_send_rate",
                          "sns.topic_arns",
                          "sns.auto_confirm",
                          "sns.cert_host_pattern",
                          "sns.allow_http",
                          "unsubscribe.secret",
                          "unsubscribe.mailto",
                          "suppression.soft_bounce_limit",
                          "suppression.soft_bounce_window_hours",
                          "guard.max_bounce_rate",
                          "guard.max_complaint_rate",
                          "guard.min_sample",
                          "api.rate_limit_per_second",
                          "api.rate_limit_burst",
                          "limits.max_recipients",
                          "metrics.public",
                          "ui.enabled",
                          "log.level",
                          "log.format"}) {
    INFO(key);
    CHECK(mailer::find_config_key(key) != nullptr);
  }
  CHECK(mailer::find_config_key("server.nope") == nullptr);
}

TEST_CASE("examples/mailerd.toml and the key table agree", "[core][config]") {
  SECTION("the example loads cleanly as shipped") {
    auto loaded = load(example_path());
    REQUIRE(loaded);
    for (const auto& e : loaded->entries) CHECK(e.source == ConfigSource::default_value);
  }
  SECTION("uncommented, it sets every key exactly once to its default") {
    const auto text = uncommented_example();
    const auto table = toml::parse(text);
    std::set<std::string> in_file;
    for (const auto& [section, node] : table) {
      REQUIRE(node.is_table());
      for (const auto& [name, value] : *node.as_table())
        in_file.insert(std::string(section.str()) + "." + std::string(name.str()));
    }
    std::set<std::string> in_table;
    for (const auto& row : mailer::config_keys()) in_table.insert(std::string(row.key));
    CHECK(in_file == in_table);

    TomlFile file(text);
    auto loaded = load(file.path);
    REQUIRE(loaded);
    const mailer::Config defaults;
    for (const auto& row : mailer::config_keys()) {
      INFO(row.key);
      CHECK(entry(*loaded, std::string(row.key)).source == ConfigSource::file);
      CHECK(row.get(loaded->config) == row.get(defaults));
    }
  }
}

TEST_CASE("load_config without file or environment gives the defaults", "[core][config]") {
  auto loaded = load_env({});
  REQUIRE(loaded);
  CHECK(loaded->config.server.port == 8080);
  CHECK(loaded->config.worker.concurrency == 16);
  CHECK_FALSE(loaded->config.ses.max_send_rate.has_value());
  CHECK(loaded->entries.size() == mailer::config_keys().size());
  CHECK(entry(*loaded, "server.port").value == "8080");
  CHECK(entry(*loaded, "server.port").source == ConfigSource::default_value);
  CHECK(entry(*loaded, "ses.endpoint").value == "(unset)");
  CHECK(entry(*loaded, "ses.endpoint").value_json == "null");
  CHECK(entry(*loaded, "ses.max_send_rate").value == "\"auto\"");
  CHECK(entry(*loaded, "server.cors_origins").value == "[]");
}

TEST_CASE("load_config reads every type from the file", "[core][config]") {
  auto loaded = load_toml(R"(
[server]
port = 9000
cors_origins = ["https://a.example.com", "*"]
public_url = "https://mail.example.com/"
[worker]
backoff_base_ms = 250
[ses]
max_send_rate = 14
[guard]
max_bounce_rate = 0.1
[api]
rate_limit_per_second = 5
[metrics]
public = false
[log]
level = "debug"
)");
  REQUIRE(loaded);
  const auto& c = loaded->config;
  CHECK(c.server.port == 9000);
  CHECK(c.server.cors_origins == std::vector<std::string>{"https://a.example.com", "*"});
  CHECK(c.server.public_url == "https://mail.example.com");
  CHECK(c.worker.backoff_base == std::chrono::milliseconds(250));
  CHECK(c.ses.max_send_rate == 14.0);
  CHECK(c.guard.max_bounce_rate == 0.1);
  CHECK(c.api.rate_limit_per_second == 5.0);
  CHECK_FALSE(c.metrics.is_public);
  CHECK(c.log.level == "debug");
  CHECK(entry(*loaded, "server.port").source == ConfigSource::file);
  CHECK(entry(*loaded, "server.cors_origins").value == R"(["https://a.example.com", "*"])");
  CHECK(entry(*loaded, "server.cors_origins").value_json == R"(["https://a.example.com","*"])");
}

TEST_CASE("load_config precedence: env over file over default", "[core][config]") {
  const std::string text = "[server]\nport = 9000\nlisten = \"0.0.0.0\"\n";
  SECTION("file over default") {
    auto loaded = load_toml(text);
    REQUIRE(loaded);
    CHECK(loaded->config.server.port == 9000);
  }
  SECTION("MAILER_ over file") {
    auto loaded = load_toml(text, {{"MAILER_SERVER_PORT", "9100"}});
    REQUIRE(loaded);
    CHECK(loaded->config.server.port == 9100);
    CHECK(loaded->config.server.listen == "0.0.0.0");
    CHECK(entry(*loaded, "server.port").source == ConfigSource::env);
    CHECK(entry(*loaded, "server.port").env_name == "MAILER_SERVER_PORT");
    CHECK(entry(*loaded, "server.listen").source == ConfigSource::file);
  }
  SECTION("alias over file") {
    auto loaded = load_toml(text, {{"PORT", "9200"}});
    REQUIRE(loaded);
    CHECK(loaded->config.server.port == 9200);
    CHECK(entry(*loaded, "server.port").env_name == "PORT");
  }
  SECTION("MAILER_ over alias, the alias not even parsed") {
    auto loaded = load_toml(text, {{"PORT", "not-a-port"}, {"MAILER_SERVER_PORT", "9300"}});
    REQUIRE(loaded);
    CHECK(loaded->config.server.port == 9300);
    CHECK(entry(*loaded, "server.port").env_name == "MAILER_SERVER_PORT");
  }
  SECTION("a bad file value is reported even when env overrides it") {
    CHECK(only_problem(load_toml("[server]\nport = -1\n", {{"MAILER_SERVER_PORT", "9000"}})) ==
          "server.port: -1: must be at least 0");
  }
}

TEST_CASE("load_config honours the seed's aliases", "[core][config]") {
  SECTION("simple aliases") {
    auto loaded = load_env({{"PORT", "3000"},
                            {"WORKER_CONCURRENCY", "4"},
                            {"JOB_ATTEMPTS", "7"},
                            {"JOB_BACKOFF_DELAY", "500"},
                            {"AWS_REGION", "eu-west-1"}});
    REQUIRE(loaded);
    const auto& c = loaded->config;
    CHECK(c.server.port == 3000);
    CHECK(c.worker.concurrency == 4);
    CHECK(c.worker.attempts == 7);
    CHECK(c.worker.backoff_base == std::chrono::milliseconds(500));
    CHECK(c.ses.region == "eu-west-1");
    CHECK(entry(*loaded, "worker.attempts").env_name == "JOB_ATTEMPTS");
  }
  SECTION("AWS endpoint variables, the SES-specific one first") {
    auto both =
        load_env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}, {"AWS_ENDPOINT_URL_SESV2", "http://127.0.0.1:2"}});
    REQUIRE(both);
    CHECK(both->config.ses.endpoint == "http://127.0.0.1:2");
    auto general = load_env({{"AWS_ENDPOINT_URL", "http://127.0.0.1:1"}});
    REQUIRE(general);
    CHECK(general->config.ses.endpoint == "http://127.0.0.1:1");
  }
  SECTION("DATABASE_URL forms") {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"/var/lib/mailerd/mailer.db", "/var/lib/mailerd/mailer.db"},
        {"data/mailer.db", "data/mailer.db"},
        {"sqlite:data/mailer.db", "data/mailer.db"},
        {"sqlite://data/mailer.db", "data/mailer.db"},
        {"sqlite:///var/lib/mailer.db", "/var/lib/mailer.db"},
        {"file:./dev.db", "./dev.db"},
    };
    for (const auto& [url, path] : cases) {
      INFO(url);
      auto loaded = load_env({{"DATABASE_URL", url}});
      REQUIRE(loaded);
      CHECK(loaded->config.db.path == path);
      CHECK(entry(*loaded, "db.path").env_name == "DATABASE_URL");
    }
  }
  SECTION("DATABASE_URL that is not SQLite, password redacted") {
    CHECK(only_problem(load_env({{"DATABASE_URL", "postgres://app:hunter2@db/mail?ssl=1"}})) ==
          "db.path: \"postgres://db/mail\": must be a file path or a sqlite: URL (from DATABASE_URL)");
    CHECK(only_problem(load_env({{"DATABASE_URL", "sqlite:x.db?mode=ro"}})) ==
          "db.path: \"sqlite:x.db\": URL parameters are not supported; give the file path only (from DATABASE_URL)");
    CHECK(only_problem(load_env({{"DATABASE_URL", "sqlite://"}})) ==
          "db.path: \"sqlite://\": the URL names no file (from DATABASE_URL)");
  }
  SECTION("MAILER_DB_PATH wins over DATABASE_URL") {
    auto loaded = load_env({{"DATABASE_URL", "sqlite:a.db"}, {"MAILER_DB_PATH", "b.db"}});
    REQUIRE(loaded);
    CHECK(loaded->config.db.path == "b.db");
  }
}

TEST_CASE("load_config parses environment values by type", "[core][config]") {
  SECTION("booleans") {
    for (const auto& [text, expected] : std::vector<std::pair<std::string, bool>>{
             {"true", true}, {"TRUE", true}, {"1", true}, {"false", false}, {"False", false}, {"0", false}}) {
      INFO(text);
      auto loaded = load_env({{"MAILER_METRICS_PUBLIC", text}});
      REQUIRE(loaded);
      CHECK(loaded->config.metrics.is_public == expected);
    }
    CHECK(only_problem(load_env({{"MAILER_METRICS_PUBLIC", "yes"}})) ==
          "metrics.public: \"yes\": must be true, false, 1 or 0 (from MAILER_METRICS_PUBLIC)");
  }
  SECTION("integers and numbers") {
    auto loaded = load_env({{"MAILER_WORKER_CONCURRENCY", " 8 "},
                            {"MAILER_GUARD_MAX_COMPLAINT_RATE", "0.002"},
                            {"MAILER_SES_MAX_SEND_RATE", "12.5"}});
    REQUIRE(loaded);
    CHECK(loaded->config.worker.concurrency == 8);
    CHECK(loaded->config.guard.max_complaint_rate == 0.002);
    CHECK(loaded->config.ses.max_send_rate == 12.5);
    CHECK(only_problem(load_env({{"MAILER_WORKER_CONCURRENCY", "8x"}})) ==
          "worker.concurrency: \"8x\": must be an integer (from MAILER_WORKER_CONCURRENCY)");
    CHECK(only_problem(load_env({{"MAILER_WORKER_CONCURRENCY", ""}})) ==
          "worker.concurrency: \"\": must be an integer (from MAILER_WORKER_CONCURRENCY)");
    CHECK(only_problem(load_env({{"MAILER_GUARD_MAX_BOUNCE_RATE", "lots"}})) ==
          "guard.max_bounce_rate: \"lots\": must be a number (from MAILER_GUARD_MAX_BOUNCE_RATE)");
    CHECK(only_problem(load_env({{"MAILER_GUARD_MAX_BOUNCE_RATE", "inf"}})) ==
          "guard.max_bounce_rate: \"inf\": must be a finite number (from MAILER_GUARD_MAX_BOUNCE_RATE)");
    CHECK(only_problem(load_env({{"MAILER_SES_MAX_SEND_RATE", "fast"}})) ==
          "ses.max_send_rate: \"fast\": must be a number or \"auto\" (from MAILER_SES_MAX_SEND_RATE)");
  }
  SECTION("rate auto") {
    auto loaded = load_toml("[ses]\nmax_send_rate = 3\n", {{"MAILER_SES_MAX_SEND_RATE", "auto"}});
    REQUIRE(loaded);
    CHECK_FALSE(loaded->config.ses.max_send_rate.has_value());
  }
  SECTION("string lists: comma-separated or TOML array") {
    auto commas = load_env({{"MAILER_SERVER_CORS_ORIGINS", "https://a.example.com, https://b.example.com,"}});
    REQUIRE(commas);
    CHECK(commas->config.server.cors_origins ==
          std::vector<std::string>{"https://a.example.com", "https://b.example.com"});
    auto array = load_env({{"MAILER_SNS_TOPIC_ARNS", R"(["arn:aws:sns:us-east-1:123456789012:ses-events"])"}});
    REQUIRE(array);
    CHECK(array->config.sns.topic_arns == std::vector<std::string>{"arn:aws:sns:us-east-1:123456789012:ses-events"});
    auto empty = load_toml("[server]\ncors_origins = [\"*\"]\n", {{"MAILER_SERVER_CORS_ORIGINS", ""}});
    REQUIRE(empty);
    CHECK(empty->config.server.cors_origins.empty());
    CHECK(only_problem(load_env({{"MAILER_SNS_TOPIC_ARNS", "[1, 2"}})) ==
          "sns.topic_arns: \"[1, 2\": must be a comma-separated list or a TOML array of strings (from "
          "MAILER_SNS_TOPIC_ARNS)");
    CHECK(only_problem(load_env({{"MAILER_SNS_TOPIC_ARNS", "[1, 2]"}})) ==
          "sns.topic_arns: \"[1, 2]\": must be an array of strings (from MAILER_SNS_TOPIC_ARNS)");
  }
}

TEST_CASE("load_config reports file problems", "[core][config]") {
  SECTION("missing file") {
    mailer::test::TempDir dir;
    const auto path = (dir / "nope.toml").string();
    CHECK(only_problem(load(path)) == "config: " + path + ": cannot read: No such file or directory");
  }
  SECTION("a directory") {
    mailer::test::TempDir dir;
    CHECK(only_problem(load(dir.path().string())) ==
          "config: " + dir.path().string() + ": cannot read: is a directory");
  }
  SECTION("TOML syntax error with line and column") {
    TomlFile file("[server]\nport = 80\nlisten = \n");
    const auto line = only_problem(load(file.path));
    CHECK_THAT(line, Catch::StartsWith("config: " + file.path + ":3:"));
    CHECK_THAT(line, Catch::Contains("TOML syntax error"));
  }
  SECTION("unknown section, with and without a suggestion") {
    CHECK(only_problem(load_toml("[sevrer]\nport = 1\n")) == "sevrer: unknown section; did you mean server?");
    CHECK(only_problem(load_toml("[frobnicate]\n")) == "frobnicate: unknown section");
  }
  SECTION("unknown key, with suggestions") {
    CHECK(only_problem(load_toml("[server]\nprot = 1\n")) == "server.prot: unknown key; did you mean server.port?");
    CHECK(only_problem(load_toml("[worker]\nconcurency = 1\n")) ==
          "worker.concurency: unknown key; did you mean worker.concurrency?");
    CHECK(only_problem(load_toml("[server]\nconcurrency = 1\n")) ==
          "server.concurrency: unknown key; did you mean worker.concurrency?");
    CHECK(only_problem(load_toml("port = 1\n")) == "port: unknown key; did you mean server.port?");
    CHECK(only_problem(load_toml("[server]\nzzzzzz = 1\n")) == "server.zzzzzz: unknown key");
    CHECK(only_problem(load_toml("[server.tls]\ncert = \"x\"\n")) == "server.tls: unknown section");
  }
  SECTION("a section given as a value") {
    CHECK(only_problem(load_toml("server = 1\n")) == "server: must be a section ([server])");
  }
  SECTION("wrong types") {
    CHECK(only_problem(load_toml("[server]\nport = \"80\"\n")) == "server.port: \"80\": must be an integer");
    CHECK(only_problem(load_toml("[worker]\nconcurrency = 2.5\n")) == "worker.concurrency: 2.5: must be an integer");
    CHECK(only_problem(load_toml("[db]\nauto_migrate = \"yes\"\n")) ==
          "db.auto_migrate: \"yes\": must be true or false");
    CHECK(only_problem(load_toml("[db]\npath = 5\n")) == "db.path: 5: must be a string");
    CHECK(only_problem(load_toml("[guard]\nmin_sample = true\n")) == "guard.min_sample: true: must be an integer");
    CHECK(only_problem(load_toml("[guard]\nmax_bounce_rate = \"x\"\n")) ==
          "guard.max_bounce_rate: \"x\": must be a number");
    CHECK(only_problem(load_toml("[sns]\ntopic_arns = \"arn\"\n")) ==
          "sns.topic_arns: \"arn\": must be an array of strings");
    CHECK(only_problem(load_toml("[sns]\ntopic_arns = [1]\n")) == "sns.topic_arns: [ 1 ]: must be an array of strings");
    CHECK(only_problem(load_toml("[ses]\nmax_send_rate = \"fast\"\n")) ==
          "ses.max_send_rate: \"fast\": must be a number or \"auto\"");
    CHECK(only_problem(load_toml("[server.port]\n")) == "server.port: (table): must be an integer");
  }
}

TEST_CASE("load_config validates each key", "[core][config]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[server]\nlisten = \"\"", "server.listen: (unset): must not be empty"},
      {"[server]\nlisten = \"999.1.1.1\"",
       "server.listen: \"999.1.1.1\": must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::"},
      {"[server]\nlisten = \"not an ip\"",
       "server.listen: \"not an ip\": must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::"},
      {"[server]\nport = 65536", "server.port: 65536: must be at most 65535"},
      {"[server]\npublic_url = \"ftp://x\"", "server.public_url: \"ftp://x\": must be an http:// or https:// URL"},
      {"[server]\npublic_url = \"example.com\"",
       "server.public_url: \"example.com\": must be an http:// or https:// URL"},
      {"[server]\ncors_origins = [\"https://a.com/path\"]",
       "server.cors_origins: [\"https://a.com/path\"]: \"https://a.com/path\" is not \"*\" or an origin such as "
       "https://app.example.com"},
      {"[server]\nmax_body_bytes = 10", "server.max_body_bytes: 10: must be at least 1024"},
      {"[server]\nheader_timeout_seconds = 0", "server.header_timeout_seconds: 0: must be at least 1"},
      {"[server]\nbody_timeout_seconds = 86401", "server.body_timeout_seconds: 86401: must be at most 86400"},
      {"[server]\nkeep_alive_timeout_seconds = 0", "server.keep_alive_timeout_seconds: 0: must be at least 1"},
      {"[server]\nmax_connections = 7", "server.max_connections: 7: must be at least 8"},
      {"[db]\npath = \"\"", "db.path: (unset): must not be empty"},
      {"[worker]\nconcurrency = 0", "worker.concurrency: 0: must be at least 1"},
      {"[worker]\nattempts = 101", "worker.attempts: 101: must be at most 100"},
      {"[worker]\nbackoff_base_ms = 0", "worker.backoff_base_ms: 0: must be at least 1"},
      {"[worker]\nbackoff_max_ms = 0", "worker.backoff_max_ms: 0: must be at least 1"},
      {"[worker]\nlease_seconds = 1", "worker.lease_seconds: 1: must be at least 5"},
      {"[worker]\nshutdown_grace_seconds = -1", "worker.shutdown_grace_seconds: -1: must be at least 0"},
      {"[ses]\nregion = \"mars\"", "ses.region: \"mars\": must be an AWS region such as us-east-1"},
      {"[ses]\nendpoint = \"localhost:4566\"", "ses.endpoint: \"localhost:4566\": must be an http:// or https:// URL"},
      {"[ses]\nmax_send_rate = 0", "ses.max_send_rate: 0: must be greater than 0"},
      {"[sns]\ntopic_arns = [\"my-topic\"]",
       "sns.topic_arns: [\"my-topic\"]: \"my-topic\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)"},
      {"[unsubscribe]\nsecret = \"short\"",
       "unsubscribe.secret: ********: must be at least 16 characters (try: openssl rand -hex 32)"},
      {"[unsubscribe]\nmailto = \"not an address\"",
       "unsubscribe.mailto: \"not an address\": must be an address such as unsubscribe@example.com"},
      {"[suppression]\nsoft_bounce_limit = 0", "suppression.soft_bounce_limit: 0: must be at least 1"},
      {"[suppression]\nsoft_bounce_window_hours = 9000",
       "suppression.soft_bounce_window_hours: 9000: must be at most 8760"},
      {"[guard]\nmax_bounce_rate = 1.5", "guard.max_bounce_rate: 1.5: must be greater than 0 and at most 1"},
      {"[guard]\nmax_complaint_rate = 0", "guard.max_complaint_rate: 0: must be greater than 0 and at most 1"},
      {"[guard]\nmin_sample = 0", "guard.min_sample: 0: must be at least 1"},
      {"[api]\nrate_limit_per_second = -1", "api.rate_limit_per_second: -1: must be greater than 0"},
      {"[api]\nrate_limit_burst = 0", "api.rate_limit_burst: 0: must be greater than 0"},
      {"[limits]\nmax_recipients = 0", "limits.max_recipients: 0: must be at least 1"},
      {"[log]\nlevel = \"loud\"", "log.level: \"loud\": must be one of debug, info, warn, error"},
      {"[log]\nformat = \"xml\"", "log.format: \"xml\": must be one of auto, json, pretty"},
  };
  for (const auto& [text, expected] : cases) {
    INFO(text);
    CHECK(only_problem(load_toml(text + "\n")) == expected);
  }
  SECTION("invalid regex in sns.cert_host_pattern") {
    const auto line = only_problem(load_toml("[sns]\ncert_host_pattern = '^sns\\.(unclosed'\n"));
    CHECK_THAT(line, Catch::StartsWith(R"(sns.cert_host_pattern: "^sns\\.(unclosed": not a valid regular expression)"));
  }
}

TEST_CASE("load_config checks sending authorization and feedback forwarding", "[core][config]") {
  const std::string arn_rule =
      ": must be an SES identity ARN such as arn:aws:ses:us-east-1:123456789012:identity/example.com";
  SECTION("valid values reach SesConfig") {
    auto loaded = load_env({{"MAILER_SES_FROM_EMAIL_ADDRESS_IDENTITY_ARN",
                             "arn:aws:ses:eu-west-1:123456789012:identity/example.com"},
                            {"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS", "bounces@example.com"},
                            {"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN",
                             "arn:aws-us-gov:ses:us-gov-west-1:210987654321:identity/bounces@example.com"}});
    REQUIRE(loaded);
    CHECK(loaded->config.ses.from_email_address_identity_arn == "arn:aws:ses:eu-west-1:123456789012:identity/example.com");
    CHECK(loaded->config.ses.feedback_forwarding_email_address == "bounces@example.com");
    CHECK(loaded->config.ses.feedback_forwarding_email_address_identity_arn ==
          "arn:aws-us-gov:ses:us-gov-west-1:210987654321:identity/bounces@example.com");
  }
  SECTION("malformed identity ARNs name their key") {
    for (const char* arn : {"arn:aws:sns:us-east-1:123456789012:identity/example.com",  // not ses
                            "arn:aws:ses:us-east-1:12345:identity/example.com",         // short account
                            "arn:aws:ses:us-east-1:123456789012:configuration-set/x",   // not an identity
                            "arn:aws:ses:us-east-1:123456789012:identity/",             // no identity
                            "arn:aws:ses:us-east-1:123456789012:identity/a b.com"}) {   // whitespace
      INFO(arn);
      CHECK(only_problem(load_toml(std::string("[ses]\nfrom_email_address_identity_arn = \"") + arn + "\"\n")) ==
            std::string("ses.from_email_address_identity_arn: \"") + arn + "\"" + arn_rule);
    }
    const std::string long_arn = "arn:aws:ses:us-east-1:123456789012:identity/" + std::string(500, 'a') + ".com";
    CHECK(only_problem(load_env({{"MAILER_SES_FROM_EMAIL_ADDRESS_IDENTITY_ARN", long_arn}})) ==
          "ses.from_email_address_identity_arn: \"" + long_arn +
              "\": must be at most 512 characters (from MAILER_SES_FROM_EMAIL_ADDRESS_IDENTITY_ARN)");
    CHECK(only_problem(load_env({{"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS", "b@example.com"},
                                 {"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN", "example.com"}})) ==
          "ses.feedback_forwarding_email_address_identity_arn: \"example.com\"" + arn_rule +
              " (from MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN)");
  }
  SECTION("the feedback address must be one plain ASCII address") {
    const std::string rule = "must be one address such as bounces@example.com (ASCII; a non-ASCII domain in Punycode)";
    for (const char* address : {"not an address", "Bounces <b@example.com>", "a@b@example.com"}) {
      INFO(address);
      CHECK(only_problem(load_toml(std::string("[ses]\nfeedback_forwarding_email_address = \"") + address + "\"\n")) ==
            std::string("ses.feedback_forwarding_email_address: \"") + address + "\": " + rule);
    }
    CHECK_THAT(only_problem(load_env({{"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS", "b@bücher.example"}})),
               Catch::StartsWith("ses.feedback_forwarding_email_address: ") &&
                   Catch::EndsWith(rule + " (from MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS)"));
    const std::string local_64 = std::string(64, 'a') + "@example.com";
    CHECK(load_toml("[ses]\nfeedback_forwarding_email_address = \"" + local_64 + "\"\n"));
    CHECK_THAT(only_problem(load_toml("[ses]\nfeedback_forwarding_email_address = \"a" + local_64 + "\"\n")),
               Catch::EndsWith("local part (before @) is longer than 64 octets"));
  }
  SECTION("the feedback identity ARN needs its address") {
    CHECK(only_problem(load_env({{"MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN",
                                  "arn:aws:ses:us-east-1:123456789012:identity/example.com"}})) ==
          "ses.feedback_forwarding_email_address: (unset): required when "
          "ses.feedback_forwarding_email_address_identity_arn is set");
  }
}

TEST_CASE("load_config takes IPv4 and IPv6 addresses for server.listen", "[core][config]") {
  for (const char* address : {"127.0.0.1", "0.0.0.0", "::", "::1", "fe80::1"}) {
    INFO(address);
    auto loaded = load_toml(std::string("[server]\nlisten = \"") + address + "\"\n");
    REQUIRE(loaded);
    CHECK(loaded->config.server.listen == address);
  }
}

TEST_CASE("load_config checks rules across keys", "[core][config]") {
  mailer::test::TempDir dir;
  const auto cert = (dir / "cert.pem").string();
  const auto key = (dir / "key.pem").string();
  std::ofstream(cert) << "cert";
  std::ofstream(key) << "key";
  SECTION("TLS files both set and readable") {
    auto loaded = load_env({{"MAILER_SERVER_TLS_CERT_FILE", cert}, {"MAILER_SERVER_TLS_KEY_FILE", key}});
    REQUIRE(loaded);
    CHECK(loaded->config.server.tls_key_file == key);
  }
  SECTION("TLS cert without key, and key without cert") {
    CHECK(only_problem(load_env({{"MAILER_SERVER_TLS_CERT_FILE", cert}})) ==
          "server.tls_key_file: (unset): required when server.tls_cert_file is set");
    CHECK(only_problem(load_env({{"MAILER_SERVER_TLS_KEY_FILE", key}})) ==
          "server.tls_cert_file: (unset): required when server.tls_key_file is set");
  }
  SECTION("unreadable TLS file") {
    const auto missing = (dir / "missing.pem").string();
    CHECK(only_problem(load_env({{"MAILER_SERVER_TLS_CERT_FILE", missing}, {"MAILER_SERVER_TLS_KEY_FILE", key}})) ==
          "server.tls_cert_file: \"" + missing + "\": cannot read: No such file or directory");
  }
  SECTION("backoff cap below base") {
    CHECK(only_problem(load_toml("[worker]\nbackoff_base_ms = 5000\nbackoff_max_ms = 1000\n")) ==
          "worker.backoff_max_ms: 1000: must be at least worker.backoff_base_ms (5000)");
    CHECK(only_problem(load_toml("[webhooks]\nbackoff_base_ms = 5000\nbackoff_max_ms = 1000\n")) ==
          "webhooks.backoff_max_ms: 1000: must be at least webhooks.backoff_base_ms (5000)");
  }
  SECTION("static SES credentials come in pairs") {
    CHECK(only_problem(load_env({{"MAILER_SES_ACCESS_KEY_ID", "AKIAEXAMPLE12345"}})) ==
          "ses.secret_access_key: (unset): required when ses.access_key_id is set");
    CHECK(only_problem(load_env({{"MAILER_SES_SECRET_ACCESS_KEY", "s3cr3t"}})) ==
          "ses.access_key_id: (unset): required when ses.secret_access_key is set");
    CHECK(only_problem(load_env({{"MAILER_SES_SESSION_TOKEN", "tok"}})) ==
          "ses.access_key_id: (unset): required when ses.session_token is set");
  }
}

TEST_CASE("load_config rejects unknown MAILER_ variables", "[core][config]") {
  CHECK(only_problem(load_env({{"MAILER_SERVER_PROT", "1"}})) ==
        "MAILER_SERVER_PROT: unknown variable; did you mean MAILER_SERVER_PORT?");
  CHECK(only_problem(load_env({{"MAILER_ZZZ", "1"}})) == "MAILER_ZZZ: unknown variable");
  auto other = load_env({{"HOME", "/root"}, {"MAILERX", "1"}});
  CHECK(other);
}

TEST_CASE("load_config reports every problem at once", "[core][config]") {
  auto result = load_toml("[server]\nport = 70000\nprot = 1\n[worker]\nconcurrency = 0\n[sevrer]\n",
                          {{"MAILER_LOG_LEVEL", "loud"}, {"MAILER_UNSUBSCRIBE_SECRET", "tiny"}});
  const auto lines = problems(result);
  CHECK(lines.size() == 6);
  CHECK(result.error().detail == "invalid configuration (6 problems)");
  const std::set<std::string> got(lines.begin(), lines.end());
  CHECK(got.count("server.port: 70000: must be at most 65535") == 1);
  CHECK(got.count("server.prot: unknown key; did you mean server.port?") == 1);
  CHECK(got.count("worker.concurrency: 0: must be at least 1") == 1);
  CHECK(got.count("sevrer: unknown section; did you mean server?") == 1);
  CHECK(got.count("log.level: \"loud\": must be one of debug, info, warn, error (from MAILER_LOG_LEVEL)") == 1);
  CHECK(got.count("unsubscribe.secret: ********: must be at least 16 characters (try: openssl rand -hex 32) "
                  "(from MAILER_UNSUBSCRIBE_SECRET)") == 1);
  for (const auto& line : lines) CHECK(line.find("tiny") == std::string::npos);
}

TEST_CASE("load_config masks secrets in entries", "[core][config]") {
  auto loaded = load_env({{"MAILER_SES_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"},
                          {"MAILER_SES_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"},
                          {"MAILER_SES_SESSION_TOKEN", "token-value"},
                          {"MAILER_UNSUBSCRIBE_SECRET", "0123456789abcdef0123"}});
  REQUIRE(loaded);
  CHECK(loaded->config.ses.secret_access_key == "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
  CHECK(entry(*loaded, "ses.access_key_id").value == "********MPLE");
  CHECK(entry(*loaded, "ses.secret_access_key").value == "********");
  CHECK(entry(*loaded, "ses.secret_access_key").value_json == "\"********\"");
  CHECK(entry(*loaded, "ses.session_token").value == "********");
  CHECK(entry(*loaded, "unsubscribe.secret").value == "********");
  auto short_id = load_env({{"MAILER_SES_ACCESS_KEY_ID", "test"}, {"MAILER_SES_SECRET_ACCESS_KEY", "test"}});
  REQUIRE(short_id);
  CHECK(entry(*short_id, "ses.access_key_id").value == "********");
}

TEST_CASE("load_config takes values that are not UTF-8", "[core][config]") {
  // Found by fuzz/config: a path byte like 0xFF (fine on Linux) made the
  // entry's JSON throw json::type_error out of load_config.
  const std::string path = "/var/lib/mailerd/\xff.db";
  Result<LoadedConfig> loaded = mailer::make_error(mailer::ErrorCode::internal, "not run");
  REQUIRE_NOTHROW(loaded = load_env({{"MAILER_DB_PATH", path}}));
  REQUIRE(loaded);
  CHECK(loaded->config.db.path == path);
  CHECK(entry(*loaded, "db.path").value_json == "\"/var/lib/mailerd/\xef\xbf\xbd.db\"");
}

TEST_CASE("print_config_errors lists every problem", "[core][config]") {
  auto result = load_env({{"MAILER_WORKER_CONCURRENCY", "0"}, {"MAILER_SERVER_PORT", "x"}});
  REQUIRE_FALSE(result);
  std::ostringstream out;
  mailer::print_config_errors(result.error(), out);
  CHECK(out.str() ==
        "invalid configuration (2 problems):\n"
        "  server.port: \"x\": must be an integer (from MAILER_SERVER_PORT)\n"
        "  worker.concurrency: 0: must be at least 1 (from MAILER_WORKER_CONCURRENCY)\n");
}

TEST_CASE("format_config_value writes TOML literals", "[core][config]") {
  using V = mailer::ConfigValue;
  CHECK(mailer::format_config_value(V(16LL)) == "16");
  CHECK(mailer::format_config_value(V(0.05)) == "0.05");
  CHECK(mailer::format_config_value(V(true)) == "true");
  CHECK(mailer::format_config_value(V(std::string("a\"b"))) == R"("a\"b")");
  CHECK(mailer::format_config_value(V(std::vector<std::string>{"a", "b"})) == R"(["a", "b"])");
}

TEST_CASE("configure_logging applies log.level and log.format", "[core][config]") {
  auto loaded = load_env({{"MAILER_LOG_LEVEL", "warn"}, {"MAILER_LOG_FORMAT", "pretty"}});
  REQUIRE(loaded);
  std::ostringstream out;
  mailer::log::set_output(&out, false);
  mailer::configure_logging(loaded->config);
  const bool info_enabled = mailer::log::enabled(mailer::log::Level::info);
  mailer::log::warn("pretty even off a terminal");
  mailer::log::set_output(nullptr);
  mailer::log::configure(mailer::log::Level::info, "auto");
  CHECK_FALSE(info_enabled);
  CHECK_THAT(out.str(), Catch::Contains(" WARN  pretty even off a terminal"));
}
