#pragma once
// Authenticating Amazon SNS HTTP(S) messages (SPEC §6, shared/reference/sns.md §3-5).
//
// verify_message() runs every check that needs no network first, so a forged
// or misdirected body never makes mailerd fetch anything: decode the envelope
// and require the fields of its Type -> SignatureVersion "1" or "2" ->
// TopicArn allowlist -> SigningCertURL policy -> for SubscriptionConfirmation,
// SubscribeURL policy -> x-amz-sns-* headers agree with the body -> only then
// the certificate (fetched once per URL and cached; a failed fetch is
// remembered briefly) -> RSA signature over the string to sign. AWS lists the
// signature first; the order differs only in which reason a message failing
// several checks gets. OpenSSL stays inside src/sns/verify.cpp.
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

#include "mailer/core/clock.hpp"
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
  std::string signature;  // base64
  std::string signing_cert_url;
  std::string subscribe_url;    // confirmations only
  std::string token;            // confirmations only
  std::string unsubscribe_url;  // Notification only; never fetched
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

/// The longest SigningCertURL or SubscribeURL looked at; longer is refused
/// unparsed. Real ones are under 400 bytes (a SubscribeURL carries a 256-hex token).
inline constexpr std::size_t k_max_url_bytes = 2048;
/// The longest host name matched against the pattern: a DNS name has at most
/// 253 characters (RFC 1035 §2.3.4). libstdc++'s std::regex recurses per input
/// character, so a long host would overflow the stack.
inline constexpr std::size_t k_max_host_bytes = 253;

/// The URL rule for SigningCertURL and SubscribeURL: at most k_max_url_bytes,
/// scheme https (http too when `allow_http`, tests only), no userinfo, no
/// explicit port unless `allow_http` (loopback test servers need one), a host of
/// at most k_max_host_bytes matching `host_pattern` entirely (std::regex,
/// ECMAScript), and for certificates a path ending in ".pem". The path is not
/// held to AWS's current "/SimpleNotificationService-<hex>.pem" naming: AWS does
/// not promise it, a rename would refuse all feedback, and a hex part still lets
/// a sender pick endless URLs, which the bounded CertificateCache handles anyway.
struct UrlPolicy {
  std::regex host_pattern;
  bool allow_http = false;
  /// Errors: invalid_input when sns.cert_host_pattern is not a valid regex.
  static Result<UrlPolicy> from_config(const SnsConfig& config);
  /// The policy for `config`, compiled on first use and shared afterwards
  /// (compiling a std::regex costs far more than matching it). Keeps the last
  /// pattern only: a running mailerd has one. Thread-safe. Errors: as from_config.
  static Result<std::shared_ptr<const UrlPolicy>> shared_for(const SnsConfig& config);
};

/// Empty when `url` passes `policy`, else why not ("scheme must be https", "host
/// 'x' is not an SNS host", "URL is longer than 2048 bytes", ...). Pure string
/// checks; never touches the network.
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

/// How long a failed certificate fetch is answered from memory. Shorter than the
/// 20 s between the retries of SNS's default HTTPS delivery policy, so a network
/// blip costs no retry, yet a flood of posts naming one URL fetches it at most
/// once per period. https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html
inline constexpr std::chrono::seconds k_certificate_failure_ttl{15};

/// Certificates by URL, fetched once and kept, and fetch failures, kept for
/// k_certificate_failure_ttl. Each holds at most `max_entries` URLs (the oldest
/// goes first), so posts naming ever new URLs cannot grow memory. Thread-safe;
/// a fetch happens outside the lock, so two first requests may both fetch and
/// the second result is dropped.
class CertificateCache {
 public:
  /// `clock` (null: the system clock) must outlive the cache.
  explicit CertificateCache(std::shared_ptr<UrlFetcher> fetcher, std::size_t max_entries = 32,
                            const Clock* clock = nullptr);
  ~CertificateCache();
  /// The key of the certificate at `url` (which must already have passed the
  /// policy). Errors: upstream_transient (fetch failed or status not 200, now or
  /// within the last k_certificate_failure_ttl: "... (cached failure)"),
  /// invalid_input (not a PEM X.509 certificate with a public key; also cached).
  Result<std::shared_ptr<const PublicKey>> key_for(const std::string& url);
  UrlFetcher& fetcher() { return *m_fetcher; }

 private:
  struct Failure {
    Error error;
    Clock::time_point until;
  };
  Result<std::shared_ptr<const PublicKey>> fetch(const std::string& url);
  void remember_failure(const std::string& url, const Error& error);

  std::shared_ptr<UrlFetcher> m_fetcher;
  std::size_t m_max_entries;
  const Clock* m_clock;
  std::mutex m_mutex;
  std::map<std::string, std::shared_ptr<const PublicKey>> m_keys;
  std::vector<std::string> m_order;  // insertion order for eviction
  std::map<std::string, Failure> m_failures;
  std::vector<std::string> m_failure_order;
};

/// The key in `pem` (an X.509 certificate). Errors: invalid_input.
Result<std::shared_ptr<const PublicKey>> load_certificate_key(std::string_view pem);

/// True when base64 `signature` is a valid RSA PKCS#1 v1.5 signature by `key` over
/// `data` with SHA-1 (`signature_version` "1") or SHA-256 ("2"). False for any
/// other version, bad base64 or a mismatch.
bool verify_signature(const PublicKey& key, std::string_view signature_version, std::string_view signature,
                      std::string_view data);

/// Where a message was stopped; `ok` means accepted. Names as in
/// shared/testdata/sns/manifest.json ("signature-version", "cert-url", ...);
/// `certificate` is a fetch failure (ours, not the sender's); `headers` an
/// x-amz-sns-* header contradicting the body.
enum class Stage {
  ok,
  parse,
  signature_version,
  cert_url,
  certificate,
  signature,
  topic_allowlist,
  subscribe_url,
  headers
};
std::string_view to_string(Stage stage);

struct Verdict {
  Stage stage = Stage::ok;
  std::string reason;  // empty when ok; a sentence for the log otherwise
  Envelope envelope;   // filled as far as parsing got
  bool accepted() const { return stage == Stage::ok; }
};

/// The unsigned x-amz-sns-* request headers SNS sends next to the body; empty
/// means absent. The body is the authority: a header may only agree with it.
struct DeliveryHeaders {
  std::string message_type;  // x-amz-sns-message-type
  std::string topic_arn;     // x-amz-sns-topic-arn
};

/// Runs every check described at the top of this file against `body` and
/// `headers`, using `config` (topic_arns, cert_host_pattern, allow_http) and
/// `certificates`. Fetches a certificate only when every other check but the
/// signature passed.
Verdict verify_message(std::string_view body, const SnsConfig& config, CertificateCache& certificates,
                       const DeliveryHeaders& headers = {});

}  // namespace mailer::sns
