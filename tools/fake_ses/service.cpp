// The fake's request handling. Every SES route goes through the same gate:
// count, add latency, verify SigV4, inject error/throttle faults, then the
// operation itself. Routes under /_fake/ are the test control surface and are
// not signed.
#include "fake_ses.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <fstream>
#include <iostream>
#include <random>
#include <regex>
#include <thread>

#include "mailer/aws/sigv4.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/render/address.hpp"
#include "mailer/render/attachments.hpp"

namespace mailer::fake_ses {

namespace {

using nlohmann::json;

double random_unit() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

// SES-like: 0100 + ms timestamp, a random UUID-shaped middle, -000000.
std::string new_message_id(std::uint64_t sequence) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                .count();
  std::string r = crypto::hex(crypto::random_bytes(14));
  char head[32];
  std::snprintf(head, sizeof head, "0100%012llx", static_cast<unsigned long long>(ms));
  char tail[16];
  std::snprintf(tail, sizeof tail, "%06llx", static_cast<unsigned long long>(sequence & 0xFFFFFF));
  return std::string(head) + "-" + r.substr(0, 8) + "-" + r.substr(8, 4) + "-" + r.substr(12, 4) + "-" +
         r.substr(16, 12) + "-" + tail;
}

struct FieldProblem {
  std::string field;
  std::string reason;
};

bool is_string_array(const json& value) {
  return value.is_array() && std::all_of(value.begin(), value.end(), [](const json& v) { return v.is_string(); });
}

std::optional<FieldProblem> check_text(const json& parent, const char* key, const std::string& path) {
  if (!parent.contains(key)) return std::nullopt;
  const auto& part = parent[key];
  if (!part.is_object() || !part.contains("Data") || !part["Data"].is_string()) {
    return FieldProblem{path + "." + key + ".Data", "must be a string"};
  }
  if (part.contains("Charset") && !part["Charset"].is_string()) {
    return FieldProblem{path + "." + key + ".Charset", "must be a string"};
  }
  return std::nullopt;
}

// A length range and an allowed byte class: the SES model's simple patterns
// without std::regex (slower, and g++ 12 warns inside it under ASan).
struct Pattern {
  bool (*allowed)(unsigned char);
  size_t max_length;
  bool matches(const std::string& text) const {
    return !text.empty() && text.size() <= max_length &&
           std::all_of(text.begin(), text.end(), [this](char c) { return allowed(static_cast<unsigned char>(c)); });
  }
};

std::optional<FieldProblem> check_name_values(const json& list, const std::string& path, const Pattern& name_re,
                                              const Pattern& value_re, size_t max_items) {
  if (!list.is_array()) return FieldProblem{path, "must be an array"};
  if (list.size() > max_items) return FieldProblem{path, "at most " + std::to_string(max_items) + " entries"};
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    const auto& item = list[i];
    if (!item.is_object() || !item.contains("Name") || !item["Name"].is_string() || !item.contains("Value") ||
        !item["Value"].is_string()) {
      return FieldProblem{at, "needs string Name and Value"};
    }
    if (!name_re.matches(item["Name"].get<std::string>())) return FieldProblem{at + ".Name", "invalid"};
    if (!value_re.matches(item["Value"].get<std::string>())) return FieldProblem{at + ".Value", "invalid"};
  }
  return std::nullopt;
}

