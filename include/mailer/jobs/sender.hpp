#pragma once
// What the job engine needs from SES: send one message, read the account's
// quotas. An interface so the engine is tested with a fake sender and runs
// against aws::SesClient in mailerd (SesSender adapts it).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mailer/aws/ses_client.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"

namespace mailer::jobs {

/// One SendEmail call (SES v2 Simple content) and GetAccount's SendQuota: the
/// engine speaks the SES client's own types, so the adapter copies nothing.
using SendRequest = aws::SendRequest;
using AccountQuota = aws::AccountQuota;

/// Used by one thread at a time; the engine makes one per worker.
class Sender {
 public:
  virtual ~Sender() = default;
  /// Sends `request`; returns the SES MessageId. Errors carry the ErrorCode the
  /// retry policy acts on (upstream_throttled, upstream_transient,
  /// upstream_permanent...) and SES's error type in `upstream_code`.
  virtual Result<std::string> send(const SendRequest& request) = 0;
  /// GetAccount. Errors as send().
  virtual Result<AccountQuota> account() = 0;
};

/// Makes a new Sender; called once per worker thread and once for the reaper.
using SenderFactory = std::function<std::unique_ptr<Sender>()>;

}  // namespace mailer::jobs

namespace mailer::jobs {

/// The production Sender: one aws::SesClient (one keep-alive connection) per
/// worker, all sharing one credentials provider.
class SesSender final : public Sender {
 public:
  SesSender(aws::SesClientOptions options, std::shared_ptr<aws::CredentialsProvider> credentials)
      : m_client(std::move(options), std::move(credentials)) {}
  Result<std::string> send(const SendRequest& request) override { return m_client.send_email(request); }
  Result<AccountQuota> account() override { return m_client.get_account(); }

 private:
  aws::SesClient m_client;
};

/// A factory of SesSenders for `config.ses` (region, endpoint and the AWS
/// endpoint variables), all drawing on `credentials`. The endpoint is parsed
/// here, once for every sender; errors: aws::parse_ses_endpoint's, a
/// configuration error to report before anything starts.
Result<SenderFactory> ses_sender_factory(const Config& config, std::shared_ptr<aws::CredentialsProvider> credentials);

}  // namespace mailer::jobs
