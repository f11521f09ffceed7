#pragma once
// AWS Security Token Service calls that turn a role into temporary
// credentials: AssumeRoleWithWebIdentity (unsigned, the web identity token
// proves who we are; EKS "IAM roles for service accounts") and AssumeRole
// (signed with SigV4, service "sts", by a source identity's credentials).
// Both use the Query API: POST form-encoded to "/" of the regional endpoint,
// Version=2011-06-15, XML answer.
//   https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
//   https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
//   https://docs.aws.amazon.com/STS/latest/APIReference/CommonErrors.html
// Error details of a call name STS, the action, the role ARN, the endpoint
// (scheme://host[:port][/prefix], never user info or a query) and, for an
// error answer, the HTTP status and STS's error code and message; never a key,
// secret, session token or web identity token.

#include <chrono>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/error.hpp"

namespace mailer::aws {

/// Bytes an STS answer may have; real ones are 1-3 KB.
inline constexpr std::size_t k_max_sts_answer_bytes = 64 * 1024;

/// The STS endpoint text, as resolve_ses_endpoint does for SES: AWS_ENDPOINT_URL_STS,
/// else AWS_ENDPOINT_URL (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true),
/// else `profile_endpoint` (a profile's endpoint_url, ignored likewise; may be
/// empty), else "https://sts.<region>.amazonaws.com". Trailing '/' removed.
/// https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html
std::string resolve_sts_endpoint(const EnvGetter& env, std::string_view region, std::string_view profile_endpoint);

/// Where and how long to call STS.
struct StsOptions {
  std::string endpoint;                      // from resolve_sts_endpoint, e.g. "https://sts.eu-west-1.amazonaws.com"
  std::string region;                        // signing region of AssumeRole, e.g. "eu-west-1"
  std::chrono::milliseconds timeout{10000};  // connect and total, per call
  std::stop_token stop;                      // a stop request aborts a call in progress ("cancelled")
};

/// AssumeRoleWithWebIdentity inputs. `session_name`: 2-64 of [A-Za-z0-9+=,.@_-].
struct WebIdentityRequest {
  std::string role_arn;
  std::string session_name;
  std::string token;  // the OIDC token as read from the token file
};

/// AssumeRole inputs. `duration_seconds`: 900-43200, nullopt lets STS choose (1 h).
struct AssumeRoleRequest {
  std::string role_arn;
  std::string session_name;
  std::string external_id;  // empty: not sent
  std::optional<int> duration_seconds;
};

/// True for a role session name STS accepts: 2-64 characters of [A-Za-z0-9+=,.@_-].
bool is_role_session_name(std::string_view name);

/// The x-www-form-urlencoded body of `fields` in the given order, each name and
/// value percent-encoded as SigV4's uri_encode (space -> %20). Example:
/// {{"Action","AssumeRole"},{"RoleSessionName","a b"}} -> "Action=AssumeRole&RoleSessionName=a%20b".
std::string sts_form_body(const std::vector<std::pair<std::string, std::string>>& fields);

/// The leaf elements of an XML document: "A/B/C" -> text (first occurrence),
/// read by expat with no DTD allowed. Limits: `body` at most
/// k_max_sts_answer_bytes, 16 levels. Errors: too_large "<what> is larger than
/// N bytes"; invalid_input "<what> is not well-formed XML (line L)", "<what>
/// nests deeper than 16 levels", "<what> has a DOCTYPE".
using XmlLeaves = std::map<std::string, std::string>;
Result<XmlLeaves> read_xml_leaves(std::string_view body, std::string_view what);

/// Credentials of a 2xx answer to `action` ("AssumeRole" or
/// "AssumeRoleWithWebIdentity"): <action>Response/<action>Result/Credentials/
/// {AccessKeyId, SecretAccessKey, SessionToken, Expiration (ISO 8601 UTC)}, all
/// required and non-empty. `source` is copied into the result. Errors
/// (upstream_transient, upstream_code "MalformedResponse"): "STS <action>:
/// answer <reason>", the reason naming the element, never its value.
Result<Credentials> parse_sts_credentials(std::string_view body, std::string_view action, std::string source);

/// An STS error answer (HTTP status, body ErrorResponse/Error/{Code,Message}) as
/// an Error with upstream_code = Code (or "HTTP<status>" when the body has none)
/// and detail "<label>: HTTP <status>[: <Code>][: <Message>]", where <label> is
/// `label`, or "STS <action>" when `label` is empty. Code and Message come from
/// the answer, so ASCII controls become spaces and they are cut to 64 and 200
/// characters. Example: "STS AssumeRole: HTTP 403: AccessDenied: not allowed".
/// upstream_transient for 5xx, Throttling, IDPCommunicationError,
/// ServiceUnavailable and InternalFailure; unauthorized for every other answer
/// (the role refused us: AccessDenied, InvalidIdentityToken, ExpiredTokenException...).
Error classify_sts_error(long status, std::string_view body, std::string_view action, std::string_view label = {});

/// Calls AssumeRoleWithWebIdentity (unsigned). Source "web-identity" unless
/// `source` says otherwise. Errors: as classify_sts_error and
/// parse_sts_credentials, led by "STS <action> of <role ARN> at <endpoint>"
/// instead of "STS <action>"; upstream_transient when no answer arrives (same
/// lead); invalid_input when the endpoint cannot be used ("STS endpoint <text>:
/// <reason>"). Example: "STS AssumeRole of arn:aws:iam::1:role/x at
/// http://127.0.0.1:8080: HTTP 404".
Result<Credentials> assume_role_with_web_identity(const StsOptions& options, const WebIdentityRequest& request,
                                                  std::string source = "web-identity");

/// Calls AssumeRole signed by `caller` (SigV4, service "sts", options.region).
/// Errors as assume_role_with_web_identity.
Result<Credentials> assume_role(const StsOptions& options, const AssumeRoleRequest& request, const Credentials& caller,
                                std::string source);

}  // namespace mailer::aws
