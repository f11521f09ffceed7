// What SES and the instance metadata service answer (src/aws/): a network path
// we do not control. SesClient and credentials_from_imds hand every answer body
// to these pure readers, so they are fuzzed directly, without a socket: the
// GetAccount, SendEmail and SES error answers, the IMDS, container, STS (XML)
// and credential_process answers, and the shared credentials file, the
// credential_process command line and the expiration time the chain reads.
//
// Input: one byte choosing the HTTP status of an error answer (k_statuses),
// then the body, which every reader gets, optionally followed by "\n@@@@\n"
// and the x-amzn-ErrorType header of the error answer.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_input.hpp"
#include "mailer/aws/credentials.hpp"
#include "mailer/aws/credentials_container.hpp"
#include "mailer/aws/credentials_process.hpp"
#include "mailer/aws/credentials_sts.hpp"
#include "mailer/aws/ses_client.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace mailer;
  constexpr std::array<long, 8> k_statuses{200, 408, 400, 429, 500, 503, 403, 404};
  if (size == 0) return 0;
  const long status = k_statuses[data[0] % k_statuses.size()];
  const auto parts = fuzz::split_input(data + 1, size - 1, 2);
  const std::string& body = parts[0];
  (void)aws::parse_account(body);
  (void)aws::parse_send_email_answer(body);
  (void)aws::parse_imds_credentials(body);
  (void)aws::classify_ses_error(status, parts[1], body);
  (void)aws::parse_container_credentials(body);
  (void)aws::parse_sts_credentials(body, "AssumeRoleWithWebIdentity", "web-identity");
  (void)aws::parse_sts_credentials(body, "AssumeRole", "assume-role:p");
  (void)aws::parse_process_credentials(body, "credential_process", "process:p");
  (void)aws::split_command_line(body);
  (void)aws::parse_ini(body);
  Clock::time_point when;
  (void)aws::parse_iso8601_utc(body, when);
  return 0;
}
