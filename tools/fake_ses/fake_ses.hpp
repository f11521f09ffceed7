#pragma once
// mailer-fake-ses: a local SES v2 endpoint for tests and benchmarks. It
// verifies SigV4 with the project's own signer, validates SendEmail, stores
// accepted messages (JSON + .eml) and injects faults. Like SES's mailbox
// simulator it turns each accepted message into feedback records, which it
// publishes as signed SNS envelopes to mailerd's webhook. docs/FAKE_SES.md
// lists its flags and routes.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace mailer::fake_ses {

/// Faults, settable by flags and at runtime (POST /_fake/faults).
struct Faults {
  double error_rate = 0;                   // share of requests answered 500 InternalFailure
  double throttle_rate = 0;                // share answered 429 TooManyRequestsException
  int latency_ms = 0;                      // added before every SES route answers
  double max_send_rate = 0;                // recipients/s over which SendEmail gets 429; 0 = no limit
  double burst_seconds = 1;                // the max_send_rate bucket holds max(1, rate x this) recipients
  std::set<std::string> reject_addresses;  // lower-cased; -> 400 MessageRejected
  std::string account_body;                // when set, GetAccount answers 200 with this text as is
};
nlohmann::json to_json(const Faults& faults);
/// Applies the keys present in `patch`; false (and `faults` untouched) when a
/// value has the wrong type or range, with the reason in `error`.
bool apply_patch(Faults& faults, const nlohmann::json& patch, std::string& error);

enum class SnsFlavour { notification, event };

/// Where and how feedback is published, settable by flags and at runtime
/// (POST /_fake/sns): mailerd's port is often known only after the fake runs.
struct SnsOptions {
  std::string endpoint;  // http://127.0.0.1:<port>/webhooks/ses; empty: nothing is published
  std::string topic_arn = "arn:aws:sns:us-east-1:123456789012:mailer-fake-ses-feedback";
  SnsFlavour flavour = SnsFlavour::event;  // event: configuration-set event publishing
  double open_rate = 0;                    // share of delivered recipients that open (event flavour)
  double click_rate = 0;                   // share that click (event flavour)
  std::uint64_t seed = 0;                  // picks who opens and clicks, per address
  int delay_ms = 100;                      // from the send to its notifications
  bool subscribe = true;                   // POST a SubscriptionConfirmation to a new endpoint first
};
nlohmann::json to_json(const SnsOptions& options);
/// Applies the keys present in `patch` (endpoint, topic_arn, flavour,
/// open_rate, click_rate, seed, delay_ms, subscribe); false (and `options`
/// untouched) on an unknown key or a bad value, with the reason in `error`.
bool apply_patch(SnsOptions& options, const nlohmann::json& patch, std::string& error);

struct Options {
  std::string listen = "127.0.0.1";
  int port = 0;
  std::string access_key_id = "AKIDEXAMPLE";
  std::string secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  std::string session_token;  // when set, requests must carry (and sign) this token
  std::string region;         // when set, the credential scope must name it
  std::filesystem::path out_dir = "fake-ses-out";
  bool store = true;
  int threads = 64;            // one per keep-alive connection: mailerd holds one per worker plus one
  int keep_alive_seconds = 2;  // idle keep-alive; also bounds how long SIGTERM waits
  double quota_max_send_rate = 14;
  double quota_max_24h_send = 50000;
  bool log_requests = false;
  Faults faults;
  SnsOptions sns;
  std::size_t sns_queue_limit = 100000;  // notifications waiting; more are dropped and counted
};

/// Writes one JSON line to stderr under a lock (the fake must not link core/log).
void log_line(const nlohmann::json& fields);

/// Content.Simple.Attachments bounds: how many, and their decoded bytes in all
/// (SES's 40 MB message limit counts the base64 text; this is below it).
inline constexpr std::size_t k_max_attachments = 50;
inline constexpr std::size_t k_max_attachment_bytes = 25u * 1024 * 1024;

/// RFC 5322 rendering of an accepted SendEmail body (readable, 8bit parts;
/// attachments as base64 parts of a multipart/mixed). With ListManagementOptions,
/// as SES does: List-Unsubscribe (a link to http://<host>/_fake/unsubscribe/...,
/// `host` being the request's Host) and List-Unsubscribe-Post headers, and that
/// link in place of {{amazonSESUnsubscribeUrl}} in the bodies.
std::string render_eml(const nlohmann::json& body, const std::string& message_id,
                       std::chrono::system_clock::time_point received, const std::string& host);
