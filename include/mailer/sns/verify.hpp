#pragma once
// Authenticating Amazon SNS HTTP(S) messages (SPEC §6, shared/reference/sns.md §3-5).
//
// verify_message() runs the checks in the order AWS recommends, each of which
// can reject: decode the envelope and require the fields of its Type ->
// SignatureVersion "1" or "2" -> SigningCertURL policy (before any network
// request) -> certificate (fetched once per URL, cached) -> RSA signature over
// the string to sign -> TopicArn allowlist -> for SubscriptionConfirmation,
// SubscribeURL policy. OpenSSL stays inside src/sns/verify.cpp.
//
// Sources: https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html,
// https://docs.aws.amazon.com/sns/latest/dg/http-notification-json.html.

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"

namespace mailer::sns {

enum class MessageType { notification, subscription_confirmation, unsubscribe_confirmation };

/// A decoded SNS envelope: the JSON-decoded string values of the body.
struct Envelope {
  MessageType type = MessageType::notification;
  std::string type_name;  // "Notification" | "SubscriptionConfirmation" | "UnsubscribeConfirmation"
  std::string message_id;
  std::string topic_arn;
  std::string message;                 // the payload (SES JSON as a string for Notification)
  std::optional<std::string> subject;  // Notification only; absent or JSON null -> nullopt
  std::string timestamp;
  std::string signature_version;
  std::string signature;               // base64
  std::string signing_cert_url;
  std::string subscribe_url;           // confirmations only
  std::string token;                   // confirmations only
  std::string unsubscribe_url;         // Notification only; never fetched
};

/// The body as an Envelope. Errors: invalid_input naming the problem ("body is not
/// JSON", "body is not a JSON object", "field Type: unknown message type 'X'",
/// "field Signature: required string is missing").
Result<Envelope> parse_envelope(std::string_view body);

/// True when `body` is a JSON object that looks like a bare SES record (has
/// `notificationType` or `eventType` and no SNS `Type`): what SNS sends with raw
/// message delivery on (reference §7).
bool looks_like_raw_delivery(std::string_view body);

/// The exact bytes SNS signed: "Name\nvalue\n" for Message, MessageId, Subject (only
/// when present), Timestamp, TopicArn, Type (Notification), or Message, MessageId,
/// SubscribeURL, Timestamp, Token, TopicArn, Type (confirmations).
std::string string_to_sign(const Envelope& envelope);

/// Which URL a policy check is for: certificate URLs must also end in ".pem".
enum class UrlKind { signing_cert, subscribe };

/// The URL rule for SigningCertURL and SubscribeURL: scheme https (http too when
/// `allow_http`, tests only), no userinfo, no explicit port unless `allow_http`
/// (loopback test servers need one), host matching `host_pattern` entirely
/// (std::regex, ECMAScript), and for certificates a path ending in ".pem".
struct UrlPolicy {
  std::regex host_pattern;
  bool allow_http = false;
  /// Errors: invalid_input when sns.cert_host_pattern is not a valid regex.
  static Result<UrlPolicy> from_config(const SnsConfig& config);
};

/// Empty when `url` passes `policy`, else why not ("scheme must be https", "host
/// 'x' is not an SNS host", ...). Pure string checks; never touches the network.
std::string url_policy_violation(std::string_view url, const UrlPolicy& policy, UrlKind kind);

/// Fetches a URL with GET. The seam for tests (count fetches, refuse hosts) and
/// the way SubscribeURL is confirmed. Implementations must not follow redirects.
class UrlFetcher {
 public:
  struct Response {
    long status = 0;
    std::string body;
  };
  virtual ~UrlFetcher() = default;
  /// Errors: upstream_transient when no response arrived (connect, timeout, too large).
  virtual Result<Response> get(const std::string& url) = 0;
};

/// libcurl GET: no redirects, 5 s connect / 10 s total timeouts, bodies over
/// 64 KiB refused, TLS verified. Thread-safe (one easy handle per call).
std::shared_ptr<UrlFetcher> make_curl_fetcher();

/// An RSA public key from an X.509 certificate. Opaque: OpenSSL stays in verify.cpp.
class PublicKey;

/// Certificates by URL, fetched once and kept (at most `max_entries`; the oldest
/// goes first). Thread-safe; a fetch happens outside the lock, so two first
/// requests may both fetch and the second result is dropped.
class CertificateCache {
 public:
  explicit CertificateCache(std::shared_ptr<UrlFetcher> fetcher, std::size_t max_entries = 32);
  ~CertificateCache();
  /// The key of the certificate at `url` (which must already have passed the
  /// policy). Errors: upstream_transient (fetch failed or status not 200),
  /// invalid_input (not a PEM X.509 certificate with a public key).
  Result<std::shared_ptr<const PublicKey>> key_for(const std::string& url);
  UrlFetcher& fetcher() { return *m_fetcher; }

 private:
  std::shared_ptr<UrlFetcher> m_fetcher;
  std::size_t m_max_entries;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<const PublicKey>> m_keys;
  std::vector<std::string> m_order;  // insertion order for eviction
};

/// The key in `pem` (an X.509 certificate). Errors: invalid_input.
Result<std::shared_ptr<const PublicKey>> load_certificate_key(std::string_view pem);

/// True when base64 `signature` is a valid RSA PKCS#1 v1.5 signature by `key` over
/// `data` with SHA-1 (`signature_version` "1") or SHA-256 ("2"). False for any
/// other version, bad base64 or a mismatch.
bool verify_signature(const PublicKey& key, std::string_view signature_version,
                      std::string_view signature, std::string_view data);

/// Where a message was stopped; `ok` means accepted. Names as in
/// shared/testdata/sns/manifest.json ("signature-version", "cert-url", ...);
/// `certificate` is a fetch failure (ours, not the sender's).
enum class Stage { ok, parse, signature_version, cert_url, certificate, signature, topic_allowlist,
                   subscribe_url };
std::string_view to_string(Stage stage);

struct Verdict {
  Stage stage = Stage::ok;
  std::string reason;  // empty when ok; a sentence for the log otherwise
  Envelope envelope;   // filled as far as parsing got
  bool accepted() const { return stage == Stage::ok; }
};

/// Runs every check described at the top of this file against `body`, using
/// `config` (topic_arns, cert_host_pattern, allow_http) and `certificates`.
Verdict verify_message(std::string_view body, const SnsConfig& config, CertificateCache& certificates);

}  // namespace mailer::sns
