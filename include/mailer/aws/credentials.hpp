#pragma once
// AWS credentials and the default lookup chain, following the AWS SDK
// conventions (https://docs.aws.amazon.com/sdkref/latest/guide/standardized-credentials.html):
//   1. explicit configuration (ses.access_key_id / ses.secret_access_key / ses.session_token)
//   2. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN
//   3. web identity from the environment (AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE)
//   4. the AWS_PROFILE (or "default") profile of ~/.aws/config and ~/.aws/credentials:
//      assumed roles, web identity, static keys, credential_process
//      (credentials_profile.hpp, credentials_sts.hpp, credentials_process.hpp)
//   5. container credentials (ECS task role, EKS Pod Identity):
//      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or _FULL_URI (credentials_container.hpp)
//   6. EC2 instance metadata, IMDSv2 only (token PUT, role name, role JSON);
//      endpoint AWS_EC2_METADATA_SERVICE_ENDPOINT or http://169.254.169.254,
//      skipped when AWS_EC2_METADATA_DISABLED=true.
// Error details name the source and what is wrong, never a key, secret or token.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/core/log.hpp"

namespace mailer::aws {

/// The detail of a credential fetch given up because mailerd is stopping
/// (CredentialsProvider::stop); the code is upstream_transient.
inline constexpr std::string_view k_cancelled_detail = "cancelled: mailerd is stopping";

/// Whether `error` is CredentialsProvider's answer after stop(): the worker
/// that gets it gives its message back unsent instead of counting an attempt.
bool is_cancelled(const Error& error);

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;                    // empty for long-term keys
  std::optional<Clock::time_point> expiration;  // nullopt: does not expire
  // Who gave them: "config", "env", "web-identity", "file:<profile>",
  // "assume-role:<profile>", "web-identity:<profile>", "process:<profile>",
  // "container", "imds".
  std::string source;
};

/// Environment lookup, injectable for tests; nullopt when unset.
using EnvGetter = std::function<std::optional<std::string>(const char* name)>;
/// std::getenv.
std::optional<std::string> system_env(const char* name);

/// Parsed INI text: section -> key -> value. Keys are lower-cased and trimmed;
/// '#' and ';' start comment lines; "[profile x]" stays "profile x".
/// Errors: invalid_input naming the line number of a malformed line.
using IniSections = std::map<std::string, std::map<std::string, std::string>>;
Result<IniSections> parse_ini(const std::string& text);

/// Step 2. nullopt when neither key variable is set; invalid_input when only one is.
Result<std::optional<Credentials>> credentials_from_env(const EnvGetter& env);

/// The static keys of the credentials file alone (the chain uses
/// credentials_from_profile, which reads the config file too). nullopt when the
/// file does not exist, or when the "default" profile is missing from it.
/// invalid_input when AWS_PROFILE names a profile that is missing, the profile
/// lacks one of the two keys, or the file is malformed; too_large past 1 MB.
Result<std::optional<Credentials>> credentials_from_shared_file(const EnvGetter& env);

struct ImdsOptions {
  std::string endpoint = "http://169.254.169.254";  // no trailing '/'
  std::chrono::milliseconds timeout{1000};          // connect and total, per request
  int token_ttl_seconds = 21600;
  std::stop_token stop;  // a stop request aborts a request in progress ("cancelled")
};

/// Step 5. Errors: upstream_transient when IMDS does not answer (or `stop`
/// was requested), answers
/// non-200, or answers a token or role name that could not be sent on (control
/// characters, a role name outside IAM's characters); otherwise as
/// parse_imds_credentials.
Result<Credentials> credentials_from_imds(const ImdsOptions& options);

/// The role credentials JSON of IMDS, read field by field (parse_json: at most
/// 1 MB, 64 levels): Code "Success", non-empty strings AccessKeyId,
/// SecretAccessKey and Token, Expiration an ISO 8601 UTC time. Errors name the
/// field, never a value: upstream_transient when Code is another string;
/// invalid_input "IMDS: role credentials <Field>: missing|must be a string|empty"
/// or "... is not valid JSON (at byte N)"; too_large. Never throws.
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-categories.html
Result<Credentials> parse_imds_credentials(std::string_view body);

