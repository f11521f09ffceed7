#include "support/fake_sts.hpp"

#include "mailer/aws/sigv4.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::test {

namespace {

std::map<std::string, std::string> parse_form(const std::string& body) {
  std::map<std::string, std::string> form;
  std::size_t start = 0;
  while (start <= body.size()) {
    auto end = body.find('&', start);
    if (end == std::string::npos) end = body.size();
    std::string pair = body.substr(start, end - start);
    auto eq = pair.find('=');
    if (!pair.empty())
      form[aws::uri_decode(pair.substr(0, eq))] = eq == std::string::npos ? "" : aws::uri_decode(pair.substr(eq + 1));
    start = end + 1;
  }
  return form;
}

}  // namespace

FakeStsServer::FakeStsServer() {
  m_http.server().Post("/", [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); });
  m_http.start();
}

void FakeStsServer::add_key(const std::string& access_key_id, const std::string& secret) {
  std::scoped_lock lock(m_mutex);
  m_keys[access_key_id] = secret;
}

void FakeStsServer::set_answer(long status, const std::string& body) {
  std::scoped_lock lock(m_mutex);
  m_fixed_answer = std::pair{status, body};
}

void FakeStsServer::set_error(long status, const std::string& code, const std::string& message) {
  set_answer(status, R"(<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">)"
                     "<Error><Type>Sender</Type><Code>" +
                         code + "</Code><Message>" + message +
                         "</Message></Error><RequestId>fake</RequestId></ErrorResponse>");
}

void FakeStsServer::clear_answer() {
  std::scoped_lock lock(m_mutex);
  m_fixed_answer.reset();
}

std::vector<FakeStsServer::Recorded> FakeStsServer::requests() const {
  std::scoped_lock lock(m_mutex);
  return m_requests;
}

std::string FakeStsServer::credentials_xml(const std::string& action, const std::string& access_key_id,
                                           const std::string& secret, const std::string& token,
                                           const std::string& expiration) {
  return "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">\n  <" + action +
         "Result>\n    <Credentials>\n      <SessionToken>" + token + "</SessionToken>\n      <SecretAccessKey>" +
         secret + "</SecretAccessKey>\n      <Expiration>" + expiration + "</Expiration>\n      <AccessKeyId>" +
         access_key_id + "</AccessKeyId>\n    </Credentials>\n  </" + action + "Result>\n  <ResponseMetadata>" +
         "<RequestId>fake</RequestId></ResponseMetadata>\n</" + action + "Response>\n";
}

// Checked like STS would: the scope names service sts, the key is known,
// and the signature over the request as received matches.
FakeStsServer::Recorded FakeStsServer::record(const httplib::Request& req) const {
  Recorded out;
  out.form = parse_form(req.body);
  out.content_type = req.get_header_value("Content-Type");
  out.security_token = req.get_header_value("X-Amz-Security-Token");
  auto header = req.get_header_value("Authorization");
  out.signed_request = !header.empty();
  if (!out.signed_request) return out;
  auto auth = aws::parse_authorization(header);
  out.access_key_id = auth.access_key_id;
  out.signing_region = auth.region;
  auto key = m_keys.find(auth.access_key_id);
  auto amz_date = req.get_header_value("X-Amz-Date");
  if (!auth.ok || auth.service != "sts" || key == m_keys.end() || amz_date.substr(0, 8) != auth.date) return out;
  aws::SigningRequest signing{req.method, req.path, "", {}, req.body};
  for (const auto& name : auth.signed_headers) {
    for (std::size_t i = 0; i < req.get_header_value_count(name); ++i) {
      signing.headers.emplace_back(name, req.get_header_value(name, i));
    }
  }
  auto expected = aws::sign(signing, {amz_date, auth.region, auth.service}, auth.access_key_id, key->second);
  out.signature_valid = crypto::constant_time_equal(expected.signature, auth.signature);
  return out;
}

void FakeStsServer::handle(const httplib::Request& req, httplib::Response& res) {
  std::scoped_lock lock(m_mutex);
  Recorded recorded = record(req);
  std::string action = recorded.form["Action"];
  bool signature_refused = recorded.signed_request && !recorded.signature_valid;
  m_requests.push_back(std::move(recorded));
  if (m_fixed_answer) {
    res.status = static_cast<int>(m_fixed_answer->first);
    res.set_content(m_fixed_answer->second, "text/xml");
    return;
  }
  if (signature_refused || (action == "AssumeRole" && !m_requests.back().signed_request)) {
    res.status = 403;
    res.set_content(
        "<ErrorResponse><Error><Code>SignatureDoesNotMatch</Code><Message>bad signature</Message>"
        "</Error></ErrorResponse>",
        "text/xml");
    return;
  }
  int n = ++m_issued;
  std::string id = "ASIAFAKE" + std::to_string(n);
  std::string secret = "fake-secret-" + std::to_string(n);
  m_keys[id] = secret;
  res.set_content(credentials_xml(action, id, secret, "fake-token-" + std::to_string(n), "2099-01-01T00:00:00Z"),
                  "text/xml");
}

}  // namespace mailer::test