bool is_header_safe(const std::string& text) {
  return std::none_of(text.begin(), text.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

std::optional<FieldProblem> check_optional_string(const json& item, const char* key, const std::string& path) {
  if (!item.contains(key)) return std::nullopt;
  if (!item[key].is_string() || !is_header_safe(item[key].get<std::string>())) {
    return FieldProblem{path + "." + key, "must be a one-line string"};
  }
  return std::nullopt;
}

// The model's length bounds (FileName 255, ContentId 1-78, ContentDescription
// 1000), ContentTransferEncoding's values, and the file extensions SES
// refuses (https://docs.aws.amazon.com/ses/latest/dg/mime-types.html).
std::optional<FieldProblem> check_attachment_names(const json& item, const std::string& at) {
  const auto name = item["FileName"].get<std::string>();
  if (name.size() > 255) return FieldProblem{at + ".FileName", "at most 255 characters"};
  if (mailer::render::has_unsupported_extension(name)) {
    return FieldProblem{at + ".FileName", "attachment type is not supported: " + name};
  }
  if (item.contains("ContentId")) {
    const auto id = item["ContentId"].get<std::string>();
    if (id.empty() || id.size() > 78) return FieldProblem{at + ".ContentId", "must be 1 to 78 characters"};
  }
  if (item.contains("ContentDescription") && item["ContentDescription"].get<std::string>().size() > 1000) {
    return FieldProblem{at + ".ContentDescription", "at most 1000 characters"};
  }
  if (item.contains("ContentTransferEncoding")) {
    const auto& encoding = item["ContentTransferEncoding"];
    if (encoding != "BASE64" && encoding != "QUOTED_PRINTABLE" && encoding != "SEVEN_BIT") {
      return FieldProblem{at + ".ContentTransferEncoding", "must be BASE64, QUOTED_PRINTABLE or SEVEN_BIT"};
    }
  }
  return std::nullopt;
}

// Content.Simple.Attachments (SES v2 Attachment): RawContent (base64) and
// FileName required; at most k_max_attachments, k_max_attachment_bytes decoded in all.
std::optional<FieldProblem> check_attachments(const json& list) {
  const std::string path = "Content.Simple.Attachments";
  if (!list.is_array()) return FieldProblem{path, "must be an array"};
  if (list.size() > k_max_attachments) {
    return FieldProblem{path, "at most " + std::to_string(k_max_attachments) + " attachments"};
  }
  size_t total = 0;
  for (size_t i = 0; i < list.size(); ++i) {
    std::string at = path + "[" + std::to_string(i) + "]";
    const auto& item = list[i];
    if (!item.is_object()) return FieldProblem{at, "must be an object"};
    std::string decoded;
    if (!item.contains("RawContent") || !item["RawContent"].is_string() ||
        !crypto::base64_decode(item["RawContent"].get<std::string>(), decoded)) {
      return FieldProblem{at + ".RawContent", "must be base64"};
    }
    total += decoded.size();
    if (!item.contains("FileName") || !item["FileName"].is_string() || item["FileName"].get<std::string>().empty()) {
      return FieldProblem{at + ".FileName", "is required"};
    }
    for (const char* key : {"FileName", "ContentType", "ContentId", "ContentDescription"}) {
      if (auto p = check_optional_string(item, key, at)) return p;
    }
    if (auto p = check_attachment_names(item, at)) return p;
    if (item.contains("ContentDisposition") &&
        (!item["ContentDisposition"].is_string() ||
         (item["ContentDisposition"] != "ATTACHMENT" && item["ContentDisposition"] != "INLINE"))) {
      return FieldProblem{at + ".ContentDisposition", "must be ATTACHMENT or INLINE"};
    }
  }
  if (total > k_max_attachment_bytes) {
    return FieldProblem{path, "at most " + std::to_string(k_max_attachment_bytes) + " bytes in all"};
  }
  return std::nullopt;
}

// An SES identity ARN, as sending authorization needs one.
std::optional<FieldProblem> check_identity_arn(const json& body, const char* key) {
  static const std::regex k_arn(R"(^arn:aws(-[a-z]+)*:ses:[a-z0-9-]+:[0-9]{12}:identity/[!-~]+$)");
  if (!body.contains(key)) return std::nullopt;
  if (!body[key].is_string() || !std::regex_match(body[key].get<std::string>(), k_arn)) {
    return FieldProblem{key, "must be an SES identity ARN (arn:aws:ses:REGION:ACCOUNT:identity/IDENTITY)"};
  }
  return std::nullopt;
}

// FromEmailAddressIdentityArn, FeedbackForwardingEmailAddress[IdentityArn] and
// ListManagementOptions {ContactListName (required), TopicName}; names as
// AWS::SES::ContactList has them, ^[a-zA-Z0-9_-]{1,64}$.
std::optional<FieldProblem> check_send_options(const json& body) {
  static const Pattern k_list_name{[](unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '-'; }, 64};
  for (const char* key : {"FromEmailAddressIdentityArn", "FeedbackForwardingEmailAddressIdentityArn"}) {
    if (auto p = check_identity_arn(body, key)) return p;
  }
  if (body.contains("FeedbackForwardingEmailAddress") &&
      (!body["FeedbackForwardingEmailAddress"].is_string() ||
       !render::normalize_address(body["FeedbackForwardingEmailAddress"].get<std::string>()))) {
    return FieldProblem{"FeedbackForwardingEmailAddress", "must be an email address"};
  }
  if (!body.contains("ListManagementOptions")) return std::nullopt;
  const auto& list = body["ListManagementOptions"];
  if (!list.is_object()) return FieldProblem{"ListManagementOptions", "must be an object"};
  if (!list.contains("ContactListName")) return FieldProblem{"ListManagementOptions.ContactListName", "is required"};
  for (const char* key : {"ContactListName", "TopicName"}) {
    if (list.contains(key) && (!list[key].is_string() || !k_list_name.matches(list[key].get<std::string>()))) {
      return FieldProblem{std::string("ListManagementOptions.") + key, "must be 1-64 of A-Z a-z 0-9 _ -"};
    }
  }
  return std::nullopt;
}

// The model's constraints that SES enforces synchronously (ses-v2.md §2, §7).
std::optional<FieldProblem> validate_send(const json& body) {
  // Model patterns: name ^[!-9;-@A-~]+$ (1-126), value [ -~]* (1-870), tags [A-Za-z0-9_-] (1-256).
  static const Pattern k_header_name{[](unsigned char c) { return c >= '!' && c <= '~' && c != ':'; }, 126};
  static const Pattern k_header_value{[](unsigned char c) { return c >= ' ' && c <= '~'; }, 870};
  static const Pattern k_tag{[](unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '-'; }, 256};
  if (!body.is_object()) return FieldProblem{"body", "must be a JSON object"};
  if (!body.contains("FromEmailAddress") || !body["FromEmailAddress"].is_string() ||
      body["FromEmailAddress"].get<std::string>().empty()) {
    return FieldProblem{"FromEmailAddress", "is required"};
  }
  if (!body.contains("Destination") || !body["Destination"].is_object()) {
    return FieldProblem{"Destination", "is required"};
  }
  size_t recipients = 0;
  for (const char* key : {"ToAddresses", "CcAddresses", "BccAddresses"}) {
    if (!body["Destination"].contains(key)) continue;
    if (!is_string_array(body["Destination"][key])) {
      return FieldProblem{std::string("Destination.") + key, "must be an array of strings"};
    }
    recipients += body["Destination"][key].size();
  }
  if (recipients == 0) return FieldProblem{"Destination.ToAddresses", "needs at least one recipient"};
  if (recipients > 50) return FieldProblem{"Destination", "at most 50 recipients"};
  if (body.contains("ReplyToAddresses") && !is_string_array(body["ReplyToAddresses"])) {
    return FieldProblem{"ReplyToAddresses", "must be an array of strings"};
  }
  if (!body.contains("Content") || !body["Content"].is_object() || !body["Content"].contains("Simple") ||
      !body["Content"]["Simple"].is_object()) {
    return FieldProblem{"Content.Simple", "is required (this fake accepts Simple content only)"};
  }
  const auto& simple = body["Content"]["Simple"];
  if (!simple.contains("Subject")) return FieldProblem{"Content.Simple.Subject", "is required"};
  if (simple.contains("Attachments")) {
    if (auto p = check_attachments(simple["Attachments"])) return p;
  }
  if (auto p = check_text(simple, "Subject", "Content.Simple")) return p;
  if (!simple.contains("Body") || !simple["Body"].is_object() ||
      (!simple["Body"].contains("Text") && !simple["Body"].contains("Html"))) {
    return FieldProblem{"Content.Simple.Body", "needs Text or Html"};
  }
  for (const char* key : {"Text", "Html"}) {
    if (auto p = check_text(simple["Body"], key, "Content.Simple.Body")) return p;
  }
  if (simple.contains("Headers")) {
    if (auto p = check_name_values(simple["Headers"], "Content.Simple.Headers", k_header_name, k_header_value, 15)) {
      return p;
    }
  }
  if (body.contains("EmailTags")) {
    if (auto p = check_name_values(body["EmailTags"], "EmailTags", k_tag, k_tag, 50)) return p;
  }
  if (body.contains("ConfigurationSetName") && !body["ConfigurationSetName"].is_string()) {
    return FieldProblem{"ConfigurationSetName", "must be a string"};
  }
  return check_send_options(body);
}

// X-Amz-Date ("20150830T123600Z") within 15 minutes of now.
bool within_skew(const std::string& amz_date) {
  std::tm parts{};
  if (strptime(amz_date.c_str(), "%Y%m%dT%H%M%SZ", &parts) == nullptr) return false;
  auto signed_at = std::chrono::system_clock::from_time_t(timegm(&parts));
  auto skew = std::chrono::system_clock::now() - signed_at;
  return skew < std::chrono::minutes(15) && skew > -std::chrono::minutes(15);
}

}  // namespace

std::vector<std::string> all_recipients(const json& body) {
  std::vector<std::string> out;
  for (const char* key : {"ToAddresses", "CcAddresses", "BccAddresses"}) {
    if (body["Destination"].contains(key)) {
      for (const auto& a : body["Destination"][key]) out.push_back(a.get<std::string>());
    }
  }
  return out;
}

std::string bare_address(const std::string& address) {
  auto open = address.rfind('<');
  auto close = address.rfind('>');
  if (open != std::string::npos && close != std::string::npos && close > open) {
    return text::ascii_lower(address.substr(open + 1, close - open - 1));
  }
  return text::ascii_lower(address);
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char buffer[96];  // room for any int, which the compiler cannot rule out
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1,
                parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec, static_cast<int>(ms % 1000));
  return buffer;
}

