#pragma once
// mailerd configuration: one table of keys (SPEC §2), read from an optional TOML
// file, then overridden by environment variables MAILER_<SECTION>_<KEY> and the
// seed's aliases (PORT, DATABASE_URL, WORKER_CONCURRENCY, JOB_ATTEMPTS,
// JOB_BACKOFF_DELAY, AWS_REGION). Every problem is collected, never thrown one
// at a time; mains exit with k_config_exit_code (EX_CONFIG, sysexits.h) when any.

#include <chrono>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
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
  // Bodies over 1 MiB held at once, across connections (src/http/body_budget.hpp);
  // 0: twice max_body_bytes. See body_bytes_in_flight().
  long long max_body_bytes_in_flight = 0;
  // Deadlines per phase of a request (src/http/connection.hpp): from the
  // connection or the first byte of a request to the end of its headers; for
  // the whole body, and again for the whole response; idle between requests.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds body_timeout{60};
  std::chrono::seconds keep_alive_timeout{5};
  int max_connections = 512;  // open at once; one more is refused with 503
};

/// server.max_body_bytes_in_flight in bytes, its default (0) resolved.
inline long long body_bytes_in_flight(const ServerConfig& server) {
  return server.max_body_bytes_in_flight > 0 ? server.max_body_bytes_in_flight : 2 * server.max_body_bytes;
}

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
  std::string endpoint;       // empty: https://email.<region>.amazonaws.com (or AWS_ENDPOINT_URL*)
  std::string access_key_id;  // empty: the AWS credential chain
  std::string secret_access_key;
  std::string session_token;
  std::string configuration_set;
  // Sending authorization and feedback forwarding (SendEmail's
  // FromEmailAddressIdentityArn, FeedbackForwardingEmailAddress[IdentityArn]);
  // empty = not sent.
  std::string from_email_address_identity_arn;
  std::string feedback_forwarding_email_address;
  std::string feedback_forwarding_email_address_identity_arn;
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

struct EventsConfig {
  // Keep the reader's IP address of SES Open and Click events in their detail.
  // Off by default: an IP address is personal data and rarely needed.
  bool store_client_ip = false;
};

// Outgoing webhooks (docs/API.md "Webhooks").
struct WebhooksConfig {
  bool allow_http = false;             // http:// endpoint URLs (else https only)
  bool allow_private_targets = false;  // loopback, private, link-local targets (tests)
  int max_events_per_delivery = 100;
  std::chrono::milliseconds max_batch_age{1000};  // an event waits at most this for others
  std::chrono::milliseconds backoff_base{5000};
  std::chrono::milliseconds backoff_max{3600000};
  std::chrono::hours retry_for{24};      // a delivery is retried this long, then given up
  std::chrono::hours disable_after{72};  // an endpoint failing this long is disabled
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{10000};  // whole request
};

