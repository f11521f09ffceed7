// The SNS webhook path (src/sns/): POST /webhooks/ses takes this body from
// anyone, before any signature check. Runs what the route runs: the envelope
// checks of verify_message (certificate fetched through a fake that returns
// the second part of the input, so the PEM reader is fuzzed as well), then
// the SES record parse of the Message, and the raw-delivery sniffing.
//
// Input: the HTTP body, then optionally "\n@@@@\n" and a PEM certificate.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_input.hpp"
#include "mailer/sns/parse.hpp"
#include "mailer/sns/verify.hpp"

namespace {

using namespace mailer;

class FixedFetcher : public sns::UrlFetcher {
 public:
  std::string pem;
  Result<Response> get(const std::string&) override {
    if (pem.empty()) return Response{404, ""};
    return Response{200, pem};
  }
};

void read_ses_record(std::string_view message) {
  auto notification = sns::parse_ses_notification(message);
  if (notification) (void)sns::classify(*notification);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = fuzz::split_input(data, size, 2);
  const std::string& body = parts[0];
  auto fetcher = std::make_shared<FixedFetcher>();
  fetcher->pem = parts[1];
  sns::CertificateCache certificates(fetcher);
  SnsConfig config;
  config.topic_arns = {"arn:aws:sns:us-east-1:123456789012:ses-feedback"};
  auto verdict = sns::verify_message(body, config, certificates);
  if (verdict.stage != sns::Stage::parse) {
    (void)sns::string_to_sign(verdict.envelope);
    read_ses_record(verdict.envelope.message);
    // Past the signature only with AWS's key; check the last stage directly.
    if (auto policy = sns::UrlPolicy::from_config(config)) {
      (void)sns::url_policy_violation(verdict.envelope.subscribe_url, *policy, sns::UrlKind::subscribe);
    }
  }
  if (sns::looks_like_raw_delivery(body)) read_ses_record(body);
  return 0;
}
