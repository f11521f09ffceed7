// STS AssumeRole and AssumeRoleWithWebIdentity over the Query API. The answer
// is XML, read by expat into a flat map of leaf paths: STS answers are small
// and flat, so a map of "A/B/C" -> text is all the structure we need, and no
// tree is ever built from outside bytes.
#include "mailer/aws/credentials_sts.hpp"

#include <expat.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "mailer/aws/ses_client.hpp"
#include "mailer/aws/sigv4.hpp"
#include "mailer/core/text.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/net/http_client.hpp"

namespace mailer::aws {

namespace {

constexpr int k_max_xml_depth = 16;
constexpr std::size_t k_max_element_text = 16 * 1024;
constexpr std::string_view k_sts_version = "2011-06-15";

struct XmlParserFree {
  void operator()(XML_Parser parser) const noexcept { XML_ParserFree(parser); }
};
using XmlParserOwner = std::unique_ptr<std::remove_pointer_t<XML_Parser>, XmlParserFree>;

struct XmlState {
  XML_Parser parser = nullptr;
  std::vector<std::string> path;
  std::string text;
  XmlLeaves leaves;
  std::string problem;  // set when a handler stopped the parser
};

void stop(XmlState& state, std::string problem) {
  if (state.problem.empty()) state.problem = std::move(problem);
  XML_StopParser(state.parser, XML_FALSE);
}

std::string joined(const std::vector<std::string>& path) { return text::join(path, "/"); }

void XMLCALL on_start(void* data, const XML_Char* name, const XML_Char** /*attributes*/) {
  auto& state = *static_cast<XmlState*>(data);
  if (state.path.size() >= static_cast<std::size_t>(k_max_xml_depth)) {
    return stop(state, "nests deeper than " + std::to_string(k_max_xml_depth) + " levels");
  }
  state.path.emplace_back(name);
  state.text.clear();
}

void XMLCALL on_end(void* data, const XML_Char* /*name*/) {
  auto& state = *static_cast<XmlState*>(data);
  state.leaves.emplace(joined(state.path), std::move(state.text));
  state.text.clear();
  state.path.pop_back();
}

void XMLCALL on_text(void* data, const XML_Char* text, int length) {
  auto& state = *static_cast<XmlState*>(data);
  if (state.text.size() + static_cast<std::size_t>(length) > k_max_element_text) {
    return stop(state, "has an element longer than " + std::to_string(k_max_element_text) + " bytes");
  }
  state.text.append(text, static_cast<std::size_t>(length));
}

// NOTE: no STS answer has a DTD; refusing one rules out entity expansion
// ("billion laughs") and external entities whatever expat's defaults are.
void XMLCALL on_doctype(void* data, const XML_Char*, const XML_Char*, const XML_Char*, int) {
  stop(*static_cast<XmlState*>(data), "has a DOCTYPE");
}

Error malformed(std::string_view action, const std::string& reason) {
  Error error = make_error(ErrorCode::upstream_transient, "STS " + std::string(action) + ": answer " + reason);
  error.upstream_code = "MalformedResponse";
  return error;
}

// Text from an STS answer (or a config value) for a one-line error detail:
// ASCII controls (C0, DEL) become spaces, runs of spaces collapse to one, and
// the result is trimmed and cut to `max_chars` characters. The body is
// whatever the endpoint sent, so a line break must not start a fake log line.
std::string one_line(std::string_view value, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(value.size(), max_chars * 4));
  for (char c : value) {
    auto byte = static_cast<unsigned char>(c);
    char kept = byte < 0x20 || byte == 0x7f ? ' ' : c;
    if (kept == ' ' && (out.empty() || out.back() == ' ')) continue;
    out += kept;
    if (out.size() > max_chars * 4 + 8) break;  // enough for shorten to cut
  }
  return text::shorten(text::trim(out), max_chars);
}

// "STS <action> of <role ARN> at <endpoint>" leading every detail of one call.
std::string call_label(std::string_view action, std::string_view role_arn, const SesEndpoint& endpoint) {
  return "STS " + std::string(action) + " of " + one_line(role_arn, 256) + " at " + endpoint.origin + endpoint.prefix;
}

bool is_transient_sts_code(std::string_view code) {
  for (std::string_view transient : {"Throttling", "IDPCommunicationError", "ServiceUnavailable", "InternalFailure"}) {
    if (code == transient) return true;
  }
  return false;
}

// The signed and unsigned calls share everything but the signature.
Result<Credentials> call_sts(const StsOptions& options, std::string_view action, std::string_view role_arn,
                             const std::string& body, const Credentials* caller, std::string source) {
  auto endpoint = parse_ses_endpoint(options.endpoint, options.region);
  if (!endpoint) {
    // parse_ses_endpoint speaks of ses.endpoint; the reason after it is the same.
    const auto& detail = endpoint.error().detail;
    return make_error(ErrorCode::invalid_input, "STS endpoint " + detail.substr(detail.find(' ') + 1));
  }
  const std::string label = call_label(action, role_arn, *endpoint);
  std::string wire_path = endpoint->prefix + "/";
  std::vector<Header> headers{{"Host", endpoint->host},
                              {"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
  if (caller != nullptr) {
    SigningScope scope{format_amz_date(std::chrono::system_clock::now()), options.region, "sts"};
    add_signature_headers(headers, "POST", wire_path, "", body, scope, caller->access_key_id, caller->secret_access_key,
                          caller->session_token);
  }
  net::HttpClientOptions http{options.timeout, options.timeout, "mailerd", k_max_sts_answer_bytes};
  if (options.stop.stop_possible()) http.cancelled = [stop = options.stop] { return stop.stop_requested(); };
  net::HttpClient client(std::move(http));
  auto response = client.perform({"POST", endpoint->origin + wire_path, std::move(headers), body});
  if (!response) {
    return make_error(ErrorCode::upstream_transient, label + ": " + response.error().detail);
  }
  if (response->status / 100 != 2) return classify_sts_error(response->status, response->body, action, label);
  auto credentials = parse_sts_credentials(response->body, action, std::move(source));
  if (!credentials) {
    // parse_sts_credentials leads with "STS <action>: "; say which call it was.
    Error error = std::move(credentials).error();
    const std::string plain = "STS " + std::string(action) + ": ";
    if (error.detail.starts_with(plain)) error.detail = label + ": " + error.detail.substr(plain.size());
    return error;
  }
  return credentials;
}

}  // namespace

std::string resolve_sts_endpoint(const EnvGetter& env, std::string_view region, std::string_view profile_endpoint) {
  auto strip = [](std::string text) {
    while (!text.empty() && text.back() == '/') text.pop_back();
    return text;
  };
  auto ignore = env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (!(ignore && text::ascii_lower(text::trim(*ignore)) == "true")) {
    for (const char* name : {"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL"}) {
      auto value = env(name);
      if (value && !value->empty()) return strip(*value);
    }
    if (!profile_endpoint.empty()) return strip(std::string(profile_endpoint));
  }
  return "https://sts." + std::string(region) + ".amazonaws.com";
}

bool is_role_session_name(std::string_view name) {
  return name.size() >= 2 && name.size() <= 64 && std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 ||
                  std::string_view("+=,.@_-").find(static_cast<char>(c)) != std::string_view::npos;
         });
}

