// Container credentials (ECS task role, EKS Pod Identity). The rules on hosts
// and retries follow the AWS SDKs (Java v2 ContainerCredentialsProvider,
// botocore ContainerMetadataFetcher), so a setup that works with the AWS CLI
// works here, and one the SDKs refuse is refused too.
#include "mailer/aws/credentials_container.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <thread>

#include "mailer/aws/credentials_profile.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/net/address_guard.hpp"
#include "mailer/net/http_client.hpp"
#include "mailer/net/url.hpp"

namespace mailer::aws {
namespace {

constexpr const char* k_relative_uri = "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI";
constexpr const char* k_full_uri = "AWS_CONTAINER_CREDENTIALS_FULL_URI";
constexpr const char* k_token = "AWS_CONTAINER_AUTHORIZATION_TOKEN";
constexpr const char* k_token_file = "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE";
constexpr std::size_t k_max_token_bytes = 16 * 1024;
// A few KiB in practice; the cap only stops a hostile endpoint from filling memory.
constexpr std::size_t k_max_answer_bytes = 64 * 1024;

std::optional<std::string> non_empty(const EnvGetter& env, const char* name) {
  auto value = env(name);
  if (!value || text::trim(*value).empty()) return std::nullopt;
  return std::string(text::trim(*value));
}

Error variable_error(const char* name, const std::string& why) {
  return make_error(ErrorCode::invalid_input, std::string(name) + ": " + why);
}

bool has_control(std::string_view text) {
  return std::any_of(text.begin(), text.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

// The ECS and EKS Pod Identity agent addresses, which the SDKs allow over http.
bool is_agent_address(const std::string& address) {
  unsigned char bytes[16];
  if (inet_pton(AF_INET, address.c_str(), bytes) == 1) {
    return bytes[0] == 169 && bytes[1] == 254 && bytes[2] == 170 && (bytes[3] == 2 || bytes[3] == 23);
  }
  constexpr std::array<unsigned char, 16> k_eks_v6{0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x23};
  return inet_pton(AF_INET6, address.c_str(), bytes) == 1 && std::memcmp(bytes, k_eks_v6.data(), 16) == 0;
}

bool is_loopback_address(const std::string& address) {
  auto reason = net::refused_address_reason(address);
  return reason && reason->rfind("loopback", 0) == 0;
}

bool is_ip_literal(const std::string& host) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, host.c_str(), bytes) == 1 || inet_pton(AF_INET6, host.c_str(), bytes) == 1;
}

// "localhost" is the one name allowed: a name could resolve elsewhere by the
// time curl connects, and /etc/hosts is the only resolver the host controls.
bool http_host_allowed(std::string host) {
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  if (is_ip_literal(host)) return is_loopback_address(host) || is_agent_address(host);
  if (text::ascii_lower(host) != "localhost") return false;
  auto addresses = net::resolve_host(host);
  return addresses && !addresses->empty() && std::all_of(addresses->begin(), addresses->end(), is_loopback_address);
}

Result<std::string> read_token_file(const std::string& path) {
  auto content = read_bounded_file(path, k_max_token_bytes);
  if (!content) return variable_error(k_token_file, content.error().detail);
  if (!*content) return variable_error(k_token_file, "cannot read " + path);
  return std::move(**content);
}

bool worth_retrying(long status) { return status == 429 || status >= 500; }

Error fetch_error(ErrorCode code, const std::string& why) {
  return make_error(code, "container credentials: " + why);
}

// One GET, retried while the answer may change. Returns the 200 body.
Result<std::string> fetch(const std::string& url, const std::optional<std::string>& token,
                          const ContainerOptions& options) {
  net::HttpClientOptions http{options.connect_timeout, options.total_timeout, "mailerd"};
  http.max_response_bytes = k_max_answer_bytes;
  if (options.stop.stop_possible()) http.cancelled = [stop = options.stop] { return stop.stop_requested(); };
  net::HttpClient client(http);
  net::HttpRequest request{"GET", url, {{"Accept", "application/json"}}, ""};
  if (token) request.headers.emplace_back("Authorization", *token);
  Error last = fetch_error(ErrorCode::upstream_transient, "no attempt made");
  auto pause = options.retry_pause;
  for (int attempt = 1; attempt <= std::max(1, options.attempts); ++attempt) {
    if (options.stop.stop_requested()) return fetch_error(ErrorCode::upstream_transient, "cancelled");
    if (attempt > 1) {
      std::this_thread::sleep_for(pause);
      pause *= 2;
    }
    auto response = client.perform(request);
    if (!response) {
      last = fetch_error(ErrorCode::upstream_transient, response.error().detail);
      continue;
    }
    if (response->status == 200) {
      if (response->body_truncated) {
        return fetch_error(ErrorCode::too_large,
                           "the answer is larger than " + std::to_string(k_max_answer_bytes) + " bytes");
      }
      return std::move(response->body);
    }
    std::string why = "GET " + net::redact_url(url) + " answered HTTP " + std::to_string(response->status);
    if (!worth_retrying(response->status)) return fetch_error(ErrorCode::unauthorized, why);
    last = fetch_error(ErrorCode::upstream_transient, why);
  }
  return last;
}

}  // namespace

Status check_container_full_uri(std::string_view url) {
  auto parts = net::parse_url(url);
  if (!parts) return variable_error(k_full_uri, parts.error().detail);
  if (parts->scheme == "https") return {};
  if (parts->scheme == "http" && http_host_allowed(parts->host)) return {};
  std::string what = parts->scheme == "http" ? "http to " + parts->host : "scheme " + parts->scheme;
  return variable_error(k_full_uri, what +
                                        " is not allowed (only https, or http to loopback, 169.254.170.2, "
                                        "169.254.170.23 or fd00:ec2::23)");
}

Result<std::optional<std::string>> container_credentials_url(const EnvGetter& env, const ContainerOptions& options) {
  if (auto relative = non_empty(env, k_relative_uri)) {
    if (relative->front() != '/') return variable_error(k_relative_uri, "must start with '/'");
    if (has_control(*relative) || relative->find(' ') != std::string::npos) {
      return variable_error(k_relative_uri, "holds a space or a control character");
    }
    return std::optional<std::string>(options.ecs_endpoint + *relative);
  }
  auto full = non_empty(env, k_full_uri);
  if (!full) return std::optional<std::string>();
  if (auto allowed = check_container_full_uri(*full); !allowed) return std::move(allowed).error();
  return std::optional<std::string>(std::move(*full));
}

Result<std::optional<std::string>> container_authorization(const EnvGetter& env) {
  const char* variable = k_token;
  std::string token;
  if (auto path = non_empty(env, k_token_file)) {
    variable = k_token_file;
    auto content = read_token_file(*path);
    if (!content) return std::move(content).error();
    token = text::trim(*content);
    if (token.empty()) return variable_error(k_token_file, *path + " is empty");
  } else if (auto value = non_empty(env, k_token)) {
    token = std::move(*value);
  } else {
    return std::optional<std::string>();
  }
  if (has_control(token)) return variable_error(variable, "the token holds a control character (CR, LF, ...)");
  return std::optional<std::string>(std::move(token));
}

Result<Credentials> parse_container_credentials(std::string_view body) {
  const std::string what = "container credentials";
  auto json = parse_json(body, what);
  if (!json) return std::move(json).error();
  Credentials out;
  out.source = "container";
  // NOTE: details name fields only, never values: the answer holds the secret.
  const std::pair<const char*, std::string*> required[] = {{"AccessKeyId", &out.access_key_id},
                                                           {"SecretAccessKey", &out.secret_access_key}};
  for (const auto& [name, target] : required) {
    auto value = string_member(*json, name);
    if (value && value->empty()) value = make_error(ErrorCode::invalid_input, std::string(name) + ": empty");
    if (!value) return make_error(ErrorCode::invalid_input, what + " " + value.error().detail);
    *target = std::move(*value);
  }
  if (json->contains("Token")) {
    auto token = string_member(*json, "Token");
    if (!token) return make_error(ErrorCode::invalid_input, what + " " + token.error().detail);
    out.session_token = std::move(*token);
  }
  if (json->contains("Expiration")) {
    auto expiration = string_member(*json, "Expiration");
    Clock::time_point expires_at;
    if (!expiration || !parse_iso8601_utc(*expiration, expires_at)) {
      return make_error(ErrorCode::invalid_input, what + " Expiration: not an ISO 8601 UTC time");
    }
    out.expiration = expires_at;
  }
  return out;
}

Result<std::optional<Credentials>> credentials_from_container(const EnvGetter& env, const ContainerOptions& options) {
  auto url = container_credentials_url(env, options);
  if (!url) return std::move(url).error();
  if (!*url) return std::optional<Credentials>();
  // Re-read at every fetch: EKS rotates the token file under a running pod.
  auto token = container_authorization(env);
  if (!token) return std::move(token).error();
  auto body = fetch(**url, *token, options);
  if (!body) return std::move(body).error();
  auto credentials = parse_container_credentials(*body);
  if (!credentials) return std::move(credentials).error();
  return std::optional<Credentials>(std::move(*credentials));
}

}  // namespace mailer::aws
