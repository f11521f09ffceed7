#pragma once
// mailer-fake-ses: a local SES v2 endpoint for tests and benchmarks. It
// verifies SigV4 with the project's own signer, validates SendEmail, stores
// accepted messages (JSON + .eml) and injects faults. docs/FAKE_SES.md lists
// its flags and routes.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <set>
#include <string>

#include <httplib.h>
#include <nlohmann/json.hpp>

namespace mailer::fake_ses {

/// Faults, settable by flags and at runtime (POST /_fake/faults).
struct Faults {
  double error_rate = 0;                   // share of requests answered 500 InternalFailure
  double throttle_rate = 0;                // share answered 429 TooManyRequestsException
  int latency_ms = 0;                      // added before every SES route answers
  double max_send_rate = 0;                // recipients/s over which SendEmail gets 429; 0 = no limit
  std::set<std::string> reject_addresses;  // lower-cased; -> 400 MessageRejected
  std::string account_body;                // when set, GetAccount answers 200 with this text as is
};
nlohmann::json to_json(const Faults& faults);
/// Applies the keys present in `patch`; false (and `faults` untouched) when a
/// value has the wrong type or range, with the reason in `error`.
bool apply_patch(Faults& faults, const nlohmann::json& patch, std::string& error);

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
};

/// Writes one JSON line to stderr under a lock (the fake must not link core/log).
void log_line(const nlohmann::json& fields);

/// RFC 5322 rendering of an accepted SendEmail body (readable, 8bit parts).
std::string render_eml(const nlohmann::json& body, const std::string& message_id,
                       std::chrono::system_clock::time_point received);
/// RFC 2047 B encoded-words for non-ASCII `text`; ASCII text is returned as is.
std::string encode_rfc2047(const std::string& text);

class Service {
 public:
  explicit Service(Options options);
  /// Registers the routes on `server` (and its thread pool and limits).
  void install(httplib::Server& server);

 private:
  struct Outcome;
  void handle_send(const httplib::Request& req, httplib::Response& res);
  void handle_account(const httplib::Request& req, httplib::Response& res);
  bool verify_signature(const httplib::Request& req, httplib::Response& res);
  bool inject_faults(httplib::Response& res);
  bool take_send_tokens(double recipients, double rate);
  void store_message(const std::string& id, const nlohmann::json& body);
  void respond_error(httplib::Response& res, int status, const std::string& type, const std::string& message);
  Faults faults_snapshot();

  Options m_options;
  std::mutex m_faults_mutex;
  Faults m_faults;
  std::mutex m_bucket_mutex;
  double m_bucket_tokens = 1e300;  // starts full: min(rate, ...) caps it on first use
  std::chrono::steady_clock::time_point m_bucket_time = std::chrono::steady_clock::now();
  std::atomic<std::uint64_t> m_sequence{0};
  std::atomic<std::uint64_t> m_accepted{0}, m_rejected{0}, m_throttled{0}, m_errors{0}, m_total{0};
};

}  // namespace mailer::fake_ses
