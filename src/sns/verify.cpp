// SNS message authentication. How it works and why:
//
// A valid signature proves only that SNS sent a message, so three independent
// rules must all pass (shared/reference/sns.md §3-4): the certificate comes from
// an SNS host (checked on the URL string before any request, so a forged body
// can never make mailerd fetch from an arbitrary host), the signature over the
// canonical "Name\nvalue\n" string verifies with that certificate's key, and
// the topic is one of ours (any AWS account can create a topic and subscribe
// our URL). The webhook is public, so everything decidable from the request
// alone is decided before the one network step, the certificate fetch: a
// stranger's post costs a few string checks, not an outbound request.
// Certificates are cached by URL: SNS rotates them rarely and a fetch per
// message would make every webhook call depend on the network. Failures are
// cached briefly so a flood naming one URL does not become a flood of fetches.
#include "mailer/sns/verify.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::sns {

// ---- OpenSSL owners ----------------------------------------------------------

namespace {
struct BioFree {
  void operator()(BIO* b) const noexcept { BIO_free(b); }
};
struct X509Free {
  void operator()(X509* x) const noexcept { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const noexcept { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const noexcept { EVP_MD_CTX_free(c); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

struct CurlUrlFree {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
using CurlUrl = std::unique_ptr<CURLU, CurlUrlFree>;
struct CurlEasyFree {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
using CurlEasy = std::unique_ptr<CURL, CurlEasyFree>;
}  // namespace

class PublicKey {
 public:
  explicit PublicKey(Pkey key) : m_key(std::move(key)) {}
  EVP_PKEY* get() const { return m_key.get(); }

 private:
  Pkey m_key;
};

// ---- Envelope ------------------------------------------------------------------

namespace {

Result<std::string> required_string(const nlohmann::json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    return make_error(ErrorCode::invalid_input, fmt::format("field {}: required string is missing", name));
  }
  if (!it->is_string()) {
    return make_error(ErrorCode::invalid_input, fmt::format("field {}: must be a string", name));
  }
  return it->get<std::string>();
}

std::optional<MessageType> parse_type(const std::string& name) {
  if (name == "Notification") return MessageType::notification;
  if (name == "SubscriptionConfirmation") return MessageType::subscription_confirmation;
  if (name == "UnsubscribeConfirmation") return MessageType::unsubscribe_confirmation;
  return std::nullopt;
}

Result<nlohmann::json> parse_object(std::string_view body) {
  // The webhook is public: this runs before any signature check.
  auto json = parse_json(body, "body");
  if (!json) return json;
  if (!json->is_object()) return make_error(ErrorCode::invalid_input, "body is not a JSON object");
  return json;
}

// Copies the required string fields of `body` into `out`, stopping at the first missing one.
Status read_fields(const nlohmann::json& body, const std::vector<std::pair<const char*, std::string*>>& fields) {
  for (const auto& [name, target] : fields) {
    auto value = required_string(body, name);
    if (!value) return std::move(value).error();
    *target = std::move(*value);
  }
  return {};
}

}  // namespace

Result<Envelope> parse_envelope(std::string_view body) {
  auto json = parse_object(body);
  if (!json) return std::move(json).error();
  Envelope out;
  auto type_name = required_string(*json, "Type");
  if (!type_name) return std::move(type_name).error();
  auto type = parse_type(*type_name);
  if (!type)
    return make_error(ErrorCode::invalid_input,
                      fmt::format("field Type: unknown message type {}", text::quote_outside(*type_name)));
  out.type = *type;
  out.type_name = *type_name;
  std::vector<std::pair<const char*, std::string*>> fields{{"MessageId", &out.message_id},
                                                           {"TopicArn", &out.topic_arn},
                                                           {"Message", &out.message},
                                                           {"Timestamp", &out.timestamp},
                                                           {"SignatureVersion", &out.signature_version},
                                                           {"Signature", &out.signature},
                                                           {"SigningCertURL", &out.signing_cert_url}};
  if (out.type == MessageType::notification) {
    // NOTE: a JSON null Subject counts as absent, as AWS's PHP validator does.
    auto subject = json->value("Subject", nlohmann::json());
    if (subject.is_string()) out.subject = subject.get<std::string>();
    else if (!subject.is_null()) return make_error(ErrorCode::invalid_input, "field Subject: must be a string");
    auto unsubscribe = json->value("UnsubscribeURL", nlohmann::json());
    if (unsubscribe.is_string()) out.unsubscribe_url = unsubscribe.get<std::string>();
  } else {
    fields.push_back({"SubscribeURL", &out.subscribe_url});
    fields.push_back({"Token", &out.token});
  }
  if (auto read = read_fields(*json, fields); !read) return std::move(read).error();
  return out;
}

bool looks_like_raw_delivery(std::string_view body) {
  auto json = parse_object(body);
  if (!json) return false;
  return !json->contains("Type") && (json->contains("notificationType") || json->contains("eventType"));
}

std::string string_to_sign(const Envelope& e) {
  std::string out;
  auto add = [&out](std::string_view name, std::string_view value) {
    out.append(name).append("\n").append(value).append("\n");
  };
  add("Message", e.message);
  add("MessageId", e.message_id);
  if (e.type == MessageType::notification) {
    if (e.subject) add("Subject", *e.subject);
  } else {
    add("SubscribeURL", e.subscribe_url);
  }
  add("Timestamp", e.timestamp);
  if (e.type != MessageType::notification) add("Token", e.token);
  add("TopicArn", e.topic_arn);
  add("Type", e.type_name);
  return out;
}

// ---- URL policy ------------------------------------------------------------------

Result<UrlPolicy> UrlPolicy::from_config(const SnsConfig& config) {
  try {
    return UrlPolicy{std::regex(config.cert_host_pattern, std::regex::ECMAScript), config.allow_http};
  } catch (const std::regex_error& e) {
    return make_error(ErrorCode::invalid_input, fmt::format("sns.cert_host_pattern: {}", e.what()));
  }
}

Result<std::shared_ptr<const UrlPolicy>> UrlPolicy::shared_for(const SnsConfig& config) {
  struct Compiled {
    std::string pattern;
    bool allow_http = false;
    std::shared_ptr<const UrlPolicy> policy;
  };
  static std::mutex mutex;
  static Compiled last;
  std::scoped_lock lock(mutex);
  if (last.policy && last.pattern == config.cert_host_pattern && last.allow_http == config.allow_http) {
    return last.policy;
  }
  auto policy = from_config(config);
  if (!policy) return std::move(policy).error();
  last = {config.cert_host_pattern, config.allow_http, std::make_shared<const UrlPolicy>(std::move(*policy))};
  return last.policy;
}

namespace {

// One part of a parsed URL; empty when absent.
std::string url_part(CURLU* url, CURLUPart part) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, 0) != CURLUE_OK || value == nullptr) return {};
  std::string out(value);
  curl_free(value);
  return out;
}

}  // namespace

std::string url_policy_violation(std::string_view url, const UrlPolicy& policy, UrlKind kind) {
  if (url.empty()) return "URL is empty";
  if (url.size() > k_max_url_bytes) return fmt::format("URL is longer than {} bytes", k_max_url_bytes);
  CurlUrl parsed(curl_url());
  if (!parsed) return "URL parser unavailable";
  // Without CURLU_DEFAULT_SCHEME a URL lacking "scheme://" is refused.
  if (curl_url_set(parsed.get(), CURLUPART_URL, std::string(url).c_str(), 0) != CURLUE_OK) {
    return "URL is malformed";
  }
  auto scheme = url_part(parsed.get(), CURLUPART_SCHEME);
  if (scheme != "https" && !(policy.allow_http && scheme == "http")) return "scheme must be https";
  if (!url_part(parsed.get(), CURLUPART_USER).empty() || !url_part(parsed.get(), CURLUPART_PASSWORD).empty()) {
    return "URL must not carry user information";
  }
  // NOTE: an explicit port is allowed only in test mode, where the loopback
  // server listens on a random one.
  if (!policy.allow_http && !url_part(parsed.get(), CURLUPART_PORT).empty()) return "URL must not name a port";
  auto host = url_part(parsed.get(), CURLUPART_HOST);
  // Before the regex, which recurses once per character (see k_max_host_bytes).
  if (host.size() > k_max_host_bytes) return fmt::format("host is longer than {} bytes", k_max_host_bytes);
  if (!std::regex_match(host, policy.host_pattern))
    return fmt::format("host {} is not an SNS host", text::quote_outside(host));
  if (kind == UrlKind::signing_cert && !url_part(parsed.get(), CURLUPART_PATH).ends_with(".pem")) {
    return "certificate path must end in .pem";
  }
  return {};
}

// ---- Fetching ----------------------------------------------------------------------

namespace {

constexpr std::size_t k_max_fetch_bytes = 64 * 1024;

std::size_t append_capped(char* data, std::size_t size, std::size_t count, void* user) {
  auto* body = static_cast<std::string*>(user);
  std::size_t n = size * count;
  if (body->size() + n > k_max_fetch_bytes) return 0;  // curl aborts with CURLE_WRITE_ERROR
  body->append(data, n);
  return n;
}

class CurlFetcher final : public UrlFetcher {
 public:
  Result<Response> get(const std::string& url) override {
    CurlEasy handle(curl_easy_init());
    if (!handle) return make_error(ErrorCode::internal, "curl_easy_init failed");
    Response response;
    CURL* h = handle.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);  // a redirect could leave the SNS host
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "mailerd");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, append_capped);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &response.body);
    auto code = curl_easy_perform(h);
    if (code != CURLE_OK) {
      return make_error(ErrorCode::upstream_transient,
                        fmt::format("GET {}: {}", log_safe(url), curl_easy_strerror(code)));
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
    return response;
  }