void log_line(const json& fields) {
  static std::mutex mutex;
  std::string line = dump_json(fields) + "\n";
  std::scoped_lock lock(mutex);
  std::cerr << line << std::flush;
}

json to_json(const Faults& faults) {
  return {{"error_rate", faults.error_rate},       {"throttle_rate", faults.throttle_rate},
          {"latency_ms", faults.latency_ms},       {"max_send_rate", faults.max_send_rate},
          {"burst_seconds", faults.burst_seconds}, {"reject_addresses", faults.reject_addresses},
          {"account_body", faults.account_body}};
}

bool apply_patch(Faults& faults, const json& patch, std::string& error) {
  if (!patch.is_object()) {
    error = "body must be a JSON object";
    return false;
  }
  Faults next = faults;
  for (const auto& [key, value] : patch.items()) {
    bool ok = true;
    if (key == "error_rate" || key == "throttle_rate") {
      ok = value.is_number() && value.get<double>() >= 0 && value.get<double>() <= 1;
      if (ok) (key == "error_rate" ? next.error_rate : next.throttle_rate) = value.get<double>();
    } else if (key == "latency_ms") {
      ok = value.is_number_integer() && value.get<long long>() >= 0 && value.get<long long>() <= 600000;
      if (ok) next.latency_ms = value.get<int>();
    } else if (key == "max_send_rate") {
      ok = value.is_number() && value.get<double>() >= 0;
      if (ok) next.max_send_rate = value.get<double>();
    } else if (key == "burst_seconds") {
      ok = value.is_number() && value.get<double>() > 0 && value.get<double>() <= 1;
      if (ok) next.burst_seconds = value.get<double>();
    } else if (key == "reject_addresses") {
      ok = is_string_array(value);
      if (ok) {
        next.reject_addresses.clear();
        for (const auto& a : value) next.reject_addresses.insert(text::ascii_lower(a.get<std::string>()));
      }
    } else if (key == "account_body") {
      ok = value.is_string();
      if (ok) next.account_body = value.get<std::string>();
    } else {
      error = key + ": unknown fault";
      return false;
    }
    if (!ok) {
      error = key + ": invalid value";
      return false;
    }
  }
  faults = std::move(next);
  return true;
}

