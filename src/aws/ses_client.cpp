// SES v2 over restJson1: build JSON, sign, POST/GET, classify errors. The
// classification table is ses-v2.md §4; throttling is kept apart from
// transient failures because a throttled send must not use up an attempt.
#include "mailer/aws/ses_client.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "mailer/aws/sigv4.hpp"
#include "mailer/core/json.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/core/text.hpp"
#include "mailer/net/url.hpp"

namespace mailer::aws {

namespace {

constexpr const char* k_signing_name = "ses";  // not "email" nor "sesv2" (ses-v2.md §1)

std::string strip_slashes(std::string s) {
  while (!s.empty() && s.back() == '/') s.pop_back();
  return s;
}

// "ns#TooManyRequestsException:http://..." -> "TooManyRequestsException" (restJson1).
std::string bare_error_type(std::string type) {
  if (auto hash = type.rfind('#'); hash != std::string::npos) type.erase(0, hash + 1);
  if (auto colon = type.find(':'); colon != std::string::npos) type.erase(colon);
  return type;
}

// At most about 100 characters of a configured value in a message: the
// value is operator input of any length.
std::string shown(std::string_view value) {
  constexpr std::size_t k_max = 100;
  if (value.size() <= k_max) return std::string(value);
  return std::string(value.substr(0, k_max - 3)) + "...";
}

// The port as written in `url` (scheme://host:PORT/...), for a message about
// a port curl refused; std::nullopt when the authority has no ':' port.
std::optional<std::string> written_port(std::string_view url) {
  auto authority_start = url.find("://");
  if (authority_start == std::string_view::npos) return std::nullopt;
  authority_start += 3;
  auto authority = url.substr(authority_start, url.find('/', authority_start) - authority_start);
  auto host_end = authority.rfind(']');
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || (host_end != std::string_view::npos && colon < host_end)) return std::nullopt;
  return std::string(authority.substr(colon + 1));
}

std::string port_problem(std::string_view port) {
  if (!port.empty() && port.find_first_not_of("0123456789") == std::string_view::npos) {
    return fmt::format("port {} is out of range 1-65535", shown(port));
  }
  return fmt::format("port \"{}\" is not a number in 1-65535", shown(port));
}

// RFC 1035 §2.3.4: a name is at most 253 bytes as written, a label 63.
// Letters, digits, '-', '_' and '.' only: anything else (percent escapes,
// non-ASCII) would be signed in the Host header differently from how a
// resolver reads it. An IPv6 literal was already checked by curl.
std::optional<std::string> host_problem(std::string_view host) {
  if (host.empty()) return "has no host";
  if (host.front() == '[') return std::nullopt;
  if (host.size() > 253) return fmt::format("host is {} bytes long; at most 253 are allowed", host.size());
  for (unsigned char c : host) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') {
      return fmt::format("host {} contains a character not allowed in a host name", shown(host));
    }
  }
  std::size_t label_start = 0;
  while (label_start <= host.size()) {
    auto label_end = std::min(host.find('.', label_start), host.size());
    if (label_end - label_start > 63) {
      return fmt::format("host {} has a label longer than 63 bytes", shown(host));
    }
    if (label_end == label_start && label_end != host.size())
      return fmt::format("host {} has an empty label", shown(host));
    label_start = label_end + 1;
  }
  return std::nullopt;
}

nlohmann::json text_part(const std::string& data) { return {{"Data", data}, {"Charset", "UTF-8"}}; }

nlohmann::json name_values(const std::vector<std::pair<std::string, std::string>>& items) {
  auto out = nlohmann::json::array();
  for (const auto& [name, value] : items) out.push_back({{"Name", name}, {"Value", value}});
  return out;
}