std::string sts_form_body(const std::vector<std::pair<std::string, std::string>>& fields) {
  std::string body;
  for (const auto& [name, value] : fields) {
    if (!body.empty()) body += '&';
    body += uri_encode(name, false) + "=" + uri_encode(value, false);
  }
  return body;
}

Result<XmlLeaves> read_xml_leaves(std::string_view body, std::string_view what) {
  if (body.size() > k_max_sts_answer_bytes) {
    return make_error(ErrorCode::too_large,
                      std::string(what) + " is larger than " + std::to_string(k_max_sts_answer_bytes) + " bytes");
  }
  XmlParserOwner parser(XML_ParserCreate("UTF-8"));
  if (!parser) throw std::bad_alloc();
  XmlState state;
  state.parser = parser.get();
  XML_SetUserData(parser.get(), &state);
  XML_SetElementHandler(parser.get(), on_start, on_end);
  XML_SetCharacterDataHandler(parser.get(), on_text);
  XML_SetStartDoctypeDeclHandler(parser.get(), on_doctype);
  auto status = XML_Parse(parser.get(), body.data(), static_cast<int>(body.size()), XML_TRUE);
  if (!state.problem.empty()) return make_error(ErrorCode::invalid_input, std::string(what) + " " + state.problem);
  if (status != XML_STATUS_OK) {
    return make_error(ErrorCode::invalid_input, std::string(what) + " is not well-formed XML (line " +
                                                    std::to_string(XML_GetCurrentLineNumber(parser.get())) + ")");
  }
  return std::move(state.leaves);
}