// How long each kind of row is kept (docs/API.md "Retention"); 0 keeps it
// forever. Days count from the time a message finished (sent, suppressed,
// cancelled; failed for the DLQ) or an event occurred.
struct RetentionConfig {
  int message_content_days = 30;  // variables and inline content of finished messages
  int messages_days = 180;        // finished messages (not the DLQ)
  int dlq_days = 90;              // failed messages, unless retried or purged first
  int events_days = 180;
  int audit_days = 365;  // API key "used" audit rows; created/revoked are kept
  std::chrono::seconds prune_interval{3600};
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

struct UiConfig {
  bool enabled = true;  // serve the dashboard at /ui/
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
  EventsConfig events;
  WebhooksConfig webhooks;
  RetentionConfig retention;
  GuardConfig guard;
  ApiConfig api;
  LimitsConfig limits;
  MetricsConfig metrics;
  UiConfig ui;
  LogConfig log;
};

enum class ConfigSource { default_value, file, env };

/// One row of the effective configuration, for `mailerctl config check`.
struct ConfigEntry {
  std::string key;    // "worker.concurrency"
  std::string value;  // TOML literal ("16", "\"auto\"", "[]"); "********" when secret
                      // and set; "(unset)" when an optional string is empty
  ConfigSource source;
  std::string env_name;  // the variable that set it, when source == env
  // The same value as JSON text: 16, "auto", [], null when unset; bytes that
  // are not UTF-8 shown as U+FFFD.
  std::string value_json{};
};

struct LoadedConfig {
  Config config;
  std::vector<ConfigEntry> entries;  // every key of the table, in table order
};

/// Environment lookup, injectable for tests (a lambda over a std::map works).
/// Returns nullopt when unset; an empty value counts as set.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
std::optional<std::string> process_env(const char* name);
/// Names of the process's variables starting with "MAILER_" (from environ).
std::vector<std::string> process_env_names();

/// Loads defaults, then `toml_path` (optional; empty = none), then the environment:
/// the seed's aliases (PORT, DATABASE_URL, ...) and then MAILER_<SECTION>_<KEY>, so
/// MAILER_* wins over an alias, any variable over the file, the file over defaults.
/// Errors: invalid_input with one FieldError per problem, all at once:
/// field = the key (or "config" for the file itself, or the unknown variable's
/// name), message = "value: reason", e.g. {"worker.concurrency", "0: must be at
/// least 1"}; values of secret keys show as "********". Covers unreadable files,
/// TOML syntax (with line:column), unknown sections/keys/MAILER_* variables (with a
/// "did you mean"), wrong types, ranges, enums, and cross-key rules (TLS pair).
/// The one-argument form reads the process environment and rejects unknown
/// MAILER_* variables; with an explicit `env`, only `env_names` (if given) are
/// checked for unknown MAILER_* names.
Result<LoadedConfig> load_config(const std::string& toml_path);
Result<LoadedConfig> load_config(const std::string& toml_path, const EnvLookup& env,
                                 const std::vector<std::string>& env_names = {});

/// Prints `error` of load_config as "mailerd: invalid configuration (N problems)"
/// then one "  key: value: reason" line per problem. Mains then exit k_config_exit_code.
void print_config_errors(const Error& error, std::ostream& out);

/// Settings that work but should change, as {key, message}, for mailerd's
/// start-up log and `mailerctl config check`; none is an error. Today: a
/// server.public_url that is not https while bulk mail can go out
/// (unsubscribe.secret set), because bulk mail then carries
/// List-Unsubscribe-Post, and RFC 8058 section 3.1 requires its
/// List-Unsubscribe URI to be https.
std::vector<FieldError> config_warnings(const Config& config);

/// Sets the log threshold and format from `config.log` (already validated).
void configure_logging(const Config& config);

/// "default" | "file" | "env".
const char* to_string(ConfigSource source);

// ---- The key table (ccache's k_config_key_table) ----------------------------

enum class ConfigType {
  integer,      // TOML integer; env: decimal digits
  number,       // TOML integer or float; env: decimal number
  boolean,      // TOML boolean; env: true/false/1/0 (any case)
  string,       // TOML string; env: as is; "" = unset
  string_list,  // TOML array of strings; env: "a,b" or TOML array syntax ["a","b"]
  rate,         // a number > 0, or the string "auto"
};

/// How `mailerctl config check` and error messages show a value.
/// `partial`: "********" followed by the last 4 characters (ses.access_key_id: it is
/// an identifier, not a secret, and the tail tells which key is in use); fully
/// masked when shorter than 12 characters.
enum class Secret { no, partial, yes };

/// A parsed value: integer -> long long, number -> double, boolean -> bool,
/// string -> std::string, string_list -> vector, rate -> double or "auto" string.
using ConfigValue = std::variant<long long, double, bool, std::string, std::vector<std::string>>;

/// An extra environment name for a key. `rewrite` (optional) turns the variable's
/// text into the key's text, or explains why it cannot (DATABASE_URL URL forms).
struct ConfigAlias {
  std::string_view env_name;
  Result<std::string> (*rewrite)(std::string_view raw) = nullptr;
};

struct ConfigKey {
  std::string_view key;              // "worker.concurrency"
  std::string_view env_name;         // "MAILER_WORKER_CONCURRENCY"
  std::vector<ConfigAlias> aliases;  // earlier aliases win over later ones
  ConfigType type;
  std::string_view default_toml;  // TOML literal of the default, as in examples/mailerd.toml
  std::string_view description;
  Secret secret;
  std::string (*validate)(const ConfigValue& value);  // "" = valid, else the reason
  void (*set)(Config& config, const ConfigValue& value);
  ConfigValue (*get)(const Config& config);
};

/// Every key, in documentation order.
const std::vector<ConfigKey>& config_keys();
/// The row for `key`, or nullptr.
const ConfigKey* find_config_key(std::string_view key);
/// `value` as a TOML literal: 16, 0.05, true, "text", ["a", "b"].
std::string format_config_value(const ConfigValue& value);

}  // namespace mailer
