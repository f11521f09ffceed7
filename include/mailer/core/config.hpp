#pragma once
// mailerd configuration: one table of keys (SPEC §2), read from an optional TOML
// file, then overridden by environment variables MAILER_<SECTION>_<KEY> and the
// seed's aliases (PORT, DATABASE_URL, WORKER_CONCURRENCY, JOB_ATTEMPTS,
// JOB_BACKOFF_DELAY, AWS_REGION). Every problem is collected, never thrown one
// at a time; mains exit with k_config_exit_code (EX_CONFIG, sysexits.h) when any.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer {

inline constexpr int k_config_exit_code = 78;  // EX_CONFIG

struct ServerConfig {
  std::string listen = "127.0.0.1";
  int port = 8080;  // 0 = pick a free port (tests); the bound port is logged
  std::string public_url = "http://127.0.0.1:8080";
  std::string tls_cert_file;  // HTTPS when both files are set
  std::string tls_key_file;
  std::vector<std::string> cors_origins;
  long long max_body_bytes = 64LL * 1024 * 1024;
};

struct DbConfig {
  std::string path = "mailer.db";
  bool auto_migrate = true;
};

struct WorkerConfig {
  int concurrency = 16;
  int attempts = 5;
  std::chrono::milliseconds backoff_base{1000};
  std::chrono::milliseconds backoff_max{3600000};
  std::chrono::seconds lease{60};
  std::chrono::seconds shutdown_grace{30};
};

struct SesConfig {
  std::string region = "us-east-1";
  std::string endpoint;  // empty: https://email.<region>.amazonaws.com (or AWS_ENDPOINT_URL*)
  std::string access_key_id;  // empty: the AWS credential chain
  std::string secret_access_key;
  std::string session_token;
  std::string configuration_set;
  std::optional<double> max_send_rate;  // messages per second; nullopt = "auto" (GetAccount)
};

struct SnsConfig {
  std::vector<std::string> topic_arns;  // empty disables POST /webhooks/ses
  bool auto_confirm = true;
  std::string cert_host_pattern = R"(^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$)";
  bool allow_http = false;  // tests only
};

struct UnsubscribeConfig {
  std::string secret;  // HMAC key; required before bulk mail is accepted
  std::string mailto;
};

struct SuppressionConfig {
  int soft_bounce_limit = 3;
  std::chrono::hours soft_bounce_window{168};
};

struct GuardConfig {
  double max_bounce_rate = 0.05;
  double max_complaint_rate = 0.001;
  int min_sample = 200;
};

struct ApiConfig {
  double rate_limit_per_second = 100;
  double rate_limit_burst = 200;
};

struct LimitsConfig {
  int max_recipients = 100000;
};

struct MetricsConfig {
  bool is_public = true;  // key "metrics.public"
};

struct LogConfig {
  std::string level = "info";   // debug | info | warn | error
  std::string format = "auto";  // auto | json | pretty
};

struct Config {
  ServerConfig server;
  DbConfig db;
  WorkerConfig worker;
  SesConfig ses;
  SnsConfig sns;
  UnsubscribeConfig unsubscribe;
  SuppressionConfig suppression;
  GuardConfig guard;
  ApiConfig api;
  LimitsConfig limits;
  MetricsConfig metrics;
  LogConfig log;
};

enum class ConfigSource { default_value, file, env };

/// One row of the effective configuration, for `mailerctl config check`.
struct ConfigEntry {
  std::string key;        // "worker.concurrency"
  std::string value;      // as text; "********" when secret and set
  ConfigSource source;
  std::string env_name;   // the variable that set it, when source == env
};

struct LoadedConfig {
  Config config;
  std::vector<ConfigEntry> entries;  // every key of the table, in table order
};

/// Environment lookup, injectable for tests. Returns nullopt when unset.
using EnvLookup = std::optional<std::string> (*)(const char* name);
std::optional<std::string> process_env(const char* name);

/// Loads defaults, then `toml_path` (optional; empty = none), then the environment.
/// Errors: invalid_input with one FieldError per problem (key, "value: reason"),
/// covering unreadable files, TOML syntax, unknown keys, wrong types and ranges.
Result<LoadedConfig> load_config(const std::string& toml_path, EnvLookup env = process_env);

/// "default" | "file" | "env".
const char* to_string(ConfigSource source);

}  // namespace mailer