// The window holds the accepts of the last second, so its sum right after an
// accept is the count of the 1-second window ending then; every window's
// maximum is reached at one of its accepts, so this sees them all.
// The time is read under the lock, so accepts are recorded in time order.
void AcceptedRate::record(std::uint64_t recipients) {
  std::scoped_lock lock(m_mutex);
  const auto at = std::chrono::steady_clock::now();
  while (!m_window.empty() && at - m_window.front().at >= std::chrono::seconds(1)) {
    m_window_sum -= m_window.front().recipients;
    m_window.pop_front();
  }
  m_window.push_back({at, recipients});
  m_window_sum += recipients;
  m_max_in_second = std::max(m_max_in_second, m_window_sum);

  if (!m_first) m_first = at;
  auto second = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(at - *m_first).count());
  while (m_seconds_dropped + m_seconds.size() <= second) {
    m_seconds.push_back(0);
    if (m_seconds.size() > k_max_seconds) {
      m_seconds.pop_front();
      ++m_seconds_dropped;
    }
  }
  m_seconds[second - m_seconds_dropped] += recipients;
}

std::uint64_t AcceptedRate::max_in_any_second() const {
  std::scoped_lock lock(m_mutex);
  return m_max_in_second;
}

std::vector<std::uint64_t> AcceptedRate::per_second() const {
  std::scoped_lock lock(m_mutex);
  return {m_seconds.begin(), m_seconds.end()};
}

