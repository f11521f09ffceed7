#pragma once
// What the job engine needs from SES: send one message, read the account's
// quotas. An interface so the engine is tested with a fake sender and runs
// against aws::SesClient in mailerd (SesSender adapts it).

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::jobs {

// FIXME(#5): alias aws::SendRequest / aws::AccountQuota once src/aws is merged;
// the fields are the same, so callers do not change.

/// One SendEmail call (SES v2 Simple content). Addresses are ready for SES
/// (punycode domains, RFC 2047 display names).
struct SendRequest {
  std::string from;                   // FromEmailAddress, may be "Name <addr>"
  std::vector<std::string> to;        // one recipient per message
  std::vector<std::string> reply_to;
  std::string subject;
  std::string html;                   // empty: no HTML part
  std::string text;                   // empty: no text part
  std::vector<std::pair<std::string, std::string>> headers;  // X-Mailer-Message-Id, List-Unsubscribe...
  std::vector<std::pair<std::string, std::string>> tags;     // EmailTags
  std::string configuration_set;      // empty: none
};

/// GetAccount's SendQuota: -1 in max_24_hour_send means unlimited.
struct AccountQuota {
  double max_24_hour_send = 0;
  double max_send_rate = 0;  // recipients per second
  double sent_last_24_hours = 0;
  bool sending_enabled = false;
  bool production_access_enabled = false;
};

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
