#include "mailer/jobs/sender.hpp"

namespace mailer::jobs {

Result<SenderFactory> ses_sender_factory(const Config& config, std::shared_ptr<aws::CredentialsProvider> credentials) {
  aws::SesClientOptions options;
  options.region = config.ses.region;
  auto endpoint = aws::parse_ses_endpoint(aws::resolve_ses_endpoint(config.ses, aws::system_env), config.ses.region);
  if (!endpoint) return std::move(endpoint).error();
  options.endpoint = std::move(*endpoint);
  return SenderFactory([options, credentials] { return std::make_unique<SesSender>(options, credentials); });
}

}  // namespace mailer::jobs
