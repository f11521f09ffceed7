#include "mailer/jobs/composer.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/render/address.hpp"
#include "mailer/render/message_options.hpp"
#include "mailer/render/message_spec.hpp"
#include "mailer/render/template.hpp"
#include "mailer/render/template_cache.hpp"
#include "mailer/render/unsubscribe.hpp"

// Bulk messages share their batch's content, so a worker compiles a batch's
// template once and keeps it with the parsed batch variables and message spec
// (a BatchContext). Template versions are immutable (schema 0001), so the
// cache key (template id, version) never goes stale; batch content does not
// change after acceptance either. Both caches are dropped whole when they
// grow past a bound: simple, and a worker meets few batches at a time.

namespace mailer::jobs {
namespace {

constexpr std::size_t k_max_cached = 256;
// Batch files kept in memory by one worker: past this the batch cache is
// dropped, so a worker holds at most about two batches' worth of files.
constexpr std::size_t k_max_cached_attachment_bytes = 64u * 1024 * 1024;
constexpr const char* k_message_id_header = "X-Mailer-Message-Id";

// Variables stored at accept. A row accepted before the depth limit existed
// may nest deeper: failing that message, as render() did, beats sending it
// without its variables.
Result<nlohmann::json> stored_variables(const std::optional<std::string>& text) {
  if (!text || text->empty()) return nlohmann::json::object();
  return parse_json(*text, "variables", {.max_bytes = k_size_checked_elsewhere});
}

// What accept stored about the sender side of a message, in SES's form. A
// spec that cannot be read fails the message (invalid_input: permanent, so it
// is dead-lettered with the field named) instead of sending it without part.
struct SesSpec {
  std::string from;
  std::vector<std::string> reply_to;
  std::vector<std::pair<std::string, std::string>> tags;
};

Result<SesSpec> stored_spec(render::StoredMessageSpec stored) {
  auto spec = render::read_message_spec(stored);
  if (!spec) return std::move(spec).error();
  SesSpec out{render::format_mailbox_for_ses(spec->from.mailbox), {}, {}};
  for (const auto& mailbox : spec->reply_to) out.reply_to.push_back(render::format_mailbox_for_ses(mailbox.mailbox));
  for (auto& tag : spec->tags) out.tags.emplace_back(std::move(tag.name), std::move(tag.value));
  return out;
}

Result<render::CompiledTemplate> compile_inline(const std::optional<std::string>& subject,
                                                const std::optional<std::string>& html,
                                                const std::optional<std::string>& text) {
  return render::compile_template({subject.value_or(""), html, text});
}

// The destinations accepted, without those the claim found suppressed since.
// A row without destinations (bulk, or stored before schema 0008) goes to its
// `email` alone.
Status fill_destinations(SendRequest& request, const store::ClaimedMessage& message) {
  if (!message.destinations_json) {
    request.to = {message.email};
    return {};
  }
  auto destinations = store::read_destinations(*message.destinations_json);
  if (!destinations) return std::move(destinations).error();
  auto kept = [&](std::vector<std::string>& list) {
    std::erase_if(list, [&](const std::string& address) {
      return std::any_of(message.dropped.begin(), message.dropped.end(),
                         [&](const store::DroppedRecipient& d) { return d.email == address; });
    });
    return std::move(list);
  };
  request.to = kept(destinations->to);
  request.cc = kept(destinations->cc);
  request.bcc = kept(destinations->bcc);
  return {};
}

Status add_custom_headers(SendRequest& request, const std::optional<std::string>& stored) {
  if (!stored) return {};
  auto headers = render::read_headers(*stored);
  if (!headers) return std::move(headers).error();
  for (auto& header : *headers) request.headers.emplace_back(std::move(header.name), std::move(header.value));
  return {};
}

void fill_body(SendRequest& request, render::RenderedMessage rendered) {
  request.subject = std::move(rendered.subject);
  request.html = rendered.html.value_or("");
  request.text = rendered.text.value_or("");
}

// Sending authorization and feedback forwarding: the same for every message.
void fill_ses_options(SendRequest& request, const SesConfig& ses) {
  request.from_identity_arn = ses.from_email_address_identity_arn;
  request.feedback_forwarding_address = ses.feedback_forwarding_email_address;
  request.feedback_forwarding_identity_arn = ses.feedback_forwarding_email_address_identity_arn;
}

// mailerd's own unsubscribe link: signed per message, in List-Unsubscribe and
// List-Unsubscribe-Post (RFC 2369, RFC 8058) and the unsubscribe_url built-in.
Result<nlohmann::json> unsubscribe_variables(const Config& config, const nlohmann::json& batch_vars,
                                             const nlohmann::json& recipient_vars,
                                             const store::ClaimedMessage& message, SendRequest& request) {
  if (config.unsubscribe.secret.empty()) {
    return make_error(ErrorCode::invalid_input, "unsubscribe.secret is not set; bulk mail needs unsubscribe links");
  }
  auto token = render::make_unsubscribe_token(config.unsubscribe.secret, message.id);
  auto url = render::unsubscribe_url(config.server.public_url, token);
  for (auto& header : render::list_unsubscribe_headers(url, config.unsubscribe.mailto)) {
    request.headers.push_back(std::move(header));
  }
  return render::merge_variables(batch_vars, recipient_vars, {message.email, url, *message.batch_id});
}

// SES list management: SES adds its own List-Unsubscribe headers and link, so
// mailerd adds none (two would conflict) and leaves SES's placeholder in place.
nlohmann::json ses_managed_variables(const nlohmann::json& batch_vars, const nlohmann::json& recipient_vars,
                                     const store::ClaimedMessage& message) {
  auto variables = render::merge_variables(batch_vars, recipient_vars, {message.email, "", *message.batch_id});
  render::use_ses_unsubscribe_placeholder(variables);
  return variables;
}

std::optional<aws::ListManagement> list_management_of(const store::Batch& batch) {
  if (!batch.contact_list_name) return std::nullopt;
  return aws::ListManagement{*batch.contact_list_name, batch.topic_name.value_or("")};
}

}  // namespace

struct Composer::BatchContext {
  render::CompiledTemplate compiled;
  nlohmann::json variables;
  SesSpec spec;
  std::string configuration_set;
  std::optional<std::int64_t> send_before_ms;
  std::vector<Attachment> attachments;
  std::optional<aws::ListManagement> list_management;  // set: SES handles unsubscribes
};

Composer::Composer(store::Database& db, const Clock& clock, const Config& config)
    : m_batch_repo(db, clock),
      m_attachment_repo(db),
      m_template_repo(db, clock),
      m_config(config),
      m_templates(std::make_unique<render::TemplateCache>(k_max_cached)) {}

Composer::~Composer() = default;

Result<render::CompiledTemplate> Composer::stored_template(const std::string& id, std::int64_t version) {
  return m_templates->get(id, version, [&]() -> Result<render::TemplateParts> {
    auto stored = m_template_repo.version(id, static_cast<int>(version));
    if (!stored) return std::move(stored).error();
    const auto& content = stored->content;
    return render::TemplateParts{content.subject, content.html, content.text};
  });
}

Result<std::shared_ptr<const Composer::BatchContext>> Composer::batch_context(const std::string& batch_id) {
  if (auto found = m_batches.find(batch_id); found != m_batches.end()) return found->second;
  auto batch = m_batch_repo.get(batch_id);
  if (!batch) return std::move(batch).error();
  auto compiled = batch->template_id ? stored_template(*batch->template_id, batch->template_version.value_or(1))
                                     : compile_inline(batch->subject, batch->html, batch->text);
  if (!compiled) return std::move(compiled).error();
  auto spec = stored_spec({batch->from_address, batch->reply_to_json, batch->tags_json});
  if (!spec) return std::move(spec).error();
  auto variables = stored_variables(batch->variables_json);
  if (!variables) return std::move(variables).error();
  auto attachments = m_attachment_repo.of(store::AttachmentOwner::batch, batch_id);
  if (!attachments) return std::move(attachments).error();
  std::size_t bytes = 0;
  for (const auto& a : *attachments) bytes += a.size_bytes();
  auto context = std::make_shared<BatchContext>(
      BatchContext{*compiled, std::move(*variables), std::move(*spec),
                   batch->configuration_set.value_or(m_config.ses.configuration_set), batch->send_before_ms,
                   std::move(*attachments), list_management_of(*batch)});
  if (m_batches.size() >= k_max_cached || m_batch_attachment_bytes + bytes > k_max_cached_attachment_bytes) {
    m_batches.clear();
    m_batch_attachment_bytes = 0;
  }
  m_batch_attachment_bytes += bytes;
  m_batches.emplace(batch_id, context);
  return std::shared_ptr<const BatchContext>(context);
}

Result<Composed> Composer::compose(const store::ClaimedMessage& message) {
  Composed out;
  SendRequest& request = out.request;
  request.headers.emplace_back(k_message_id_header, message.id);
  auto stored = stored_variables(message.variables_json);
  if (!stored) return std::move(stored).error();
  const nlohmann::json& recipient_vars = *stored;

  fill_ses_options(request, m_config.ses);

  if (message.kind == store::MessageKind::bulk) {
    request.to = {message.email};
    if (!message.batch_id) return make_error(ErrorCode::internal, "bulk message without a batch");
    auto context = batch_context(*message.batch_id);
    if (!context) return std::move(context).error();
    const BatchContext& batch = **context;
    auto variables =
        batch.list_management
            ? Result<nlohmann::json>(ses_managed_variables(batch.variables, recipient_vars, message))
            : unsubscribe_variables(m_config, batch.variables, recipient_vars, message, request);
    if (!variables) return std::move(variables).error();
    auto rendered = render::render(batch.compiled, *variables);
    if (!rendered) return std::move(rendered).error();
    fill_body(request, std::move(*rendered));
    request.from = batch.spec.from;
    request.reply_to = batch.spec.reply_to;
    request.tags = batch.spec.tags;
    request.configuration_set = batch.configuration_set;
    request.list_management = batch.list_management;
    request.attachments = batch.attachments;  // shares the bytes
    out.send_before_ms = batch.send_before_ms;
    return out;
  }

  if (auto filled = fill_destinations(request, message); !filled) return std::move(filled).error();
  if (auto added = add_custom_headers(request, message.headers_json); !added) return std::move(added).error();
  auto compiled = message.template_id ? stored_template(*message.template_id, message.template_version.value_or(1))
                                      : compile_inline(message.subject, message.html, message.text);
  if (!compiled) return std::move(compiled).error();
  auto variables = render::merge_variables(nlohmann::json::object(), recipient_vars, {message.email, "", ""});
  auto rendered = render::render(*compiled, variables);
  if (!rendered) return std::move(rendered).error();
  fill_body(request, std::move(*rendered));
  // Columns NULL only for bulk rows; a transactional row always has them.
  auto spec = stored_spec(
      {message.from_address.value_or(""), message.reply_to_json.value_or("[]"), message.tags_json.value_or("{}")});
  if (!spec) return std::move(spec).error();
  request.from = std::move(spec->from);
  request.reply_to = std::move(spec->reply_to);
  request.tags = std::move(spec->tags);
  request.configuration_set = message.configuration_set.value_or(m_config.ses.configuration_set);
  auto attachments = m_attachment_repo.of(store::AttachmentOwner::message, message.id);
  if (!attachments) return std::move(attachments).error();
  request.attachments = std::move(*attachments);
  return out;
}

}  // namespace mailer::jobs