Result<Credentials> parse_sts_credentials(std::string_view body, std::string_view action, std::string source) {
  auto leaves = read_xml_leaves(body, "");
  if (!leaves) return malformed(action, std::string(text::trim(leaves.error().detail)));
  const std::string base = std::string(action) + "Response/" + std::string(action) + "Result/Credentials/";
  Credentials out;
  out.source = std::move(source);
  std::string expiration;
  const std::pair<const char*, std::string*> fields[] = {{"AccessKeyId", &out.access_key_id},
                                                         {"SecretAccessKey", &out.secret_access_key},
                                                         {"SessionToken", &out.session_token},
                                                         {"Expiration", &expiration}};
  for (const auto& [name, target] : fields) {
    auto found = leaves->find(base + name);
    if (found == leaves->end()) return malformed(action, "has no " + base + name);
    *target = std::string(text::trim(found->second));
    if (target->empty()) return malformed(action, "has an empty " + base + name);
  }
  Clock::time_point expires_at;
  if (!parse_iso8601_utc(expiration, expires_at)) {
    return malformed(action, base + "Expiration is not an ISO 8601 UTC time");
  }
  out.expiration = expires_at;
  return out;
}

Error classify_sts_error(long status, std::string_view body, std::string_view action, std::string_view label) {
  std::string code;
  std::string message;
  // An error body is optional (a proxy's HTML 502): the status still classifies it.
  if (auto leaves = read_xml_leaves(body, "STS error answer")) {
    if (auto it = leaves->find("ErrorResponse/Error/Code"); it != leaves->end()) code = one_line(it->second, 64);
    if (auto it = leaves->find("ErrorResponse/Error/Message"); it != leaves->end()) {
      message = one_line(it->second, 200);
    }
  }
  std::string detail = label.empty() ? "STS " + std::string(action) : std::string(label);
  detail += ": HTTP " + std::to_string(status);
  if (!code.empty()) detail += ": " + code;
  if (!message.empty()) detail += ": " + message;
  bool transient = status >= 500 || is_transient_sts_code(code);
  Error error = make_error(transient ? ErrorCode::upstream_transient : ErrorCode::unauthorized, detail);
  error.upstream_code = code.empty() ? "HTTP" + std::to_string(status) : code;
  return error;
}

Result<Credentials> assume_role_with_web_identity(const StsOptions& options, const WebIdentityRequest& request,
                                                  std::string source) {
  std::string body = sts_form_body({{"Action", "AssumeRoleWithWebIdentity"},
                                    {"Version", std::string(k_sts_version)},
                                    {"RoleArn", request.role_arn},
                                    {"RoleSessionName", request.session_name},
                                    {"WebIdentityToken", request.token}});
  auto result = call_sts(options, "AssumeRoleWithWebIdentity", request.role_arn, body, nullptr, std::move(source));
  crypto::wipe(body);
  return result;
}

Result<Credentials> assume_role(const StsOptions& options, const AssumeRoleRequest& request, const Credentials& caller,
                                std::string source) {
  std::vector<std::pair<std::string, std::string>> fields{{"Action", "AssumeRole"},
                                                          {"Version", std::string(k_sts_version)},
                                                          {"RoleArn", request.role_arn},
                                                          {"RoleSessionName", request.session_name}};
  if (!request.external_id.empty()) fields.emplace_back("ExternalId", request.external_id);
  if (request.duration_seconds) fields.emplace_back("DurationSeconds", std::to_string(*request.duration_seconds));
  return call_sts(options, "AssumeRole", request.role_arn, sts_form_body(fields), &caller, std::move(source));
}

}  // namespace mailer::aws
