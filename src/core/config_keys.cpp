// The configuration key table (SPEC §2): one row per key with its environment
// name, aliases, type, default, description, secret flag, validator and the
// getter/setter into Config. Loading (config.cpp) and `mailerctl config check`
// work only from this table, and a unit test holds it to examples/mailerd.toml.

#include <arpa/inet.h>
#include <netinet/in.h>

#include <fmt/format.h>

#include <algorithm>
#include <regex>
#include <type_traits>

#include "mailer/core/config.hpp"

namespace mailer {
namespace {

// ---- getters and setters over pointers to members ---------------------------

template <auto Section, auto Member>
auto& field(Config& config) {
  return (config.*Section).*Member;
}
template <auto Section, auto Member>
const auto& field(const Config& config) {
  return (config.*Section).*Member;
}

template <auto S, auto M>
void set_int(Config& c, const ConfigValue& v) {
  using T = std::remove_reference_t<decltype(field<S, M>(c))>;
  field<S, M>(c) = static_cast<T>(std::get<long long>(v));
}
template <auto S, auto M>
ConfigValue get_int(const Config& c) {
  return static_cast<long long>(field<S, M>(c));
}

template <auto S, auto M>
void set_duration(Config& c, const ConfigValue& v) {
  using T = std::remove_reference_t<decltype(field<S, M>(c))>;
  field<S, M>(c) = T(std::get<long long>(v));
}
template <auto S, auto M>
ConfigValue get_duration(const Config& c) {
  return static_cast<long long>(field<S, M>(c).count());
}

template <auto S, auto M>
void set_double(Config& c, const ConfigValue& v) {
  field<S, M>(c) = std::get<double>(v);
}
template <auto S, auto M>
ConfigValue get_double(const Config& c) {
  return field<S, M>(c);
}

template <auto S, auto M>
void set_bool(Config& c, const ConfigValue& v) {
  field<S, M>(c) = std::get<bool>(v);
}
template <auto S, auto M>
ConfigValue get_bool(const Config& c) {
  return field<S, M>(c);
}

template <auto S, auto M>
void set_string(Config& c, const ConfigValue& v) {
  field<S, M>(c) = std::get<std::string>(v);
}
template <auto S, auto M>
ConfigValue get_string(const Config& c) {
  return field<S, M>(c);
}

template <auto S, auto M>
void set_list(Config& c, const ConfigValue& v) {
  field<S, M>(c) = std::get<std::vector<std::string>>(v);
}
template <auto S, auto M>
ConfigValue get_list(const Config& c) {
  return field<S, M>(c);
}

void set_send_rate(Config& c, const ConfigValue& v) {
  c.ses.max_send_rate = std::holds_alternative<double>(v) ? std::optional(std::get<double>(v)) : std::nullopt;
}
ConfigValue get_send_rate(const Config& c) {
  return c.ses.max_send_rate ? ConfigValue(*c.ses.max_send_rate) : ConfigValue(std::string("auto"));
}

// The base of links: a trailing slash would double up when paths are appended.
void set_public_url(Config& c, const ConfigValue& v) {
  std::string url = std::get<std::string>(v);
  while (!url.empty() && url.back() == '/') url.pop_back();
  c.server.public_url = url;
}

// ---- validators: "" when valid, else the reason -----------------------------

std::string any_value(const ConfigValue&) { return ""; }

template <long long Min, long long Max>
std::string int_range(const ConfigValue& v) {
  const long long n = std::get<long long>(v);
  if (n < Min) return fmt::format("must be at least {}", Min);
  if (n > Max) return fmt::format("must be at most {}", Max);
  return "";
}

std::string positive_number(const ConfigValue& v) { return std::get<double>(v) > 0 ? "" : "must be greater than 0"; }

std::string fraction(const ConfigValue& v) {
  const double x = std::get<double>(v);
  return x > 0 && x <= 1 ? "" : "must be greater than 0 and at most 1";
}

std::string non_empty(const ConfigValue& v) { return std::get<std::string>(v).empty() ? "must not be empty" : ""; }

// The listener takes an address, not a name: a name would be looked up once at
// start, and a typo would only show as a bind failure after start-up.
std::string ip_address(const ConfigValue& v) {
  const auto& text = std::get<std::string>(v);
  if (text.empty()) return non_empty(v);
  unsigned char buffer[sizeof(in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1 || inet_pton(AF_INET6, text.c_str(), buffer) == 1) return "";
  return "must be an IPv4 or IPv6 address such as 127.0.0.1, 0.0.0.0 or ::";
}

bool is_http_url(const std::string& url) {
  static const std::regex k_http_url(R"(^https?://[^/?#@\s]+(/[^\s]*)?$)", std::regex::icase);
  return std::regex_match(url, k_http_url);
}

std::string http_url(const ConfigValue& v) {
  return is_http_url(std::get<std::string>(v)) ? "" : "must be an http:// or https:// URL";
}

std::string optional_http_url(const ConfigValue& v) { return std::get<std::string>(v).empty() ? "" : http_url(v); }

std::string cors_origins(const ConfigValue& v) {
  static const std::regex k_origin(R"(^https?://[^/?#@\s]+$)", std::regex::icase);
  for (const auto& origin : std::get<std::vector<std::string>>(v)) {
    if (origin != "*" && !std::regex_match(origin, k_origin)) {
      return fmt::format("\"{}\" is not \"*\" or an origin such as https://app.example.com", origin);
    }
  }
  return "";
}

std::string aws_region(const ConfigValue& v) {
  static const std::regex k_region(R"(^[a-z]{2}(-[a-z]+)+-[0-9]+$)");
  return std::regex_match(std::get<std::string>(v), k_region) ? "" : "must be an AWS region such as us-east-1";
}

std::string send_rate(const ConfigValue& v) {
  if (std::holds_alternative<std::string>(v)) return "";  // "auto", checked by the parser
  return positive_number(v);
}

std::string topic_arns(const ConfigValue& v) {
  static const std::regex k_arn(R"(^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]+:[A-Za-z0-9_-]+(\.fifo)?$)");
  for (const auto& arn : std::get<std::vector<std::string>>(v)) {
    if (!std::regex_match(arn, k_arn)) {
      return fmt::format("\"{}\" is not an SNS topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn);
    }
  }
  return "";
}

std::string regex_pattern(const ConfigValue& v) {
  const auto& pattern = std::get<std::string>(v);
  if (pattern.empty()) return "must not be empty";
  try {
    std::regex compiled(pattern);
  } catch (const std::regex_error& e) {
    return fmt::format("not a valid regular expression ({})", e.what());
  }
  return "";
}

// NOTE: 16 bytes is the least that makes guessing the HMAC key of unsubscribe
// tokens impractical; `openssl rand -hex 32` gives 64 characters.
std::string unsubscribe_secret(const ConfigValue& v) {
  const auto size = std::get<std::string>(v).size();
  return size == 0 || size >= 16 ? "" : "must be at least 16 characters (try: openssl rand -hex 32)";
}

// A structural check only: the full address rules (render::normalize_address)
// live in a layer above core. The value goes to SES as written.
bool is_plain_address(const std::string& address) {
  static const std::regex k_address(R"(^[^@\s<>,;:]+@[^@\s<>,;:]+$)");
  return std::regex_match(address, k_address);
}

std::string mailto_address(const ConfigValue& v) {
  const auto& address = std::get<std::string>(v);
  return address.empty() || is_plain_address(address) ? "" : "must be an address such as unsubscribe@example.com";
}

// SES's FeedbackForwardingEmailAddress: one bare address, printable ASCII
// (SES wants an ASCII local part; a non-ASCII domain must be given in Punycode).
std::string feedback_address(const ConfigValue& v) {
  const auto& address = std::get<std::string>(v);
  if (address.empty()) return "";
  const bool ascii = std::all_of(address.begin(), address.end(), [](char c) { return c > ' ' && c < 127; });
  if (!ascii || address.size() > 254 || !is_plain_address(address))
    return "must be one address such as bounces@example.com (ASCII; a non-ASCII domain in Punycode)";
  // RFC 5321 section 4.5.3.1.1: SES refuses a longer local part at send time.
  if (address.find('@') > 64) return "local part (before @) is longer than 64 octets";
  return "";
}

// An SES identity ARN, as sending authorization names another account's
// identity: arn:PARTITION:ses:REGION:ACCOUNT:identity/IDENTITY, the identity an
// address or a domain. https://docs.aws.amazon.com/ses/latest/dg/sending-authorization.html
std::string ses_identity_arn(const ConfigValue& v) {
  static const std::regex k_arn(R"(^arn:aws(-[a-z]+)*:ses:[a-z]{2}(-[a-z]+)+-[0-9]+:[0-9]{12}:identity/[!-~]+$)");
  constexpr std::size_t k_max_arn_length = 512;  // an address is at most 254, a domain 253
  const auto& arn = std::get<std::string>(v);
  if (arn.empty()) return "";
  if (arn.size() > k_max_arn_length) return fmt::format("must be at most {} characters", k_max_arn_length);
  return std::regex_match(arn, k_arn)
             ? ""
             : "must be an SES identity ARN such as arn:aws:ses:us-east-1:123456789012:identity/example.com";
}

std::string one_of(const std::string& value, std::initializer_list<std::string_view> choices) {
  std::string names;
  for (auto choice : choices) {
    if (value == choice) return "";
    names += (names.empty() ? "" : ", ") + std::string(choice);
  }
  return "must be one of " + names;
}

std::string log_level(const ConfigValue& v) {
  return one_of(std::get<std::string>(v), {"debug", "info", "warn", "error"});
}
std::string log_format(const ConfigValue& v) { return one_of(std::get<std::string>(v), {"auto", "json", "pretty"}); }

// ---- aliases ----------------------------------------------------------------

// The seed's DATABASE_URL: a plain path, "sqlite:PATH", "sqlite://PATH" or
// "sqlite:///ABSOLUTE" (empty host), and "file:PATH" as Prisma wrote it.
Result<std::string> database_url_to_path(std::string_view url) {
  for (std::string_view prefix : {"sqlite://", "sqlite:", "file://", "file:"}) {
    if (url.substr(0, prefix.size()) == prefix) {
      url.remove_prefix(prefix.size());
      if (url.find_first_of("?#") != std::string_view::npos) {
        return make_error(ErrorCode::invalid_input, "URL parameters are not supported; give the file path only");
      }
      if (url.empty()) return make_error(ErrorCode::invalid_input, "the URL names no file");
      return std::string(url);
    }
  }
  if (url.find("://") != std::string_view::npos) {
    return make_error(ErrorCode::invalid_input, "must be a file path or a sqlite: URL");
  }
  return std::string(url);
}

using C = Config;
constexpr auto k_no = Secret::no;

}  // namespace

const std::vector<ConfigKey>& config_keys() {
  using T = ConfigType;
  // clang-format off: one key per three lines, aligned as a table
  static const std::vector<ConfigKey> k_config_key_table = {
      {"server.listen",
       "MAILER_SERVER_LISTEN",
       {},
       T::string,
       R"("127.0.0.1")",
       "IPv4 or IPv6 address to bind (0.0.0.0 for all interfaces)",
       k_no,
       ip_address,
       set_string<&C::server, &ServerConfig::listen>,
       get_string<&C::server, &ServerConfig::listen>},
      {"server.port",
       "MAILER_SERVER_PORT",
       {{"PORT"}},
       T::integer,
       "8080",
       "TCP port; 0 picks a free port and logs it",
       k_no,
       int_range<0, 65535>,
       set_int<&C::server, &ServerConfig::port>,
       get_int<&C::server, &ServerConfig::port>},
      {"server.public_url",
       "MAILER_SERVER_PUBLIC_URL",
       {},
       T::string,
       R"("http://127.0.0.1:8080")",
       "base of unsubscribe links, as recipients reach this service",
       k_no,
       http_url,
       set_public_url,
       get_string<&C::server, &ServerConfig::public_url>},
      {"server.tls_cert_file",
       "MAILER_SERVER_TLS_CERT_FILE",
       {},
       T::string,
       R"("")",
       "PEM certificate chain; HTTPS when set together with tls_key_file",
       k_no,
       any_value,
       set_string<&C::server, &ServerConfig::tls_cert_file>,
       get_string<&C::server, &ServerConfig::tls_cert_file>},
      {"server.tls_key_file",
       "MAILER_SERVER_TLS_KEY_FILE",
       {},
       T::string,
       R"("")",
       "PEM private key of tls_cert_file",
       k_no,
       any_value,
       set_string<&C::server, &ServerConfig::tls_key_file>,
       get_string<&C::server, &ServerConfig::tls_key_file>},
      {"server.cors_origins",
       "MAILER_SERVER_CORS_ORIGINS",
       {},
       T::string_list,
       "[]",
       "origins allowed by CORS, e.g. [\"https://app.example.com\"] or [\"*\"]",
       k_no,
       cors_origins,
       set_list<&C::server, &ServerConfig::cors_origins>,
       get_list<&C::server, &ServerConfig::cors_origins>},
      {"server.max_body_bytes",
       "MAILER_SERVER_MAX_BODY_BYTES",
       {},
       T::integer,
       "67108864",
       "largest request body; larger gets 413",
       k_no,
       int_range<1024, 1LL << 30>,
       set_int<&C::server, &ServerConfig::max_body_bytes>,
       get_int<&C::server, &ServerConfig::max_body_bytes>},
      {"server.max_body_bytes_in_flight",
       "MAILER_SERVER_MAX_BODY_BYTES_IN_FLIGHT",
       {},
       T::integer,
       "0",
       "request bodies over 1 MiB received or handled at once, in bytes (0: twice max_body_bytes); "
       "past it 503 with Retry-After",
       k_no,
       int_range<0, 1LL << 36>,
       set_int<&C::server, &ServerConfig::max_body_bytes_in_flight>,
       get_int<&C::server, &ServerConfig::max_body_bytes_in_flight>},
      {"server.header_timeout_seconds",
       "MAILER_SERVER_HEADER_TIMEOUT_SECONDS",
       {},
       T::integer,
       "10",
       "longest time to receive a request line and headers; the connection is closed after it",
       k_no,
       int_range<1, 3600>,
       set_duration<&C::server, &ServerConfig::header_timeout>,
       get_duration<&C::server, &ServerConfig::header_timeout>},
      {"server.body_timeout_seconds",
       "MAILER_SERVER_BODY_TIMEOUT_SECONDS",
       {},
       T::integer,
       "60",
       "longest time to receive a request body (408 after it), and to send a response",
       k_no,
       int_range<1, 86400>,
       set_duration<&C::server, &ServerConfig::body_timeout>,
       get_duration<&C::server, &ServerConfig::body_timeout>},
      {"server.keep_alive_timeout_seconds",
       "MAILER_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS",
       {},
       T::integer,
       "5",
       "how long an idle keep-alive connection waits for its next request",
       k_no,
       int_range<1, 3600>,
       set_duration<&C::server, &ServerConfig::keep_alive_timeout>,
       get_duration<&C::server, &ServerConfig::keep_alive_timeout>},
      {"server.max_connections",
       "MAILER_SERVER_MAX_CONNECTIONS",
       {},
       T::integer,
       "512",
       "HTTP connections open at once, one thread each; more are refused with 503",
       k_no,
       int_range<8, 65536>,
       set_int<&C::server, &ServerConfig::max_connections>,
       get_int<&C::server, &ServerConfig::max_connections>},

      {"db.path",
       "MAILER_DB_PATH",
       {{"DATABASE_URL", database_url_to_path}},
       T::string,
       R"("mailer.db")",
       "SQLite database file (DATABASE_URL may be a path or sqlite: URL)",
       k_no,
       non_empty,
       set_string<&C::db, &DbConfig::path>,
       get_string<&C::db, &DbConfig::path>},
      {"db.auto_migrate",
       "MAILER_DB_AUTO_MIGRATE",
       {},
       T::boolean,
       "true",
       "apply pending schema migrations at start",
       k_no,
       any_value,
       set_bool<&C::db, &DbConfig::auto_migrate>,
       get_bool<&C::db, &DbConfig::auto_migrate>},

      {"worker.concurrency",
       "MAILER_WORKER_CONCURRENCY",
       {{"WORKER_CONCURRENCY"}},
       T::integer,
       "16",
       "sending threads",
       k_no,
       int_range<1, 1024>,
       set_int<&C::worker, &WorkerConfig::concurrency>,
       get_int<&C::worker, &WorkerConfig::concurrency>},
      {"worker.attempts",
       "MAILER_WORKER_ATTEMPTS",
       {{"JOB_ATTEMPTS"}},
       T::integer,
       "5",
       "tries of a message before it goes to the DLQ",
       k_no,
       int_range<1, 100>,
       set_int<&C::worker, &WorkerConfig::attempts>,
       get_int<&C::worker, &WorkerConfig::attempts>},
      {"worker.backoff_base_ms",
       "MAILER_WORKER_BACKOFF_BASE_MS",
       {{"JOB_BACKOFF_DELAY"}},
       T::integer,
       "1000",
       "delay before the first retry, doubled per attempt",
       k_no,
       int_range<1, 86400000>,
       set_duration<&C::worker, &WorkerConfig::backoff_base>,
       get_duration<&C::worker, &WorkerConfig::backoff_base>},
      {"worker.backoff_max_ms",
       "MAILER_WORKER_BACKOFF_MAX_MS",
       {},
       T::integer,
       "3600000",
       "longest retry delay",
       k_no,
       int_range<1, 604800000>,
       set_duration<&C::worker, &WorkerConfig::backoff_max>,
       get_duration<&C::worker, &WorkerConfig::backoff_max>},
      {"worker.lease_seconds",
       "MAILER_WORKER_LEASE_SECONDS",
       {},
       T::integer,
       "60",
       "how long a claimed message stays with its worker before the reaper frees it",
       k_no,
       int_range<5, 86400>,
       set_duration<&C::worker, &WorkerConfig::lease>,
       get_duration<&C::worker, &WorkerConfig::lease>},
      {"worker.shutdown_grace_seconds",
       "MAILER_WORKER_SHUTDOWN_GRACE_SECONDS",
       {},
       T::integer,
       "30",
       "on SIGTERM, how long in-flight sends may finish",
       k_no,
       int_range<0, 3600>,
       set_duration<&C::worker, &WorkerConfig::shutdown_grace>,
       get_duration<&C::worker, &WorkerConfig::shutdown_grace>},

      {"ses.region",
       "MAILER_SES_REGION",
       {{"AWS_REGION"}},
       T::string,
       R"("us-east-1")",
       "SES region",
       k_no,
       aws_region,
       set_string<&C::ses, &SesConfig::region>,
       get_string<&C::ses, &SesConfig::region>},
      {"ses.endpoint",
       "MAILER_SES_ENDPOINT",
       {{"AWS_ENDPOINT_URL_SESV2"}, {"AWS_ENDPOINT_URL"}},
       T::string,
       R"("")",
       "SES API base URL; unset: https://email.REGION.amazonaws.com",
       k_no,
       optional_http_url,
       set_string<&C::ses, &SesConfig::endpoint>,
       get_string<&C::ses, &SesConfig::endpoint>},
      {"ses.access_key_id",
       "MAILER_SES_ACCESS_KEY_ID",
       {},
       T::string,
       R"("")",
       "static credentials; unset: the AWS chain (env, web identity, AWS profile, IMDSv2)",
       Secret::partial,
       any_value,
       set_string<&C::ses, &SesConfig::access_key_id>,
       get_string<&C::ses, &SesConfig::access_key_id>},
      {"ses.secret_access_key",
       "MAILER_SES_SECRET_ACCESS_KEY",
       {},
       T::string,
       R"("")",
       "secret of access_key_id",
       Secret::yes,
       any_value,
       set_string<&C::ses, &SesConfig::secret_access_key>,
       get_string<&C::ses, &SesConfig::secret_access_key>},
      {"ses.session_token",
       "MAILER_SES_SESSION_TOKEN",
       {},
       T::string,
       R"("")",
       "session token of temporary credentials",
       Secret::yes,
       any_value,
       set_string<&C::ses, &SesConfig::session_token>,
       get_string<&C::ses, &SesConfig::session_token>},
      {"ses.configuration_set",
       "MAILER_SES_CONFIGURATION_SET",
       {},
       T::string,
       R"("")",
       "default SES configuration set",
       k_no,
       any_value,
       set_string<&C::ses, &SesConfig::configuration_set>,
       get_string<&C::ses, &SesConfig::configuration_set>},
      {"ses.from_email_address_identity_arn",
       "MAILER_SES_FROM_EMAIL_ADDRESS_IDENTITY_ARN",
       {},
       T::string,
       R"("")",
       "sending authorization: ARN of the (other account's) identity the from address belongs to",
       k_no,
       ses_identity_arn,
       set_string<&C::ses, &SesConfig::from_email_address_identity_arn>,
       get_string<&C::ses, &SesConfig::from_email_address_identity_arn>},
      {"ses.feedback_forwarding_email_address",
       "MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS",
       {},
       T::string,
       R"("")",
       "address SES forwards bounce and complaint emails to; unset: SES's default",
       k_no,
       feedback_address,
       set_string<&C::ses, &SesConfig::feedback_forwarding_email_address>,
       get_string<&C::ses, &SesConfig::feedback_forwarding_email_address>},
      {"ses.feedback_forwarding_email_address_identity_arn",
       "MAILER_SES_FEEDBACK_FORWARDING_EMAIL_ADDRESS_IDENTITY_ARN",
       {},
       T::string,
       R"("")",
       "sending authorization: ARN of the identity of feedback_forwarding_email_address",
       k_no,
       ses_identity_arn,
       set_string<&C::ses, &SesConfig::feedback_forwarding_email_address_identity_arn>,
       get_string<&C::ses, &SesConfig::feedback_forwarding_email_address_identity_arn>},
      {"ses.max_send_rate",
       "MAILER_SES_MAX_SEND_RATE",
       {},
       T::rate,
       R"("auto")",
       "messages per second, or \"auto\" to use the account's rate from GetAccount",
       k_no,
       send_rate,
       set_send_rate,
       get_send_rate},

      {"sns.topic_arns",
       "MAILER_SNS_TOPIC_ARNS",
       {},
       T::string_list,
       "[]",
       "SNS topics accepted by POST /webhooks/ses; empty disables the webhook",
       k_no,
       topic_arns,
       set_list<&C::sns, &SnsConfig::topic_arns>,
       get_list<&C::sns, &SnsConfig::topic_arns>},
      {"sns.auto_confirm",
       "MAILER_SNS_AUTO_CONFIRM",
       {},
       T::boolean,
       "true",
       "confirm subscriptions to accepted topics",
       k_no,
       any_value,
       set_bool<&C::sns, &SnsConfig::auto_confirm>,
       get_bool<&C::sns, &SnsConfig::auto_confirm>},
      {"sns.cert_host_pattern",
       "MAILER_SNS_CERT_HOST_PATTERN",
       {},
       T::string,
       R"('^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$')",
       "regular expression for the host of SigningCertURL and SubscribeURL",
       k_no,
       regex_pattern,
       set_string<&C::sns, &SnsConfig::cert_host_pattern>,
       get_string<&C::sns, &SnsConfig::cert_host_pattern>},
      {"sns.allow_http",
       "MAILER_SNS_ALLOW_HTTP",
       {},
       T::boolean,
       "false",
       "accept http:// certificate and subscribe URLs (tests only)",
       k_no,
       any_value,
       set_bool<&C::sns, &SnsConfig::allow_http>,
       get_bool<&C::sns, &SnsConfig::allow_http>},

      {"unsubscribe.secret",
       "MAILER_UNSUBSCRIBE_SECRET",
       {},
       T::string,
       R"("")",
       "HMAC key of unsubscribe tokens, at least 16 characters; required for bulk mail",
       Secret::yes,
       unsubscribe_secret,
       set_string<&C::unsubscribe, &UnsubscribeConfig::secret>,
       get_string<&C::unsubscribe, &UnsubscribeConfig::secret>},
      {"unsubscribe.mailto",
       "MAILER_UNSUBSCRIBE_MAILTO",
       {},
       T::string,
       R"("")",
       "address added as mailto: to List-Unsubscribe",
       k_no,
       mailto_address,
       set_string<&C::unsubscribe, &UnsubscribeConfig::mailto>,
       get_string<&C::unsubscribe, &UnsubscribeConfig::mailto>},

      {"suppression.soft_bounce_limit",
       "MAILER_SUPPRESSION_SOFT_BOUNCE_LIMIT",
       {},
       T::integer,
       "3",
       "soft bounces within the window that suppress an address",
       k_no,
       int_range<1, 1000>,
       set_int<&C::suppression, &SuppressionConfig::soft_bounce_limit>,
       get_int<&C::suppression, &SuppressionConfig::soft_bounce_limit>},
      {"suppression.soft_bounce_window_hours",
       "MAILER_SUPPRESSION_SOFT_BOUNCE_WINDOW_HOURS",
       {},
       T::integer,
       "168",
       "window of soft_bounce_limit",
       k_no,
       int_range<1, 8760>,
       set_duration<&C::suppression, &SuppressionConfig::soft_bounce_window>,
       get_duration<&C::suppression, &SuppressionConfig::soft_bounce_window>},

      {"events.store_client_ip",
       "MAILER_EVENTS_STORE_CLIENT_IP",
       {},
       T::boolean,
       "false",
       "keep the reader's IP address in OPEN and CLICK event details",
       k_no,
       any_value,
       set_bool<&C::events, &EventsConfig::store_client_ip>,
       get_bool<&C::events, &EventsConfig::store_client_ip>},

      {"webhooks.allow_http",
       "MAILER_WEBHOOKS_ALLOW_HTTP",
       {},
       T::boolean,
       "false",
       "allow http:// webhook endpoint URLs (else https only)",
       k_no,
       any_value,
       set_bool<&C::webhooks, &WebhooksConfig::allow_http>,
       get_bool<&C::webhooks, &WebhooksConfig::allow_http>},
      {"webhooks.allow_private_targets",
       "MAILER_WEBHOOKS_ALLOW_PRIVATE_TARGETS",
       {},
       T::boolean,
       "false",
       "allow webhook targets on loopback, private and link-local addresses",
       k_no,
       any_value,
       set_bool<&C::webhooks, &WebhooksConfig::allow_private_targets>,
       get_bool<&C::webhooks, &WebhooksConfig::allow_private_targets>},
      {"webhooks.max_events_per_delivery",
       "MAILER_WEBHOOKS_MAX_EVENTS_PER_DELIVERY",
       {},
       T::integer,
       "100",
       "events one webhook request carries at most",
       k_no,
       int_range<1, 1000>,
       set_int<&C::webhooks, &WebhooksConfig::max_events_per_delivery>,
       get_int<&C::webhooks, &WebhooksConfig::max_events_per_delivery>},
      {"webhooks.max_batch_age_ms",
       "MAILER_WEBHOOKS_MAX_BATCH_AGE_MS",
       {},
       T::integer,
       "1000",
       "longest an event waits for others to share its webhook request",
       k_no,
       int_range<0, 60000>,
       set_duration<&C::webhooks, &WebhooksConfig::max_batch_age>,
       get_duration<&C::webhooks, &WebhooksConfig::max_batch_age>},
      {"webhooks.backoff_base_ms",
       "MAILER_WEBHOOKS_BACKOFF_BASE_MS",
       {},
       T::integer,
       "5000",
       "first webhook retry delay",
       k_no,
       int_range<1, 86400000>,
       set_duration<&C::webhooks, &WebhooksConfig::backoff_base>,
       get_duration<&C::webhooks, &WebhooksConfig::backoff_base>},
      {"webhooks.backoff_max_ms",
       "MAILER_WEBHOOKS_BACKOFF_MAX_MS",
       {},
       T::integer,
       "3600000",
       "longest webhook retry delay (also the most a Retry-After is honoured)",
       k_no,
       int_range<1, 86400000>,
       set_duration<&C::webhooks, &WebhooksConfig::backoff_max>,
       get_duration<&C::webhooks, &WebhooksConfig::backoff_max>},
      {"webhooks.retry_for_hours",
       "MAILER_WEBHOOKS_RETRY_FOR_HOURS",
       {},
       T::integer,
       "24",
       "how long a webhook delivery is retried before it is given up",
       k_no,
       int_range<1, 720>,
       set_duration<&C::webhooks, &WebhooksConfig::retry_for>,
       get_duration<&C::webhooks, &WebhooksConfig::retry_for>},
      {"webhooks.disable_after_hours",
       "MAILER_WEBHOOKS_DISABLE_AFTER_HOURS",
       {},
       T::integer,
       "72",
       "a webhook endpoint whose every attempt failed for this long is disabled",
       k_no,
       int_range<1, 8760>,
       set_duration<&C::webhooks, &WebhooksConfig::disable_after>,
       get_duration<&C::webhooks, &WebhooksConfig::disable_after>},
      {"webhooks.connect_timeout_ms",
       "MAILER_WEBHOOKS_CONNECT_TIMEOUT_MS",
       {},
       T::integer,
       "5000",
       "webhook request connect timeout (TCP and TLS)",
       k_no,
       int_range<100, 60000>,
       set_duration<&C::webhooks, &WebhooksConfig::connect_timeout>,
       get_duration<&C::webhooks, &WebhooksConfig::connect_timeout>},
      {"webhooks.timeout_ms",
       "MAILER_WEBHOOKS_TIMEOUT_MS",
       {},
       T::integer,
       "10000",
       "webhook request total timeout",
       k_no,
       int_range<100, 300000>,
       set_duration<&C::webhooks, &WebhooksConfig::timeout>,
       get_duration<&C::webhooks, &WebhooksConfig::timeout>},

      {"retention.message_content_days",
       "MAILER_RETENTION_MESSAGE_CONTENT_DAYS",
       {},
       T::integer,
       "30",
       "days the variables and inline content of a finished message are kept; 0 forever",
       k_no,
       int_range<0, 36500>,
       set_int<&C::retention, &RetentionConfig::message_content_days>,
       get_int<&C::retention, &RetentionConfig::message_content_days>},
      {"retention.messages_days",
       "MAILER_RETENTION_MESSAGES_DAYS",
       {},
       T::integer,
       "180",
       "days a sent, suppressed or cancelled message is kept; 0 forever",
       k_no,
       int_range<0, 36500>,
       set_int<&C::retention, &RetentionConfig::messages_days>,
       get_int<&C::retention, &RetentionConfig::messages_days>},
      {"retention.dlq_days",
       "MAILER_RETENTION_DLQ_DAYS",
       {},
       T::integer,
       "90",
       "days a failed message stays in the DLQ unless retried or purged; 0 forever",
       k_no,
       int_range<0, 36500>,
       set_int<&C::retention, &RetentionConfig::dlq_days>,
       get_int<&C::retention, &RetentionConfig::dlq_days>},
      {"retention.events_days",
       "MAILER_RETENTION_EVENTS_DAYS",
       {},
       T::integer,
       "180",
       "days an event is kept; 0 forever (counts are kept either way)",
       k_no,
       int_range<0, 36500>,
       set_int<&C::retention, &RetentionConfig::events_days>,
       get_int<&C::retention, &RetentionConfig::events_days>},
      {"retention.audit_days",
       "MAILER_RETENTION_AUDIT_DAYS",
       {},
       T::integer,
       "365",
       "days an API key's \"used\" audit rows are kept; 0 forever",
       k_no,
       int_range<0, 36500>,
       set_int<&C::retention, &RetentionConfig::audit_days>,
       get_int<&C::retention, &RetentionConfig::audit_days>},
      {"retention.prune_interval_seconds",
       "MAILER_RETENTION_PRUNE_INTERVAL_SECONDS",
       {},
       T::integer,
       "3600",
       "seconds between background prune passes",
       k_no,
       int_range<1, 86400>,
       set_duration<&C::retention, &RetentionConfig::prune_interval>,
       get_duration<&C::retention, &RetentionConfig::prune_interval>},

      {"guard.max_bounce_rate",
       "MAILER_GUARD_MAX_BOUNCE_RATE",
       {},
       T::number,
       "0.05",
       "bounce rate (0-1) above which bulk sending pauses",
       k_no,
       fraction,
       set_double<&C::guard, &GuardConfig::max_bounce_rate>,
       get_double<&C::guard, &GuardConfig::max_bounce_rate>},
      {"guard.max_complaint_rate",
       "MAILER_GUARD_MAX_COMPLAINT_RATE",
       {},
       T::number,
       "0.001",
       "complaint rate (0-1) above which bulk sending pauses",
       k_no,
       fraction,
       set_double<&C::guard, &GuardConfig::max_complaint_rate>,
       get_double<&C::guard, &GuardConfig::max_complaint_rate>},
      {"guard.min_sample",
       "MAILER_GUARD_MIN_SAMPLE",
       {},
       T::integer,
       "200",
       "messages sent before the rates are judged",
       k_no,
       int_range<1, 100000000>,
       set_int<&C::guard, &GuardConfig::min_sample>,
       get_int<&C::guard, &GuardConfig::min_sample>},

      {"api.rate_limit_per_second",
       "MAILER_API_RATE_LIMIT_PER_SECOND",
       {},
       T::number,
       "100",
       "requests per second per API key",
       k_no,
       positive_number,
       set_double<&C::api, &ApiConfig::rate_limit_per_second>,
       get_double<&C::api, &ApiConfig::rate_limit_per_second>},
      {"api.rate_limit_burst",
       "MAILER_API_RATE_LIMIT_BURST",
       {},
       T::number,
       "200",
       "requests an API key may make at once",
       k_no,
       positive_number,
       set_double<&C::api, &ApiConfig::rate_limit_burst>,
       get_double<&C::api, &ApiConfig::rate_limit_burst>},

      {"limits.max_recipients",
       "MAILER_LIMITS_MAX_RECIPIENTS",
       {},
       T::integer,
       "100000",
       "recipients per batch",
       k_no,
       int_range<1, 10000000>,
       set_int<&C::limits, &LimitsConfig::max_recipients>,
       get_int<&C::limits, &LimitsConfig::max_recipients>},

      {"metrics.public",
       "MAILER_METRICS_PUBLIC",
       {},
       T::boolean,
       "true",
       "serve /metrics without an API key",
       k_no,
       any_value,
       set_bool<&C::metrics, &MetricsConfig::is_public>,
       get_bool<&C::metrics, &MetricsConfig::is_public>},

      {"ui.enabled",
       "MAILER_UI_ENABLED",
       {},
       T::boolean,
       "true",
       "serve the web dashboard at /ui/ (static files; every call it makes needs an API key)",
       k_no,
       any_value,
       set_bool<&C::ui, &UiConfig::enabled>,
       get_bool<&C::ui, &UiConfig::enabled>},

      {"log.level",
       "MAILER_LOG_LEVEL",
       {},
       T::string,
       R"("info")",
       "debug, info, warn or error",
       k_no,
       log_level,
       set_string<&C::log, &LogConfig::level>,
       get_string<&C::log, &LogConfig::level>},
      {"log.format",
       "MAILER_LOG_FORMAT",
       {},
       T::string,
       R"("auto")",
       "auto (pretty on a terminal, JSON otherwise), json or pretty",
       k_no,
       log_format,
       set_string<&C::log, &LogConfig::format>,
       get_string<&C::log, &LogConfig::format>},
  };
  // clang-format on
  return k_config_key_table;
}

const ConfigKey* find_config_key(std::string_view key) {
  for (const auto& row : config_keys()) {
    if (row.key == key) return &row;
  }
  return nullptr;
}

}  // namespace mailer