ErrorCode classify(long status, const std::string& type, const std::string& message) {
  static const char* const k_throttled[] = {"TooManyRequestsException", "ThrottlingException", "Throttling",
                                            "SendingPausedException"};
  static const char* const k_transient[] = {"InternalFailure", "InternalServiceErrorException", "ServiceUnavailable",
                                            "RequestExpired",  "ExpiredTokenException",         "RequestTimeout"};
  for (const char* name : k_throttled) {
    if (type == name) return ErrorCode::upstream_throttled;
  }
  if (message.find("Daily message quota exceeded") != std::string::npos ||
      message.find("Maximum sending rate exceeded") != std::string::npos) {
    return ErrorCode::upstream_throttled;
  }
  for (const char* name : k_transient) {
    if (type == name) return ErrorCode::upstream_transient;
  }
  if (status == 429) return ErrorCode::upstream_throttled;
  if (status >= 500 || status == 408) return ErrorCode::upstream_transient;
  return ErrorCode::upstream_permanent;
}

// `error` with `prefix` before its detail and field ("SendQuota." + "MaxSendRate").
Error prefixed(const std::string& prefix, Error error) {
  error.detail = prefix + error.detail;
  for (auto& field : error.fields) field.field = prefix + field.field;
  return error;
}

// Numbers that parse but cannot be a quota. Taken as given they would set the
// send rate to its floor (0 or less) or leave the daily quota meaningless.
std::optional<std::string> quota_problem(const AccountQuota& quota) {
  auto shown = [](double value) { return fmt::format("{}", value); };
  if (!std::isfinite(quota.max_send_rate) || quota.max_send_rate <= 0)
    return "MaxSendRate: " + shown(quota.max_send_rate) + ": must be a positive number";
  // -1 is SES's "unlimited" (sandbox-free accounts with no daily cap).
  if (quota.max_24_hour_send != -1 && !(std::isfinite(quota.max_24_hour_send) && quota.max_24_hour_send >= 0))
    return "Max24HourSend: " + shown(quota.max_24_hour_send) + ": must be -1 (unlimited) or a number, 0 or more";
  if (!std::isfinite(quota.sent_last_24_hours) || quota.sent_last_24_hours < 0)
    return "SentLast24Hours: " + shown(quota.sent_last_24_hours) + ": must be a number, 0 or more";
  return std::nullopt;
}

}  // namespace

Result<AccountQuota> parse_account(std::string_view body) {
  auto json = parse_json(body, "answer");
  if (!json) return std::move(json).error();
  auto send_quota = json->find("SendQuota");
  if (send_quota == json->end() || !send_quota->is_object()) {
    return make_error(ErrorCode::invalid_input, "SendQuota: missing or not an object");
  }
  AccountQuota out;
  // Field by field: a member of the wrong type is an error, never a
  // json::type_error escaping the reaper thread.
  const std::pair<const char*, double*> numbers[] = {{"Max24HourSend", &out.max_24_hour_send},
                                                     {"MaxSendRate", &out.max_send_rate},
                                                     {"SentLast24Hours", &out.sent_last_24_hours}};
  for (const auto& [name, target] : numbers) {
    auto value = number_member(*send_quota, name);
    if (!value) return prefixed("SendQuota.", std::move(value).error());
    *target = *value;
  }
  if (auto why = quota_problem(out)) return make_error(ErrorCode::invalid_input, "SendQuota." + *why);
  const std::pair<const char*, bool*> switches[] = {{"SendingEnabled", &out.sending_enabled},
                                                    {"ProductionAccessEnabled", &out.production_access_enabled}};
  for (const auto& [name, target] : switches) {
    auto value = bool_member(*json, name);
    if (!value) return std::move(value).error();
    *target = *value;
  }
  return out;
}

Result<std::string> parse_send_email_answer(std::string_view body) {
  auto json = parse_json(body, "SendEmail answer");
  auto id = json ? string_member(*json, "MessageId") : Result<std::string>(std::move(json).error());
  if (!id || id->empty()) {
    // Accepted (2xx) but unreadable: retrying could send twice, so not transient.
    Error error =
        make_error(ErrorCode::upstream_permanent, "SendEmail: 2xx answer without a MessageId (" +
                                                      (id ? std::string("MessageId: empty") : id.error().detail) + ")");
    error.upstream_code = "MalformedResponse";
    return error;
  }
  return std::move(*id);
}

