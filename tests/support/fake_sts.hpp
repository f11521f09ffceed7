#pragma once
// A loopback stand-in for AWS STS (Query API): answers AssumeRole and
// AssumeRoleWithWebIdentity with XML as STS does, records each request's form
// fields, and checks AssumeRole's SigV4 signature (service "sts") with the
// project's signer against the keys it knows: those added by the test and
// those it handed out itself, so a role chain verifies hop by hop.
// https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "support/fake_metadata.hpp"

namespace mailer::test {

class FakeStsServer {
 public:
  struct Recorded {
    std::map<std::string, std::string> form;  // decoded form fields
    bool signed_request = false;              // an Authorization header was present
    bool signature_valid = false;             // and it verified for service "sts"
    std::string signing_region;
    std::string access_key_id;   // of the signature
    std::string security_token;  // X-Amz-Security-Token
    std::string content_type;
  };

  FakeStsServer();
  std::string url() const { return m_http.url(); }

  /// Keys whose signatures the stand-in accepts.
  void add_key(const std::string& access_key_id, const std::string& secret);
  /// Every later answer: `status` with `body` as is (XML or not).
  void set_answer(long status, const std::string& body);
  /// Every later answer: an STS ErrorResponse.
  void set_error(long status, const std::string& code, const std::string& message);
  /// Back to issuing credentials: AccessKeyId "ASIAFAKE<n>", secret "fake-secret-<n>",
  /// token "fake-token-<n>", for the n-th successful call (1-based).
  void clear_answer();

  std::vector<Recorded> requests() const;

  /// The XML STS answers `action` with for these credentials.
  static std::string credentials_xml(const std::string& action, const std::string& access_key_id,
                                     const std::string& secret, const std::string& token,
                                     const std::string& expiration);

 private:
  void handle(const httplib::Request& req, httplib::Response& res);
  Recorded record(const httplib::Request& req) const;

  mutable std::mutex m_mutex;
  std::map<std::string, std::string> m_keys;
  std::optional<std::pair<long, std::string>> m_fixed_answer;
  std::vector<Recorded> m_requests;
  int m_issued = 0;
  LoopbackServer m_http;  // last: stopped before the state its handlers use is destroyed
};

}  // namespace mailer::test