/// RFC 2047 B encoded-words for non-ASCII `text`; ASCII text is returned as is.
std::string encode_rfc2047(const std::string& text);

/// Every Destination address of a SendEmail body, To then Cc then Bcc, as given.
std::vector<std::string> all_recipients(const nlohmann::json& body);
/// "Name <addr>" -> "addr", lower-cased.
std::string bare_address(const std::string& address);
/// ISO 8601 UTC with milliseconds, as SES and SNS write times: "2025-03-14T12:38:05.338Z".
std::string iso_time(std::chrono::system_clock::time_point t);

/// One SES feedback record: what SNS carries as the envelope's Message.
struct FeedbackRecord {
  std::string type;       // "Send", "Delivery", "Bounce", "Complaint", "Open", "Click"
  nlohmann::json record;  // the SES JSON (notificationType or eventType flavour)
};
/// The records SES would publish for the accepted SendEmail `body` that got
/// `message_id` at `sent_at`: per recipient, mailbox simulator addresses
/// (local part success, bounce, complaint, ooto, suppressionlist, with an
/// optional +label, at simulator.amazonses.com) as SES's simulator answers
/// them and every other address as delivered; in the event flavour also one
/// Send for the message and the Opens and Clicks `options` ask for. Pure.
std::vector<FeedbackRecord> simulate_feedback(const nlohmann::json& body, const std::string& message_id,
                                              std::chrono::system_clock::time_point sent_at, const SnsOptions& options);

/// The fake's own SNS signing identity: an RSA-2048 key and a self-signed
/// X.509 certificate made in memory at construction (OpenSSL), TEST-ONLY.
class SnsSigner {
 public:
  /// Throws std::runtime_error when OpenSSL cannot make the key or certificate.
  SnsSigner();
  ~SnsSigner();
  SnsSigner(const SnsSigner&) = delete;
  SnsSigner& operator=(const SnsSigner&) = delete;
  const std::string& certificate_pem() const { return m_certificate_pem; }
  /// Base64 RSA PKCS#1 v1.5 SHA-256 signature of `data` (SNS SignatureVersion 2).
  /// Throws std::runtime_error when signing fails.
  std::string sign(std::string_view data) const;

 private:
  struct Key;
  std::unique_ptr<Key> m_key;
  std::string m_certificate_pem;
};

/// Delivers signed SNS envelopes from one background thread, as SNS's HTTP
/// delivery does: a bounded queue (full -> dropped and counted, so SendEmail
/// never waits), each POST with timeouts, retried with backoff on no answer,
/// 429 or 5xx. The key is made on first use, not at start-up.
class SnsPublisher {
 public:
  struct Stats {
    std::uint64_t published = 0;       // notifications answered 2xx
    std::uint64_t publish_failed = 0;  // given up: 4xx, or every attempt failed
    std::uint64_t dropped = 0;         // queue full, or still queued at shutdown
    std::uint64_t retried = 0;         // attempts after the first
    std::uint64_t pending = 0;         // queued or being delivered
    std::string subscription;          // "none" | "pending" | "confirmed"
  };

  explicit SnsPublisher(std::size_t queue_limit);
  ~SnsPublisher();
  SnsPublisher(const SnsPublisher&) = delete;
  SnsPublisher& operator=(const SnsPublisher&) = delete;

  /// Starts the delivery thread; `self_url` ("http://127.0.0.1:<port>") is
  /// where mailerd fetches the certificate and confirms the subscription.
  void start(std::string self_url);
  /// Stops the thread: an attempt under way ends within its timeout; what is
  /// still queued is counted as dropped.
  void stop();
  /// Queues `records` for `options.endpoint`, due `options.delay_ms` from now.
  void publish(std::vector<FeedbackRecord> records, const SnsOptions& options);
  /// Queues a SubscriptionConfirmation for `options.endpoint` (a new endpoint).
  void subscribe(const SnsOptions& options);
  /// True (and the subscription confirmed) when `token` is the one last sent.
  bool confirm(const std::string& token);
  Stats stats();
  /// The signing identity, made on the first call (thread-safe).
  const SnsSigner& signer();