Result<SesEndpoint> parse_ses_endpoint(std::string_view text, std::string_view region) {
  std::string url = strip_slashes(std::string(text));
  if (url.empty()) url = "https://email." + std::string(region) + ".amazonaws.com";
  // Bare host: https, as the AWS SDKs read it.
  if (url.find("://") == std::string::npos) url = "https://" + url;
  auto refuse = [&](std::string_view why) {
    return make_error(ErrorCode::invalid_input, fmt::format("ses.endpoint {}: {}", shown(text), why));
  };
  if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c <= ' ' || c == 0x7f; })) {
    return refuse("must not contain whitespace or control characters");
  }
  // NOTE: curl reads "http:///v2" as host "v2" (it forgives a third slash);
  // an endpoint written that way has no host.
  if (url.compare(url.find("://") + 3, 1, "/") == 0) return refuse("has no host");
  auto parts = net::parse_url(url);
  if (!parts) {
    if (auto port = written_port(url); port && parts.error().detail.starts_with("port ")) {
      return refuse(port_problem(*port));
    }
    return refuse(parts.error().detail);
  }
  if (parts->scheme != "http" && parts->scheme != "https") return refuse("scheme must be http or https");
  if (!parts->user.empty() || url.find('@') != std::string::npos) return refuse("must not contain user info");
  if (!parts->query.empty() || url.find('?') != std::string::npos) return refuse("must not contain a query");
  if (!parts->fragment.empty() || url.find('#') != std::string::npos) return refuse("must not contain a fragment");
  if (auto why = host_problem(parts->host)) return refuse(*why);
  if (!parts->port.empty() && parts->port.find_first_not_of('0') == std::string::npos) {
    return refuse(port_problem(parts->port));
  }
  std::string host = parts->port.empty() ? parts->host : parts->host + ":" + parts->port;
  return SesEndpoint{parts->scheme + "://" + host, host, strip_slashes(parts->path)};
}

std::string resolve_ses_endpoint(const SesConfig& config, const EnvGetter& env) {
  if (!config.endpoint.empty()) return strip_slashes(config.endpoint);
  auto ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!(ignore && text::ascii_lower(*ignore) == "true")) {
    for (const char* name : {"AWS_ENDPOINT_URL_SESV2", "AWS_ENDPOINT_URL"}) {
      auto value = env(name);
      if (value && !value->empty()) return strip_slashes(*value);
    }
  }
  return "https://email." + config.region + ".amazonaws.com";
}

namespace {

// The bytes go base64 in RawContent (the JSON carries no binary), and SES is
// told to write them base64 into the MIME part too: binary files survive
// only that way, and its default, SEVEN_BIT, would break them.
nlohmann::json attachments_json(const std::vector<Attachment>& attachments) {
  auto list = nlohmann::json::array();
  for (const auto& a : attachments) {
    nlohmann::json item{{"FileName", a.filename},
                        {"ContentType", a.content_type},
                        {"ContentDisposition", a.disposition == Disposition::inlined ? "INLINE" : "ATTACHMENT"},
                        {"ContentTransferEncoding", "BASE64"},
                        {"RawContent", crypto::base64_encode(*a.content)}};
    if (!a.content_id.empty()) item["ContentId"] = a.content_id;
    list.push_back(std::move(item));
  }
  return list;
}

}  // namespace

