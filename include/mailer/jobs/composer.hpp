#pragma once
// Turns a claimed message into the SendEmail request for it (SPEC §4
// "Rendering"): the template or inline content, the merged variables, the
// sender, reply-to, tags and headers. One Composer per worker thread: it keeps
// compiled templates per (template id, version) and batch contexts per batch
// id, which never change once accepted.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/jobs/sender.hpp"
#include "mailer/store/attachments.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::render {
class CompiledTemplate;
class TemplateCache;
}  // namespace mailer::render

namespace mailer::jobs {

struct Composed {
  SendRequest request;
  /// The batch's send_before (bulk): past it the message is cancelled, not sent.
  std::optional<std::int64_t> send_before_ms;
};

class Composer {
 public:
  /// `db` is the worker's own connection, for batch and template content
  /// (BatchRepo, TemplateRepo); `config` gives unsubscribe.secret/mailto,
  /// server.public_url and ses.configuration_set (the default). All three must
  /// outlive the Composer.
  Composer(store::Database& db, const Clock& clock, const Config& config);
  ~Composer();

  /// The request for `message`. Headers: `X-Mailer-Message-Id: <id>` always;
  /// bulk adds List-Unsubscribe and List-Unsubscribe-Post (RFC 2369, RFC 8058)
  /// and the built-ins email, unsubscribe_url and batch_id, except in a batch
  /// under SES list management: ListManagementOptions instead, no
  /// List-Unsubscribe headers, unsubscribe_url and amazonSESUnsubscribeUrl
  /// rendering as SES's placeholder, and no need of unsubscribe.secret. Every
  /// message carries ses.from_email_address_identity_arn and
  /// ses.feedback_forwarding_email_address[_identity_arn]; transactional has
  /// its custom headers, its destinations (to, cc, bcc) without
  /// `message.dropped`, and only the `email` built-in. Errors: invalid_input
  /// (the template does not render, a bad from address, stored destinations or
  /// headers that cannot be read, unsubscribe.secret unset for bulk mail),
  /// Attachments: the message's own (transactional) or its batch's (bulk,
  /// read once per batch and shared by its messages).
  /// not_found (batch or template version gone): both permanent;
  /// storage_unavailable.
  Result<Composed> compose(const store::ClaimedMessage& message);

 private:
  struct BatchContext;
  Result<std::shared_ptr<const BatchContext>> batch_context(const std::string& batch_id);
  Result<render::CompiledTemplate> stored_template(const std::string& id, std::int64_t version);

  store::BatchRepo m_batch_repo;
  store::AttachmentRepo m_attachment_repo;
  store::TemplateRepo m_template_repo;
  const Config& m_config;
  std::unique_ptr<render::TemplateCache> m_templates;
  std::map<std::string, std::shared_ptr<const BatchContext>> m_batches;
  std::size_t m_batch_attachment_bytes = 0;  // held by m_batches
};

}  // namespace mailer::jobs