 private:
  struct Item {
    bool confirmation = false;  // SubscriptionConfirmation, else Notification
    std::chrono::steady_clock::time_point due;
    std::string endpoint;
    std::string topic_arn;
    std::string type;     // the record's type, for the log
    std::string message;  // the SES record as JSON text (Notification)
  };
  void run(std::stop_token stop);
  void deliver(const Item& item, std::stop_token stop);
  httplib::Client& client_for(const std::string& origin);
  std::string envelope_of(const Item& item);
  bool enqueue(Item item);

  std::size_t m_queue_limit;
  std::string m_self_url;
  std::once_flag m_signer_once;
  std::unique_ptr<SnsSigner> m_signer;
  std::mutex m_mutex;
  std::condition_variable_any m_wake;
  std::deque<Item> m_queue;
  bool m_in_flight = false;
  std::string m_token;  // of the last SubscriptionConfirmation
  std::string m_subscription = "none";
  std::atomic<std::uint64_t> m_published{0}, m_failed{0}, m_dropped{0}, m_retried{0};
  std::unique_ptr<httplib::Client> m_client;  // the delivery thread's
  std::string m_client_origin;
  std::jthread m_thread;
};

/// What SendEmail accepted over time, in recipients: the most within any
/// sliding second, and the count of each whole second from the first accepted
/// send. Thread-safe; one short lock per accepted send.
class AcceptedRate {
 public:
  static constexpr std::size_t k_max_seconds = 3600;  // per-second counts kept (the last ones)

  void record(std::uint64_t recipients);
  /// The most recipients accepted within any 1-second window so far.
  std::uint64_t max_in_any_second() const;
  /// Recipients accepted in second 0, 1, ... after the first accepted send,
  /// up to the last second that accepted any; at most the last k_max_seconds.
  std::vector<std::uint64_t> per_second() const;

 private:
  struct Accept {
    std::chrono::steady_clock::time_point at;
    std::uint64_t recipients;
  };
  mutable std::mutex m_mutex;
  std::deque<Accept> m_window;  // accepts of the last second
  std::uint64_t m_window_sum = 0;
  std::uint64_t m_max_in_second = 0;
  std::optional<std::chrono::steady_clock::time_point> m_first;
  std::deque<std::uint64_t> m_seconds;  // m_seconds[i] is second m_seconds_dropped + i
  std::uint64_t m_seconds_dropped = 0;
};

class Service {
 public:
  explicit Service(Options options);
  /// Registers the routes on `server` (and its thread pool and limits).
  void install(httplib::Server& server);
  /// Starts publishing feedback once the port is known (after bind).
  void start_publishing(const std::string& listen, int port);
  /// Stops the publisher thread (SIGTERM).
  void stop_publishing();

 private:
  struct Outcome;
  void handle_send(const httplib::Request& req, httplib::Response& res);
  void handle_account(const httplib::Request& req, httplib::Response& res);
  void handle_not_implemented(const httplib::Request& req, httplib::Response& res);
  bool verify_signature(const httplib::Request& req, httplib::Response& res);
  bool inject_faults(httplib::Response& res);
  bool take_send_tokens(double recipients, double rate, double burst_seconds);
  void store_message(const std::string& id, const nlohmann::json& body, const std::string& host);
  void respond_error(httplib::Response& res, int status, const std::string& type, const std::string& message);
  Faults faults_snapshot();
  SnsOptions sns_snapshot();
  void install_sns_routes(httplib::Server& server);

  Options m_options;
  std::mutex m_faults_mutex;
  Faults m_faults;
  std::mutex m_bucket_mutex;
  double m_bucket_tokens = 1e300;  // starts full: min(rate, ...) caps it on first use
  std::chrono::steady_clock::time_point m_bucket_time = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> m_sequence{0};
  std::mutex m_sns_mutex;
  SnsOptions m_sns;
  SnsPublisher m_publisher;
  AcceptedRate m_accepted_rate;
  std::atomic<std::uint64_t> m_accepted{0}, m_rejected{0}, m_throttled{0}, m_errors{0}, m_total{0};
};

}  // namespace mailer::fake_ses