std::string send_email_body(const SendRequest& request) {
  nlohmann::json body;
  body["Content"]["Simple"]["Subject"] = text_part(request.subject);
  auto& message_body = body["Content"]["Simple"]["Body"];
  message_body = nlohmann::json::object();
  if (!request.text.empty()) message_body["Text"] = text_part(request.text);
  if (!request.html.empty()) message_body["Html"] = text_part(request.html);
  if (!request.headers.empty()) body["Content"]["Simple"]["Headers"] = name_values(request.headers);
  if (!request.attachments.empty()) body["Content"]["Simple"]["Attachments"] = attachments_json(request.attachments);
  body["FromEmailAddress"] = request.from;
  body["Destination"]["ToAddresses"] = request.to;
  if (!request.cc.empty()) body["Destination"]["CcAddresses"] = request.cc;
  if (!request.bcc.empty()) body["Destination"]["BccAddresses"] = request.bcc;
  if (!request.reply_to.empty()) body["ReplyToAddresses"] = request.reply_to;
  if (!request.tags.empty()) body["EmailTags"] = name_values(request.tags);
  if (!request.configuration_set.empty()) body["ConfigurationSetName"] = request.configuration_set;
  if (!request.from_identity_arn.empty()) body["FromEmailAddressIdentityArn"] = request.from_identity_arn;
  if (!request.feedback_forwarding_address.empty()) {
    body["FeedbackForwardingEmailAddress"] = request.feedback_forwarding_address;
    if (!request.feedback_forwarding_identity_arn.empty())
      body["FeedbackForwardingEmailAddressIdentityArn"] = request.feedback_forwarding_identity_arn;
  }
  if (request.list_management) {
    auto& options = body["ListManagementOptions"];
    options["ContactListName"] = request.list_management->contact_list_name;
    if (!request.list_management->topic_name.empty()) options["TopicName"] = request.list_management->topic_name;
  }
  // Invalid UTF-8 is replaced rather than thrown: SES would refuse it anyway.
  return dump_json(body);
}

Error classify_ses_error(long status, const std::string& error_type_header, const std::string& body) {
  std::string type = error_type_header;
  std::string message;
  // An error body is optional (a proxy's HTML 502, nothing at all): the
  // status alone still classifies it.
  if (auto json = parse_json(body, "SES error answer")) {
    for (const char* key : {"__type", "code", "Code"}) {
      if (auto value = string_member(*json, key); type.empty() && value) type = std::move(*value);
    }
    for (const char* key : {"message", "Message"}) {
      if (auto value = string_member(*json, key); message.empty() && value) message = std::move(*value);
    }
  }
  type = bare_error_type(type);
  if (message.empty()) message = "SES answered HTTP " + std::to_string(status);
  Error error = make_error(classify(status, type, message), message);
  error.upstream_code = type.empty() ? "HTTP" + std::to_string(status) : type;
  return error;
}

SesClient::SesClient(SesClientOptions options, std::shared_ptr<CredentialsProvider> credentials)
    : m_options(std::move(options)), m_credentials(std::move(credentials)), m_http(m_options.http) {}

Result<net::HttpResponse> SesClient::call(const std::string& method, const std::string& path, const std::string& body) {
  auto credentials = m_credentials->get();
  if (!credentials) return std::move(credentials).error();
  // The endpoint may carry a path prefix (AWS_ENDPOINT_URL allows one); it is
  // part of the wire path and therefore of the signature.
  const SesEndpoint& endpoint = m_options.endpoint;
  std::string wire_path = endpoint.prefix + path;

  std::vector<Header> headers{{"Host", endpoint.host}};
  if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
  SigningScope scope{format_amz_date(std::chrono::system_clock::now()), m_options.region, k_signing_name};
  add_signature_headers(headers, method, wire_path, "", body, scope, credentials->access_key_id,
                        credentials->secret_access_key, credentials->session_token);
  std::string url = endpoint.origin + wire_path;
  auto response = m_http.perform({method, url, std::move(headers), body});
  if (!response) return response;
  if (response->status / 100 == 2) return response;
  Error error = classify_ses_error(response->status, response->header("x-amzn-ErrorType").value_or(""), response->body);
  if (error.upstream_code == "ExpiredTokenException") m_credentials->invalidate();
  return error;
}

Result<std::string> SesClient::send_email(const SendRequest& request) {
  auto response = call("POST", "/v2/email/outbound-emails", send_email_body(request));
  if (!response) return std::move(response).error();
  return parse_send_email_answer(response->body);
}

Result<AccountQuota> SesClient::get_account() {
  auto response = call("GET", "/v2/email/account", "");
  if (!response) return std::move(response).error();
  auto quota = parse_account(response->body);
  if (!quota) {
    // A wrong answer is SES's fault and may be fixed by the next one; the
    // caller keeps the values it had.
    Error error = make_error(ErrorCode::upstream_transient, "GetAccount: " + quota.error().detail);
    error.upstream_code = "MalformedResponse";
    return error;
  }
  return quota;
}

}  // namespace mailer::aws
