#pragma once
// Amazon SES API v2 client: SendEmail (Simple content) and GetAccount, signed
// with SigV4 (signing name "ses"). Reference: shared/reference/ses-v2.md and
// https://docs.aws.amazon.com/ses/latest/APIReference-V2/Welcome.html
//
// Threading: a SesClient owns one HttpClient (one curl handle, kept alive) and
// is used by one worker thread at a time. Many clients share one
// CredentialsProvider, which is thread-safe.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mailer/aws/credentials.hpp"
#include "mailer/core/attachment.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/net/http_client.hpp"

namespace mailer::aws {

/// SendEmail's ListManagementOptions: SES adds its own List-Unsubscribe
/// headers and handles unsubscribes for this contact list (and topic), and
/// replaces {{amazonSESUnsubscribeUrl}} in the body with its unsubscribe link.
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_ListManagementOptions.html
struct ListManagement {
  std::string contact_list_name;  // ContactListName, required
  std::string topic_name;         // TopicName; empty = none
  friend bool operator==(const ListManagement&, const ListManagement&) = default;
};

/// One SendEmail call. Addresses are used as given (ASCII local parts, punycode
/// domains, RFC 2047 display names: the caller's job, see ses-v2.md §8).
struct SendRequest {
  std::string from;                                          // FromEmailAddress, may be "Name <addr>"
  std::vector<std::string> to;                               // Destination.ToAddresses (1..50 with cc, bcc)
  std::vector<std::string> reply_to;                         // ReplyToAddresses
  std::string subject;                                       // UTF-8; sent with Charset UTF-8
  std::string html;                                          // Body.Html when non-empty
  std::string text;                                          // Body.Text when non-empty
  std::vector<std::pair<std::string, std::string>> headers;  // Content.Simple.Headers, e.g. List-Unsubscribe
  std::vector<std::pair<std::string, std::string>> tags;     // EmailTags {Name, Value}
  std::string configuration_set;                             // ConfigurationSetName; empty = none
  std::vector<std::string> cc;                               // Destination.CcAddresses
  std::vector<std::string> bcc;                              // Destination.BccAddresses
  /// Content.Simple.Attachments, in order: FileName, ContentType,
  /// ContentDisposition ATTACHMENT|INLINE, ContentId (inline), RawContent
  /// (base64 of the bytes), ContentTransferEncoding BASE64. Checked at accept
  /// (render::message_attachments); sent as given.
  /// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Attachment.html
  std::vector<Attachment> attachments;
  /// The optional members below are sent only when set (non-empty), as
  /// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
  /// describes them:
  /// FromEmailAddressIdentityArn: sending authorization, the ARN of the
  /// identity (often another account's) that `from` is sent on behalf of.
  std::string from_identity_arn;
  /// FeedbackForwardingEmailAddress: where SES forwards bounce and complaint
  /// emails (not SNS notifications).
  std::string feedback_forwarding_address;
  /// FeedbackForwardingEmailAddressIdentityArn: sending authorization for
  /// feedback_forwarding_address; sent only together with it.
  std::string feedback_forwarding_identity_arn;
  /// ListManagementOptions {ContactListName, TopicName}.
  std::optional<ListManagement> list_management;
  /// What SES counts against the send rate and daily quota.
  int recipient_count() const { return static_cast<int>(to.size() + cc.size() + bcc.size()); }
};

/// GetAccount's SendQuota plus the sending switch. -1 in max_24_hour_send = unlimited.
struct AccountQuota {
  double max_24_hour_send = 0;
  double max_send_rate = 0;  // recipients per second
  double sent_last_24_hours = 0;
  bool sending_enabled = false;
  bool production_access_enabled = false;
};

/// Where SES requests go, parsed once (parse_ses_endpoint) and used as is by
/// every request of every client.
struct SesEndpoint {
  std::string origin;  // scheme://host[:port], e.g. "https://email.eu-west-1.amazonaws.com"
  std::string host;    // host[:port]: the Host header, which is signed
  std::string prefix;  // "" or "/path" before /v2/...: part of the signed path
  friend bool operator==(const SesEndpoint&, const SesEndpoint&) = default;
};

/// `text` (scheme://host[:port][/prefix]) as an SesEndpoint: trailing '/'
/// removed; empty means https://email.<region>.amazonaws.com; no scheme means
/// https, as the AWS SDKs read a bare host. Example: "http://127.0.0.1:4566/ses/"
/// -> {"http://127.0.0.1:4566", "127.0.0.1:4566", "/ses"}.
/// Parsed by libcurl's URL API (net::parse_url). Errors (invalid_input):
/// "ses.endpoint <text>: <reason>", <text> cut to 100 characters with "...",
/// reasons such as "scheme must be http or https", "has no host", "port 99999
/// is out of range 1-65535", "has a malformed IPv6 address", "host is N bytes
/// long; at most 253 are allowed", "host ... has a label longer than 63 bytes",
/// "must not contain user info" (likewise a query, a fragment, whitespace).
Result<SesEndpoint> parse_ses_endpoint(std::string_view text, std::string_view region);

struct SesClientOptions {
  std::string region = "us-east-1";
  SesEndpoint endpoint;  // from parse_ses_endpoint
  net::HttpClientOptions http{};
};

/// ses.endpoint if set, else AWS_ENDPOINT_URL_SESV2, else AWS_ENDPOINT_URL (both
/// ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true), else
/// "https://email.<region>.amazonaws.com". Trailing '/' removed. The text for
/// parse_ses_endpoint.
std::string resolve_ses_endpoint(const SesConfig& config, const EnvGetter& env);

/// The JSON body of SendEmail for `request` (exposed for tests and the fake).
std::string send_email_body(const SendRequest& request);

/// GetAccount's answer read field by field: SendQuota.{Max24HourSend, MaxSendRate,
/// SentLast24Hours} numbers, SendingEnabled and ProductionAccessEnabled booleans,
/// all required. The body goes through parse_json (at most 1 MB, 64 levels).
/// Errors: too_large, or invalid_input naming the field, e.g.
/// "SendQuota.MaxSendRate: must be a number"; never throws.
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_GetAccount.html
Result<AccountQuota> parse_account(std::string_view body);

/// The MessageId of a 2xx SendEmail answer: a non-empty string member of a JSON
/// object, read by parse_json (at most 1 MB, 64 levels). Errors: upstream_permanent
/// with upstream_code "MalformedResponse", detail "SendEmail: 2xx answer without a
/// MessageId (<reason>)": SES accepted the message, so resending could deliver it
/// twice. Never throws.
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
Result<std::string> parse_send_email_answer(std::string_view body);

/// Maps an SES error response to an Error (ses-v2.md §4):
///  upstream_throttled: 429, TooManyRequestsException, ThrottlingException,
///    "Daily message quota exceeded", SendingPausedException (wait, do not burn attempts)
///  upstream_transient: 5xx, InternalFailure, ServiceUnavailable, RequestExpired,
///    ExpiredTokenException (after refreshing credentials)
///  upstream_permanent: every other 4xx (MessageRejected, BadRequestException,
///    SignatureDoesNotMatch, AccessDenied, AccountSuspended, NotFound, ...)
/// `upstream_code` is the bare error type (namespace before '#' and suffix after
/// ':' removed); `detail` is SES's message.
Error classify_ses_error(long status, const std::string& error_type_header, const std::string& body);

class SesClient {
 public:
  /// `options.endpoint` comes from parse_ses_endpoint, so a client never holds
  /// an endpoint it cannot use.
  SesClient(SesClientOptions options, std::shared_ptr<CredentialsProvider> credentials);

  /// POST /v2/email/outbound-emails. Returns the SES MessageId. Errors as in
  /// classify_ses_error; network failures upstream_transient (the request may
  /// or may not have been accepted: SendEmail has no idempotency token);
  /// credential problems come from CredentialsProvider::get; a 2xx answer is
  /// read by parse_send_email_answer.
  Result<std::string> send_email(const SendRequest& request);

  /// GET /v2/email/account, read by parse_account. A malformed 2xx answer is
  /// upstream_transient with upstream_code "MalformedResponse" and the field in
  /// the detail ("GetAccount: SendQuota.MaxSendRate: must be a number"); the
  /// caller keeps its last good values.
  Result<AccountQuota> get_account();

 private:
  Result<net::HttpResponse> call(const std::string& method, const std::string& path, const std::string& body);

  SesClientOptions m_options;
  std::shared_ptr<CredentialsProvider> m_credentials;
  net::HttpClient m_http;
};

}  // namespace mailer::aws