/// Parses "2026-11-30T22:39:16Z" (IMDS Expiration); false when malformed or
/// outside what Clock::time_point holds (years 1678-2262).
bool parse_iso8601_utc(const std::string& text, Clock::time_point& out);

/// The whole chain with a cache: thread-safe, shared by every SesClient.
/// Credentials that expire are fetched again when less than `refresh_window`
/// remains, so a request never leaves with credentials about to lapse, and
/// sending never pauses for that fetch: the first caller inside the window
/// starts it on a background thread and every caller keeps the cached
/// credentials while they are still valid. Only when no valid credentials
/// are cached do callers wait, for one fetch, and share its outcome. A failed
/// early refresh keeps the cached credentials until they expire, logs one
/// warning (provider and reason, never a secret) and is tried again
/// `retry_gap` later. Destruction waits for a background fetch (bounded by
/// the sources' timeouts; stop() first makes it prompt).
class CredentialsProvider {
 public:
  struct Options {
    SesConfig explicit_config;  // only the key fields are read
    EnvGetter env = system_env;
    const Clock* clock = nullptr;  // nullptr: system clock
    std::chrono::seconds refresh_window{300};
    std::chrono::milliseconds imds_timeout{1000};
    /// Between early refreshes that failed (or gave credentials already
    /// inside refresh_window), so a broken source is not asked at every send.
    std::chrono::seconds retry_gap{10};
  };
  explicit CredentialsProvider(Options options);

  /// Cached credentials, refreshed as described above. Errors: invalid_input
  /// for a broken explicit/env/file/container setup (no fallthrough past a
  /// half-set source), unauthorized when no source has credentials, or the
  /// container/IMDS error; internal when a source threw (a bug).
  Result<Credentials> get();

  /// Whether usable credentials are at hand, without ever waiting (for
  /// /ready, which a load balancer probes with a short timeout): ok when
  /// valid credentials are cached (an early refresh starts as in get());
  /// otherwise a fetch starts in the background unless one runs or the last
  /// failed less than retry_gap ago; a running fetch gets 250 ms (keys from
  /// the configuration, environment or a file need far less), then the
  /// answer is the last fetch's error, or upstream_transient "fetching AWS
  /// credentials" before any.
  Status readiness();

  /// For shutdown: a fetch in progress is given up at once (a
  /// credential_process is killed with its process group, an STS, container
  /// or IMDS request aborted), and none starts after. Cached credentials that
  /// are still valid keep serving get(); otherwise get() and readiness()
  /// answer upstream_transient k_cancelled_detail (is_cancelled). Idempotent,
  /// never waits.
  void stop();

  /// Drops the cache, e.g. after SES answered ExpiredTokenException.
  void invalidate();

  /// When the cached credentials expire; nullopt when none are cached or
  /// they do not expire (static keys). Never resolves: cheap, for /metrics.
  std::optional<Clock::time_point> cached_expiration() const;

 private:
  /// The chain; `provider` names the step that answered or failed
  /// ("config", "env", "shared file", "container", "imds", "none").
  Result<Credentials> resolve(std::string& provider);
  Result<Credentials> resolve_without_throwing(std::string& provider) noexcept;
  Result<Credentials> refresh(std::unique_lock<std::mutex>& lock);
  void start_background_refresh();
  Result<Credentials> finish_refresh(Result<Credentials> resolved, const std::string& provider);
  Result<Credentials> wait_for_refresh(std::unique_lock<std::mutex>& lock);
  Clock::time_point now() const;
  bool fresh(const Credentials& credentials, Clock::time_point now) const;

  Options m_options;
  SystemClock m_system_clock;
  mutable std::mutex m_mutex;
  std::condition_variable m_refreshed;
  std::optional<Credentials> m_cached;
  bool m_refreshing = false;
  std::uint64_t m_generation = 0;     // refreshes finished
  std::optional<Error> m_last_error;  // of the last refresh; nullopt after a success
  Clock::time_point m_next_attempt{};  // no early refresh before this
  log::Throttle m_failure_log{std::chrono::seconds(10)};
  std::stop_source m_stop;  // stop(); its token goes to every source
  std::jthread m_background;  // last: joined before the state it uses goes
};

}  // namespace mailer::aws
