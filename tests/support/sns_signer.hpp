#pragma once
// Signed SNS Notification bodies for any SES record, for tests that need
// messages the fixtures in shared/testdata/sns do not have. Signed with the
// TEST-ONLY key there (test-signing-key.pem), so a mailerd trusting the
// certificate served by sns_fixtures::CertServer accepts them.

#include <string>

namespace mailer::test {

/// The HTTP body SNS would POST for a Notification carrying `message` (a SES
/// record as JSON text) on `topic_arn`, SignatureVersion 2 (RSA SHA-256 over
/// sns::string_to_sign), SigningCertURL http://127.0.0.1:<cert_port>/cert.pem.
/// Throws std::runtime_error when the key cannot be read or used.
std::string signed_notification(const std::string& message, const std::string& sns_message_id,
                                const std::string& topic_arn, int cert_port);

}  // namespace mailer::test