 private:
  // scheme://host[:port]/path without the query (a SubscribeURL's token).
  static std::string log_safe(const std::string& url) { return url.substr(0, url.find('?')); }
};

}  // namespace

std::shared_ptr<UrlFetcher> make_curl_fetcher() { return std::make_shared<CurlFetcher>(); }

// ---- Certificates and signatures -------------------------------------------------

Result<std::shared_ptr<const PublicKey>> load_certificate_key(std::string_view pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return make_error(ErrorCode::internal, "BIO_new_mem_buf failed");
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return make_error(ErrorCode::invalid_input, "certificate is not a PEM X.509 certificate");
  Pkey key(X509_get_pubkey(cert.get()));
  if (!key) return make_error(ErrorCode::invalid_input, "certificate has no usable public key");
  return std::shared_ptr<const PublicKey>(std::make_shared<PublicKey>(std::move(key)));
}

bool verify_signature(const PublicKey& key, std::string_view signature_version, std::string_view signature,
                      std::string_view data) {
  const EVP_MD* md = signature_version == "1" ? EVP_sha1() : signature_version == "2" ? EVP_sha256() : nullptr;
  if (md == nullptr) return false;
  std::string raw;
  if (!crypto::base64_decode(signature, raw) || raw.empty()) return false;
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(raw.data()), raw.size(),
                          reinterpret_cast<const unsigned char*>(data.data()), data.size()) == 1;
}

