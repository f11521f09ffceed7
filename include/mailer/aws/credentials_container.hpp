#pragma once
// Container credentials: the ECS task role and EKS Pod Identity, read from the
// local credentials endpoint the platform runs next to the container
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-container-credentials.html).
//
//   AWS_CONTAINER_CREDENTIALS_RELATIVE_URI  GET http://169.254.170.2<uri> (ECS); wins over FULL_URI
//   AWS_CONTAINER_CREDENTIALS_FULL_URI      GET <uri> (EKS Pod Identity, Greengrass, local tools)
//   AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE  Authorization header value, read at each fetch; wins over
//   AWS_CONTAINER_AUTHORIZATION_TOKEN       the same value given directly
//
// FULL_URI may use https with any host; http only with a loopback address
// (127.0.0.0/8, ::1, or "localhost" resolving only to loopback), the ECS
// address 169.254.170.2 or the EKS Pod Identity addresses 169.254.170.23 and
// fd00:ec2::23, as the AWS SDKs allow: the token and the credentials travel in
// clear over http. Error details name the variable and what is wrong, never
// the token, a key or a secret.

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/error.hpp"

namespace mailer::aws {

struct ContainerOptions {
  /// Where RELATIVE_URI is appended; no trailing '/'. Tests point it at loopback.
  std::string ecs_endpoint = "http://169.254.170.2";
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds total_timeout{2000};  // per attempt
  /// Attempts for an answer that may change (no answer, HTTP 429 or 5xx), as
  /// the SDKs retry; 4xx and malformed answers are not retried. >= 1.
  int attempts = 3;
  std::chrono::milliseconds retry_pause{100};  // before attempt 2; doubled each time
  std::stop_token stop;  // a stop request aborts a request in progress and the retries ("cancelled")
};

/// The URL to GET, from the two URI variables. nullopt when neither is set (or
/// both are empty). Errors: invalid_input naming the variable, e.g.
/// "AWS_CONTAINER_CREDENTIALS_FULL_URI: http to 10.0.0.1 is not allowed (only
/// https, or http to loopback, 169.254.170.2, 169.254.170.23 or fd00:ec2::23)",
/// "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: must start with '/'", or a URL
/// syntax problem (net::parse_url).
Result<std::optional<std::string>> container_credentials_url(const EnvGetter& env, const ContainerOptions& options);

/// Whether FULL_URI `url` may be fetched (the host rule above); `url` is already
/// a syntactically valid URL. Errors: invalid_input naming
/// AWS_CONTAINER_CREDENTIALS_FULL_URI and the refused scheme or host.
Status check_container_full_uri(std::string_view url);

/// The Authorization header value: the file's content when
/// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE is set (at most 16 KiB, trimmed), else
/// AWS_CONTAINER_AUTHORIZATION_TOKEN (trimmed); nullopt when neither is set.
/// Errors: invalid_input naming the variable: the file cannot be read, is
/// larger than 16 KiB or empty, or the token holds CR, LF or another control
/// character (it would add a header line).
Result<std::optional<std::string>> container_authorization(const EnvGetter& env);

/// The endpoint's JSON answer, read field by field (parse_json: at most 1 MB,
/// 64 levels): non-empty strings AccessKeyId and SecretAccessKey; Token a
/// string when present (absent: long-term keys); Expiration an ISO 8601 UTC
/// time when present (absent: does not expire). source is "container".
/// Errors name the field, never a value: invalid_input "container credentials
/// <Field>: missing|must be a string|empty", "... Expiration: not an ISO 8601
/// UTC time", "... is not valid JSON (at byte N)"; too_large. Never throws.
/// https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-iam-roles.html
Result<Credentials> parse_container_credentials(std::string_view body);

/// The whole step. nullopt when neither URI variable is set. Errors: as
/// container_credentials_url and container_authorization; upstream_transient
/// when the endpoint does not answer or answers 429/5xx after every attempt;
/// unauthorized when it answers another non-200 status (a wrong token or no
/// role); as parse_container_credentials for the body.
Result<std::optional<Credentials>> credentials_from_container(const EnvGetter& env,
                                                              const ContainerOptions& options = {});

}  // namespace mailer::aws