Service::Service(Options options)
    : m_options(std::move(options)),
      m_faults(m_options.faults),
      m_sns(m_options.sns),
      m_publisher(m_options.sns_queue_limit) {
  if (m_options.store) std::filesystem::create_directories(m_options.out_dir);
}

Faults Service::faults_snapshot() {
  std::scoped_lock lock(m_faults_mutex);
  return m_faults;
}

void Service::respond_error(httplib::Response& res, int status, const std::string& type, const std::string& message) {
  res.status = status;
  res.set_header("x-amzn-ErrorType", type);
  res.set_header("x-amzn-RequestId", crypto::hex(crypto::random_bytes(8)));
  res.set_content(json{{"message", message}}.dump(), "application/json");
  if (status == 429) ++m_throttled;
  else if (status >= 500) ++m_errors;
  else ++m_rejected;
}

bool Service::verify_signature(const httplib::Request& req, httplib::Response& res) {
  auto header = req.get_header_value("Authorization");
  if (header.empty()) {
    respond_error(res, 403, "MissingAuthenticationTokenException", "Missing Authentication Token");
    return false;
  }
  auto auth = aws::parse_authorization(header);
  if (!auth.ok) {
    respond_error(res, 400, "IncompleteSignatureException", "Authorization header is malformed");
    return false;
  }
  if (auth.access_key_id != m_options.access_key_id) {
    respond_error(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    return false;
  }
  auto amz_date = req.get_header_value("X-Amz-Date");
  if (amz_date.size() != 16 || amz_date.substr(0, 8) != auth.date || auth.service != "ses" ||
      (!m_options.region.empty() && auth.region != m_options.region)) {
    respond_error(res, 403, "SignatureDoesNotMatch", "Credential scope does not match the request");
    return false;
  }
  if (!within_skew(amz_date)) {
    // AWS refuses signatures more than 15 minutes off the server clock.
    respond_error(res, 400, "RequestExpired", "Signature expired: request time is too far from server time");
    return false;
  }
  if (!m_options.session_token.empty() && req.get_header_value("X-Amz-Security-Token") != m_options.session_token) {
    respond_error(res, 403, "UnrecognizedClientException", "The security token included in the request is invalid.");
    return false;
  }
  aws::SigningRequest signing;
  signing.method = req.method;
  auto q = req.target.find('?');
  signing.path = req.target.substr(0, q);
  signing.query = q == std::string::npos ? "" : req.target.substr(q + 1);
  for (const auto& name : auth.signed_headers) {
    size_t count = req.get_header_value_count(name);
    if (count == 0) {
      respond_error(res, 403, "SignatureDoesNotMatch", "Signed header " + name + " is missing");
      return false;
    }
    for (size_t i = 0; i < count; ++i) signing.headers.emplace_back(name, req.get_header_value(name, i));
  }
  signing.body = req.body;
  auto expected =
      aws::sign(signing, {amz_date, auth.region, auth.service}, m_options.access_key_id, m_options.secret_access_key);
  if (!crypto::constant_time_equal(expected.signature, auth.signature)) {
    respond_error(res, 403, "SignatureDoesNotMatch",
                  "The request signature we calculated does not match the signature you provided. "
                  "Check your AWS Secret Access Key and signing method.");
    return false;
  }
  return true;
}

bool Service::inject_faults(httplib::Response& res) {
  auto faults = faults_snapshot();
  if (faults.error_rate > 0 && random_unit() < faults.error_rate) {
    respond_error(res, 500, "InternalFailure", "Injected internal failure");
    return true;
  }
  if (faults.throttle_rate > 0 && random_unit() < faults.throttle_rate) {
    respond_error(res, 429, "TooManyRequestsException", "Too Many Requests");
    return true;
  }
  return false;
}

// A token bucket of `rate` recipients per second holding `burst_seconds` of
// them (at least one recipient, or a rate below 1/s would never send). A
// message to more recipients than the bucket holds goes out once it is full
// and leaves it in debt, as SES counts such a message over the next seconds
// rather than refusing it forever.
bool Service::take_send_tokens(double recipients, double rate, double burst_seconds) {
  std::scoped_lock lock(m_bucket_mutex);
  auto now = std::chrono::steady_clock::now();
  double elapsed = std::chrono::duration<double>(now - m_bucket_time).count();
  m_bucket_time = now;
  const double capacity = std::max(1.0, rate * burst_seconds);
  m_bucket_tokens = std::min(capacity, m_bucket_tokens + elapsed * rate);
  if (m_bucket_tokens < std::min(recipients, capacity)) return false;
  m_bucket_tokens -= recipients;
  return true;
}

void Service::store_message(const std::string& id, const json& body, const std::string& host) {
  auto received = std::chrono::system_clock::now();
  json record = {{"MessageId", id}, {"ReceivedAt", aws::format_amz_date(received)}, {"Request", body}};
  auto base = m_options.out_dir / id;
  std::ofstream(base.string() + ".json", std::ios::binary) << dump_json(record, 2) << "\n";
  std::ofstream(base.string() + ".eml", std::ios::binary) << render_eml(body, id, received, host);
}

void Service::handle_send(const httplib::Request& req, httplib::Response& res) {
  auto parsed = parse_json(req.body, "body", {.max_bytes = k_size_checked_elsewhere});
  if (!parsed) {
    respond_error(res, 400, "BadRequestException", "body: not valid JSON");
    return;
  }
  const json& body = *parsed;
  if (body.is_object() && body.contains("Content") && body["Content"].is_object() &&
      !body["Content"].contains("Simple")) {
    for (const char* kind : {"Raw", "Template"}) {
      if (body["Content"].contains(kind)) {
        respond_error(
            res, 400, "BadRequestException",
            std::string("Content.") + kind + ": not implemented by mailer-fake-ses; it accepts Simple content only");
        return;
      }
    }
  }
  if (auto problem = validate_send(body)) {
    respond_error(res, 400, "BadRequestException", problem->field + ": " + problem->reason);
    return;
  }
  auto recipients = all_recipients(body);
  auto faults = faults_snapshot();
  if (faults.max_send_rate > 0 &&
      !take_send_tokens(static_cast<double>(recipients.size()), faults.max_send_rate, faults.burst_seconds)) {
    respond_error(res, 429, "TooManyRequestsException", "Maximum sending rate exceeded.");
    return;
  }
  for (const auto& address : recipients) {
    if (faults.reject_addresses.count(bare_address(address)) != 0) {
      respond_error(res, 400, "MessageRejected",
                    "Email address is not verified. The following identities failed the check: " + address);
      return;
    }
  }
  // Timed before the file is written, as close to the rate check as can be.
  m_accepted_rate.record(recipients.size());
  auto id = new_message_id(++m_sequence);
  if (m_options.store) store_message(id, body, req.get_header_value("Host"));
  ++m_accepted;
  if (auto sns = sns_snapshot(); !sns.endpoint.empty()) {
    m_publisher.publish(simulate_feedback(body, id, std::chrono::system_clock::now(), sns), sns);
  }
  res.set_content(json{{"MessageId", id}}.dump(), "application/json");
}

void Service::handle_not_implemented(const httplib::Request& req, httplib::Response& res) {
  std::string operation = req.path == "/v2/email/outbound-bulk-emails" ? "SendBulkEmail" : req.method + " " + req.path;
  respond_error(res, 400, "BadRequestException",
                operation + " is not implemented by mailer-fake-ses (it serves SendEmail and GetAccount)");
}

void Service::handle_account(const httplib::Request&, httplib::Response& res) {
  if (auto raw = faults_snapshot().account_body; !raw.empty()) {
    res.set_content(raw, "application/json");
    return;
  }
  json body = {{"SendQuota",
                {{"Max24HourSend", m_options.quota_max_24h_send},
                 {"MaxSendRate", m_options.quota_max_send_rate},
                 {"SentLast24Hours", static_cast<double>(m_accepted.load())}}},
               {"SendingEnabled", true},
               {"ProductionAccessEnabled", true},
               {"EnforcementStatus", "HEALTHY"}};
  res.set_content(body.dump(), "application/json");
}

void Service::install(httplib::Server& server) {
  int threads = std::max(1, m_options.threads);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<size_t>(threads)); };
  server.set_keep_alive_max_count(100000);  // httplib's default of 5 would defeat keep-alive
  // NOTE: httplib's stop() waits for idle keep-alive connections to time out,
  // so this also bounds how long SIGTERM takes.
  server.set_keep_alive_timeout(m_options.keep_alive_seconds);
  // httplib writes headers and body separately; without TCP_NODELAY Nagle and
  // delayed ACKs add ~40 ms to every keep-alive request.
  server.set_tcp_nodelay(true);
  server.set_payload_max_length(64ull * 1024 * 1024);

  auto gate = [this](auto operation) {
    return [this, operation](const httplib::Request& req, httplib::Response& res) {
      const auto arrived = std::chrono::steady_clock::now();
      ++m_total;
      // The latency runs from arrival, so the signature check happens inside
      // it, as SES's own processing does: a 20 ms fake answers after 20 ms,
      // not 20 ms plus its own work (docs/PERFORMANCE.md).
      bool verified = verify_signature(req, res);
      auto latency = faults_snapshot().latency_ms;
      if (latency > 0) std::this_thread::sleep_until(arrived + std::chrono::milliseconds(latency));
      if (verified && !inject_faults(res)) (this->*operation)(req, res);
      // httplib sets 200 only after the handler returns; log the real status.
      if (res.status == -1) res.status = 200;
      if (m_options.log_requests) {
        log_line({{"msg", "request"},
                  {"method", req.method},
                  {"path", req.path},
                  {"status", res.status},
                  {"error", res.get_header_value("x-amzn-ErrorType")}});
      }
    };
  };
  server.Post("/v2/email/outbound-emails", gate(&Service::handle_send));
  server.Get("/v2/email/account", gate(&Service::handle_account));
  // Every other SES v2 operation (SendBulkEmail, templates, identities...):
  // a typed SES error a client reads as permanent, not a bare 404.
  server.Post("/v2/email/outbound-bulk-emails", gate(&Service::handle_not_implemented));
  server.Get("/v2/.*", gate(&Service::handle_not_implemented));
  server.Post("/v2/.*", gate(&Service::handle_not_implemented));
  server.Put("/v2/.*", gate(&Service::handle_not_implemented));
  server.Patch("/v2/.*", gate(&Service::handle_not_implemented));
  server.Delete("/v2/.*", gate(&Service::handle_not_implemented));

  server.Get("/_fake/stats", [this](const httplib::Request&, httplib::Response& res) {
    auto sns = m_publisher.stats();
    json stats = {{"accepted", m_accepted.load()},
                  {"rejected", m_rejected.load()},
                  {"throttled", m_throttled.load()},
                  {"errors", m_errors.load()},
                  {"total_requests", m_total.load()},
                  {"max_accepted_in_any_second", m_accepted_rate.max_in_any_second()},
                  {"accepted_per_second", m_accepted_rate.per_second()},
                  {"sns",
                   {{"published", sns.published},
                    {"publish_failed", sns.publish_failed},
                    {"dropped", sns.dropped},
                    {"retried", sns.retried},
                    {"pending", sns.pending},
                    {"subscription", sns.subscription}}}};
    res.set_content(stats.dump(), "application/json");
  });
  server.Get("/_fake/faults", [this](const httplib::Request&, httplib::Response& res) {
    res.set_content(to_json(faults_snapshot()).dump(), "application/json");
  });
  server.Post("/_fake/faults", [this](const httplib::Request& req, httplib::Response& res) {
    std::string error;
    auto patch = parse_json(req.body, "body");
    std::scoped_lock lock(m_faults_mutex);
    if (!patch || !apply_patch(m_faults, *patch, error)) {
      if (!patch) error = patch.error().detail;
      res.status = 400;
      res.set_content(json{{"message", error}}.dump(), "application/json");
      return;
    }
    res.set_content(to_json(m_faults).dump(), "application/json");
  });
  install_sns_routes(server);
  server.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    respond_error(res, 500, "InternalFailure", "fake-ses internal error");
  });
}

}  // namespace mailer::fake_ses