namespace {
const SystemClock k_system_clock;
}  // namespace

CertificateCache::CertificateCache(std::shared_ptr<UrlFetcher> fetcher, std::size_t max_entries, const Clock* clock)
    : m_fetcher(std::move(fetcher)),
      m_max_entries(std::max<std::size_t>(1, max_entries)),
      m_clock(clock != nullptr ? clock : &k_system_clock) {}
CertificateCache::~CertificateCache() = default;

Result<std::shared_ptr<const PublicKey>> CertificateCache::key_for(const std::string& url) {
  {
    std::scoped_lock lock(m_mutex);
    if (auto it = m_keys.find(url); it != m_keys.end()) return it->second;
    if (auto it = m_failures.find(url); it != m_failures.end() && m_clock->now() < it->second.until) {
      return make_error(it->second.error.code, it->second.error.detail + " (cached failure)");
    }
  }
  auto key = fetch(url);
  if (!key) {
    remember_failure(url, key.error());
    return key;
  }
  std::scoped_lock lock(m_mutex);
  if (auto it = m_keys.find(url); it != m_keys.end()) return it->second;
  if (m_order.size() >= m_max_entries) {
    m_keys.erase(m_order.front());
    m_order.erase(m_order.begin());
  }
  m_keys.emplace(url, *key);
  m_order.push_back(url);
  return key;
}

Result<std::shared_ptr<const PublicKey>> CertificateCache::fetch(const std::string& url) {
  auto fetched = m_fetcher->get(url);
  if (!fetched) return std::move(fetched).error();
  if (fetched->status != 200) {
    return make_error(ErrorCode::upstream_transient,
                      fmt::format("certificate fetch answered HTTP {}", fetched->status));
  }
  return load_certificate_key(fetched->body);
}

