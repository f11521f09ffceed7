#include "mailer/jobs/sender.hpp"

namespace mailer::jobs {

SenderFactory ses_sender_factory(const Config& config,
                                 std::shared_ptr<aws::CredentialsProvider> credentials) {
  aws::SesClientOptions options;
  options.region = config.ses.region;
  options.endpoint = aws::resolve_ses_endpoint(config.ses, aws::system_env);
  return [options, credentials] { return std::make_unique<SesSender>(options, credentials); };
}

}  // namespace mailer::jobs
