// The credential chain. Each source returns "not here" (nullopt) or a value or
// an error; the chain stops at the first source that is configured at all,
// so a half-set environment is reported instead of silently falling back to
// another identity.
#include "mailer/aws/credentials.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "mailer/aws/credentials_container.hpp"
#include "mailer/aws/credentials_profile.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/net/http_client.hpp"

namespace mailer::aws {

namespace {

bool env_true(const EnvGetter& env, const char* name) {
  auto value = env(name);
  return value && text::ascii_lower(text::trim(*value)) == "true";
}

std::string env_or(const EnvGetter& env, const char* name, std::string fallback) {
  auto value = env(name);
  return value && !value->empty() ? *value : fallback;
}

Error source_error(ErrorCode code, const std::string& detail) { return make_error(code, detail); }

Error cancelled_error() { return make_error(ErrorCode::upstream_transient, std::string(k_cancelled_detail)); }

}  // namespace

bool is_cancelled(const Error& error) {
  return error.code == ErrorCode::upstream_transient && error.detail == k_cancelled_detail;
}

std::optional<std::string> system_env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<IniSections> parse_ini(const std::string& text) {
  IniSections sections;
  std::istringstream in(text);
  std::string raw;
  std::string current;
  bool in_section = false;
  int line_number = 0;
  while (std::getline(in, raw)) {
    ++line_number;
    std::string line(text::trim(raw));
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[') {
      if (line.back() != ']') {
        return source_error(ErrorCode::invalid_input, "line " + std::to_string(line_number) + ": unterminated section");
      }
      current = text::trim(std::string_view(line).substr(1, line.size() - 2));
      sections[current];
      in_section = true;
      continue;
    }
    auto eq = line.find('=');
    // Keys never hold secrets, but values might: the message names only the line.
    if (eq == std::string::npos || !in_section) {
      return source_error(ErrorCode::invalid_input,
                          "line " + std::to_string(line_number) + ": expected key = value inside a section");
    }
    // NOTE: indented lines after a key are AWS "sub-properties" (e.g. services);
    // they are read as plain keys, which is enough for the credential keys.
    sections[current][text::ascii_lower(text::trim(line.substr(0, eq)))] = text::trim(line.substr(eq + 1));
  }
  return sections;
}

Result<std::optional<Credentials>> credentials_from_env(const EnvGetter& env) {
  auto id = env("AWS_ACCESS_KEY_ID");
  auto secret = env("AWS_SECRET_ACCESS_KEY");
  bool has_id = id && !id->empty();
  bool has_secret = secret && !secret->empty();
  if (!has_id && !has_secret) return std::optional<Credentials>();
  if (has_id != has_secret) {
    return source_error(ErrorCode::invalid_input,
                        "environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  Credentials out{*id, *secret, env_or(env, "AWS_SESSION_TOKEN", ""), std::nullopt, "env"};
  return std::optional<Credentials>(std::move(out));
}

Result<std::optional<Credentials>> credentials_from_shared_file(const EnvGetter& env) {
  std::string path = env_or(env, "AWS_SHARED_CREDENTIALS_FILE", "");
  if (path.empty()) {
    auto home = env("HOME");
    if (!home || home->empty()) return std::optional<Credentials>();
    path = *home + "/.aws/credentials";
  }
  auto text = read_bounded_file(path, k_max_profile_file_bytes);
  if (!text) return source_error(text.error().code, "shared credentials file " + text.error().detail);
  if (!*text) return std::optional<Credentials>();
  auto sections = parse_ini(**text);
  if (!sections) {
    return source_error(ErrorCode::invalid_input, "shared credentials file " + path + ": " + sections.error().detail);
  }
  auto explicit_profile = env("AWS_PROFILE");
  std::string profile = explicit_profile && !explicit_profile->empty() ? *explicit_profile : "default";
  auto found = sections->find(profile);
  if (found == sections->end()) {
    if (profile == "default") return std::optional<Credentials>();
    return source_error(ErrorCode::invalid_input, "shared credentials file " + path + ": no profile [" + profile + "]");
  }
  auto& keys = found->second;
  if (keys["aws_access_key_id"].empty() || keys["aws_secret_access_key"].empty()) {
    return source_error(ErrorCode::invalid_input, "shared credentials file " + path + ": profile [" + profile +
                                                      "] needs aws_access_key_id and aws_secret_access_key");
  }
  Credentials out{keys["aws_access_key_id"], keys["aws_secret_access_key"], keys["aws_session_token"], std::nullopt,
                  "file:" + profile};
  return std::optional<Credentials>(std::move(out));
}

bool parse_iso8601_utc(const std::string& text, Clock::time_point& out) {
  std::tm parts{};
  std::istringstream in(text);
  in >> std::get_time(&parts, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return false;
  std::string rest;
  std::getline(in, rest);
  // Accept fractional seconds, then require UTC ("Z").
  if (!rest.empty() && rest[0] == '.') rest.erase(0, rest.find_first_not_of("0123456789", 1));
  if (rest != "Z") return false;
  std::time_t seconds = timegm(&parts);
  if (seconds == static_cast<std::time_t>(-1)) return false;
  // Clock counts nanoseconds in 64 bits (years 1678-2262); converting a time
  // outside that range overflows, so such an answer is malformed too.
  constexpr auto k_earliest = std::chrono::ceil<std::chrono::seconds>(Clock::time_point::duration::min()).count();
  constexpr auto k_latest = std::chrono::floor<std::chrono::seconds>(Clock::time_point::duration::max()).count();
  if (seconds < k_earliest || seconds > k_latest) return false;
  out = Clock::time_point(std::chrono::seconds(seconds));
  return true;
}

namespace {

Result<std::string> imds_call(net::HttpClient& client, const std::string& method, const std::string& url,
                              const net::HttpHeader& header) {
  auto response = client.perform({method, url, {header}, ""});
  if (!response) return source_error(ErrorCode::upstream_transient, "IMDS: " + response.error().detail);
  if (response->status != 200) {
    return source_error(ErrorCode::upstream_transient, "IMDS: " + method + " " + net::redact_url(url) +
                                                           " answered HTTP " + std::to_string(response->status));
  }
  return std::move(response->body);
}

// IAM role names: 1-64 of [A-Za-z0-9+=,.@_-] (IAM CreateRole). The name goes
// into the next request's path, so anything else is refused.
bool is_role_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
    return std::isalnum(c) != 0 || std::string_view("+=,.@_-").find(static_cast<char>(c)) != std::string_view::npos;
  });
}

// The session token goes into a header: printable ASCII only, so an answer
// cannot add a header line.
bool is_imds_token(std::string_view token) {
  return !token.empty() && token.size() <= 4096 &&
         std::all_of(token.begin(), token.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

}  // namespace

Result<Credentials> parse_imds_credentials(std::string_view body) {
  auto json = parse_json(body, "IMDS: role credentials");
  if (!json) return source_error(json.error().code, json.error().detail);
  auto code = string_member(*json, "Code");
  if (!code) return source_error(ErrorCode::invalid_input, "IMDS: role credentials " + code.error().detail);
  if (*code != "Success") {
    return source_error(ErrorCode::upstream_transient, "IMDS: role credentials Code is not Success");
  }
  Credentials out;
  out.source = "imds";
  // NOTE: details name fields only, never values: the answer holds the secret.
  const std::pair<const char*, std::string*> fields[] = {
      {"AccessKeyId", &out.access_key_id}, {"SecretAccessKey", &out.secret_access_key}, {"Token", &out.session_token}};
  std::string expiration_text;
  for (const auto& [name, target] : fields) {
    auto value = string_member(*json, name);
    if (value && value->empty()) value = make_error(ErrorCode::invalid_input, std::string(name) + ": empty");
    if (!value) return source_error(ErrorCode::invalid_input, "IMDS: role credentials " + value.error().detail);
    *target = std::move(*value);
  }
  auto expiration = string_member(*json, "Expiration");
  Clock::time_point expires_at;
  if (!expiration || !parse_iso8601_utc(*expiration, expires_at)) {
    return source_error(
        ErrorCode::invalid_input,
        "IMDS: role credentials " + (expiration ? "Expiration: not an ISO 8601 UTC time" : expiration.error().detail));
  }
  out.expiration = expires_at;
  return out;
}

Result<Credentials> credentials_from_imds(const ImdsOptions& options) {
  net::HttpClientOptions http{options.timeout, options.timeout, "mailerd"};
  if (options.stop.stop_possible()) http.cancelled = [stop = options.stop] { return stop.stop_requested(); };
  net::HttpClient client(std::move(http));
  std::string base = options.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  // IMDSv2 only: a session token first
  // (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/instancedata-data-retrieval.html).
  auto token = imds_call(client, "PUT", base + "/latest/api/token",
                         {"X-aws-ec2-metadata-token-ttl-seconds", std::to_string(options.token_ttl_seconds)});
  if (!token) return std::move(token).error();
  if (!is_imds_token(text::trim(*token))) {
    return source_error(ErrorCode::upstream_transient, "IMDS: the session token answer is malformed");
  }
  net::HttpHeader auth{"X-aws-ec2-metadata-token", std::string(text::trim(*token))};
  auto role = imds_call(client, "GET", base + "/latest/meta-data/iam/security-credentials/", auth);
  if (!role) return std::move(role).error();
  std::string role_name(text::trim(role->substr(0, role->find('\n'))));
  if (role_name.empty()) {
    return source_error(ErrorCode::unauthorized, "IMDS: the instance has no IAM role");
  }
  if (!is_role_name(role_name)) {
    return source_error(ErrorCode::upstream_transient, "IMDS: the role name answer is malformed");
  }
  auto body = imds_call(client, "GET", base + "/latest/meta-data/iam/security-credentials/" + role_name, auth);
  if (!body) return std::move(body).error();
  return parse_imds_credentials(*body);
}

CredentialsProvider::CredentialsProvider(Options options) : m_options(std::move(options)) {
  if (!m_options.env) m_options.env = system_env;
}

Clock::time_point CredentialsProvider::now() const {
  return m_options.clock ? m_options.clock->now() : m_system_clock.now();
}

bool CredentialsProvider::fresh(const Credentials& credentials, Clock::time_point now) const {
  return !credentials.expiration || now + m_options.refresh_window < *credentials.expiration;
}

namespace {

// How long readiness() waits for a fetch it finds running.
constexpr auto k_readiness_wait = std::chrono::milliseconds(250);

bool still_valid(const std::optional<Credentials>& credentials, Clock::time_point now) {
  return credentials && (!credentials->expiration || now < *credentials->expiration);
}

}  // namespace

Result<Credentials> CredentialsProvider::get() {
  std::unique_lock lock(m_mutex);
  const auto at = now();
  if (m_cached && fresh(*m_cached, at)) return *m_cached;
  if (still_valid(m_cached, at)) {
    // Inside the refresh window: fetch on a background thread, so no sender
    // (not even the one that noticed) waits; until then the cached ones serve.
    if (!m_refreshing && at >= m_next_attempt) start_background_refresh();
    return *m_cached;
  }
  if (m_refreshing) return wait_for_refresh(lock);
  return refresh(lock);
}

Status CredentialsProvider::readiness() {
  std::unique_lock lock(m_mutex);
  const auto at = now();
  const bool may_start = !m_refreshing && at >= m_next_attempt;
  if (still_valid(m_cached, at)) {
    if (!fresh(*m_cached, at) && may_start) start_background_refresh();
    return {};
  }
  if (may_start) start_background_refresh();
  if (m_refreshing) {
    // Keys in the configuration, the environment or a file come in
    // microseconds: a short wait spares the first probe a false "not ready".
    const auto generation = m_generation;
    m_refreshed.wait_for(lock, k_readiness_wait, [&] { return m_generation != generation; });
    if (still_valid(m_cached, now())) return {};
  }
  if (m_last_error) return *m_last_error;
  return make_error(ErrorCode::upstream_transient, "fetching AWS credentials");
}

// Called with the lock held and no refresh running.
void CredentialsProvider::start_background_refresh() {
  m_refreshing = true;
  // The last background thread has set m_refreshing to false, its final use
  // of the lock, so this join cannot wait for the lock held here.
  if (m_background.joinable()) m_background.join();
  m_background = std::jthread([this] {
    bool finishing = false;
    try {
      std::string provider;
      auto resolved = resolve_without_throwing(provider);
      std::unique_lock lock(m_mutex);
      finishing = true;
      (void)finish_refresh(std::move(resolved), provider);
    } catch (...) {
      // Only allocation can fail here. Once finish_refresh has begun it has
      // released the waiters, and a get() may be joining this thread under
      // the lock, so the lock is taken only when it had not begun.
      if (finishing) return;
      std::scoped_lock lock(m_mutex);
      m_refreshing = false;
      ++m_generation;
      m_refreshed.notify_all();
    }
  });
}

Result<Credentials> CredentialsProvider::wait_for_refresh(std::unique_lock<std::mutex>& lock) {
  const auto generation = m_generation;
  m_refreshed.wait(lock, [&] { return m_generation != generation; });
  if (m_last_error) return *m_last_error;
  if (m_cached) return *m_cached;
  // The fetched credentials were dropped (invalidate) before this caller woke.
  return m_refreshing ? wait_for_refresh(lock) : refresh(lock);
}

// Called with `lock` held and no refresh running; fetches without the lock.
Result<Credentials> CredentialsProvider::refresh(std::unique_lock<std::mutex>& lock) {
  m_refreshing = true;
  lock.unlock();
  std::string provider;
  auto resolved = resolve_without_throwing(provider);
  lock.lock();
  return finish_refresh(std::move(resolved), provider);
}

// Called with the lock held: stores the outcome and wakes the waiters.
Result<Credentials> CredentialsProvider::finish_refresh(Result<Credentials> resolved, const std::string& provider) {
  m_refreshing = false;
  ++m_generation;
  m_refreshed.notify_all();
  const auto at = now();
  if (resolved && resolved->expiration && *resolved->expiration <= at) {
    // SES would refuse them with ExpiredToken at the first send.
    auto expired_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        resolved->expiration->time_since_epoch()).count();
    resolved = make_error(ErrorCode::unauthorized,
                          resolved->source + ": the credentials it gave expired at " + format_rfc3339(expired_ms));
  }
  if (resolved) {
    m_cached = *resolved;
    m_last_error.reset();
    if (!fresh(*resolved, at)) m_next_attempt = at + m_options.retry_gap;
    return resolved;
  }
  m_last_error = resolved.error();
  if (is_cancelled(resolved.error())) return resolved;  // stopping: nothing to warn about
  if (still_valid(m_cached, at)) {
    m_next_attempt = at + m_options.retry_gap;
    auto left = m_cached->expiration ? *m_cached->expiration - at : Clock::time_point::duration::zero();
    std::int64_t left_s = std::chrono::duration_cast<std::chrono::seconds>(left).count();
    log::warn("AWS credentials refresh failed; using the current ones until they expire",
              {{"provider", provider}, {"reason", resolved.error().detail}, {"expires_in_s", left_s}});
    return *m_cached;
  }
  m_next_attempt = at + m_options.retry_gap;  // readiness() probes wait this long; get() does not
  log::warn_throttled(m_failure_log, "no usable AWS credentials",
                      {{"provider", provider}, {"reason", resolved.error().detail}});
  return resolved;
}

Result<Credentials> CredentialsProvider::resolve_without_throwing(std::string& provider) noexcept {
  // A throw here would leave m_refreshing set and every caller waiting forever.
  try {
    if (m_stop.stop_requested()) return cancelled_error();
    auto resolved = resolve(provider);
    // Whatever a source made of its cancelled fetch, callers see one answer.
    if (!resolved && m_stop.stop_requested()) return cancelled_error();
    return resolved;
  } catch (const std::exception& e) {
    return make_error(ErrorCode::internal, "credentials lookup failed: " + std::string(e.what()));
  } catch (...) {
    return make_error(ErrorCode::internal, "credentials lookup failed");
  }
}

void CredentialsProvider::stop() { m_stop.request_stop(); }

void CredentialsProvider::invalidate() {
  std::scoped_lock lock(m_mutex);
  if (m_cached) crypto::wipe(m_cached->secret_access_key);
  m_cached.reset();
  m_next_attempt = {};
}

std::optional<Clock::time_point> CredentialsProvider::cached_expiration() const {
  std::scoped_lock lock(m_mutex);
  if (!m_cached) return std::nullopt;
  return m_cached->expiration;
}

Result<Credentials> CredentialsProvider::resolve(std::string& provider) {
  provider = "config";
  const auto& config = m_options.explicit_config;
  if (!config.access_key_id.empty() || !config.secret_access_key.empty()) {
    if (config.access_key_id.empty() || config.secret_access_key.empty()) {
      return source_error(ErrorCode::invalid_input,
                          "config: ses.access_key_id and ses.secret_access_key must be set together");
    }
    return Credentials{config.access_key_id, config.secret_access_key, config.session_token, std::nullopt, "config"};
  }
  ProfileChainOptions profile_options;
  profile_options.env = m_options.env;
  profile_options.fallback_region = config.region;
  profile_options.imds_timeout = m_options.imds_timeout;
  profile_options.stop = m_stop.get_token();
  ContainerOptions container;
  container.stop = profile_options.stop;
  using Step = std::function<Result<std::optional<Credentials>>()>;
  const std::pair<const char*, Step> steps[] = {
      {"env", [&] { return credentials_from_env(m_options.env); }},
      {"web identity", [&] { return credentials_from_web_identity_env(profile_options); }},
      {"profile", [&] { return credentials_from_profile(profile_options); }},
      {"container", [&] { return credentials_from_container(m_options.env, container); }},
  };
  for (const auto& [name, step] : steps) {
    provider = name;
    auto found = step();
    if (!found) return std::move(found).error();
    if (*found) return std::move(**found);
  }
  provider = "none";
  if (env_true(m_options.env, "AWS_EC2_METADATA_DISABLED")) {
    return source_error(ErrorCode::unauthorized,
                        "no AWS credentials in config, environment or shared file, and IMDS is disabled");
  }
  provider = "imds";
  ImdsOptions imds;
  imds.endpoint = env_or(m_options.env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", imds.endpoint);
  imds.timeout = m_options.imds_timeout;
  imds.stop = profile_options.stop;
  auto from_imds = credentials_from_imds(imds);
  if (!from_imds) {
    Error error = std::move(from_imds).error();
    error.detail = "no AWS credentials in config, environment or shared file; " + error.detail;
    return error;
  }
  return from_imds;
}

}  // namespace mailer::aws