void CertificateCache::remember_failure(const std::string& url, const Error& error) {
  std::scoped_lock lock(m_mutex);
  auto until = m_clock->now() + k_certificate_failure_ttl;
  if (auto it = m_failures.find(url); it != m_failures.end()) {
    it->second = {error, until};
    return;
  }
  while (m_failure_order.size() >= m_max_entries) {
    m_failures.erase(m_failure_order.front());
    m_failure_order.erase(m_failure_order.begin());
  }
  m_failures.emplace(url, Failure{error, until});
  m_failure_order.push_back(url);
}

// ---- The whole check ---------------------------------------------------------------

std::string_view to_string(Stage stage) {
  switch (stage) {
    case Stage::ok: return "ok";
    case Stage::parse: return "parse";
    case Stage::signature_version: return "signature-version";
    case Stage::cert_url: return "cert-url";
    case Stage::certificate: return "certificate";
    case Stage::signature: return "signature";
    case Stage::topic_allowlist: return "topic-allowlist";
    case Stage::subscribe_url: return "subscribe-url";
    case Stage::headers: return "headers";
  }
  return "unknown";
}

namespace {

Verdict reject(Verdict verdict, Stage stage, std::string reason) {
  verdict.stage = stage;
  verdict.reason = std::move(reason);
  return verdict;
}

bool topic_allowed(const SnsConfig& config, const std::string& topic) {
  return std::find(config.topic_arns.begin(), config.topic_arns.end(), topic) != config.topic_arns.end();
}

std::string header_mismatch(const DeliveryHeaders& headers, const Envelope& e) {
  if (!headers.message_type.empty() && headers.message_type != e.type_name) {
    return "x-amz-sns-message-type does not match the body's Type";
  }
  if (!headers.topic_arn.empty() && headers.topic_arn != e.topic_arn) {
    return "x-amz-sns-topic-arn does not match the body's TopicArn";
  }
  return {};
}

// Every check that needs no network; an empty verdict reason means all passed.
Verdict check_offline(Verdict verdict, const SnsConfig& config, const DeliveryHeaders& headers) {
  const Envelope& e = verdict.envelope;
  if (e.signature_version != "1" && e.signature_version != "2") {
    return reject(std::move(verdict), Stage::signature_version,
                  fmt::format("SignatureVersion {} is not 1 or 2", text::quote_outside(e.signature_version)));
  }
  if (!topic_allowed(config, e.topic_arn)) {
    return reject(std::move(verdict), Stage::topic_allowlist,
                  fmt::format("TopicArn {} is not in sns.topic_arns", text::quote_outside(e.topic_arn)));
  }
  auto policy = UrlPolicy::shared_for(config);
  if (!policy) return reject(std::move(verdict), Stage::cert_url, policy.error().detail);
  if (auto why = url_policy_violation(e.signing_cert_url, **policy, UrlKind::signing_cert); !why.empty()) {
    return reject(std::move(verdict), Stage::cert_url, "SigningCertURL: " + why);
  }
  if (e.type == MessageType::subscription_confirmation) {
    if (auto why = url_policy_violation(e.subscribe_url, **policy, UrlKind::subscribe); !why.empty()) {
      return reject(std::move(verdict), Stage::subscribe_url, "SubscribeURL: " + why);
    }
  }
  if (auto why = header_mismatch(headers, e); !why.empty()) {
    return reject(std::move(verdict), Stage::headers, why);
  }
  return verdict;
}

}  // namespace

Verdict verify_message(std::string_view body, const SnsConfig& config, CertificateCache& certificates,
                       const DeliveryHeaders& headers) {
  Verdict verdict;
  auto envelope = parse_envelope(body);
  if (!envelope) return reject(std::move(verdict), Stage::parse, envelope.error().detail);
  verdict.envelope = std::move(*envelope);
  verdict = check_offline(std::move(verdict), config, headers);
  if (!verdict.accepted()) return verdict;
  const Envelope& e = verdict.envelope;
  auto key = certificates.key_for(e.signing_cert_url);
  if (!key) return reject(std::move(verdict), Stage::certificate, "certificate: " + key.error().detail);
  if (!verify_signature(**key, e.signature_version, e.signature, string_to_sign(e))) {
    return reject(std::move(verdict), Stage::signature, "signature does not verify");
  }
  return verdict;
}

}  // namespace mailer::sns
