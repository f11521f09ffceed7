#include "mailer/service/messages.hpp"

#include "mailer/render/address.hpp"
#include "mailer/store/messages.hpp"
#include "service/validation.hpp"

namespace mailer::service {

Result<MessageAccepted> MessageService::enqueue_message(const MessageRequest& r) {
  detail::Errors errors;
  store::NewMessage message;
  render::MessageSpec spec;
  if (auto from = detail::check_from(r.from, errors)) spec.from = std::move(*from);
  auto to = render::normalize_address(r.to);
  if (!to) errors.push_back({"to", to.error().detail});
  spec.reply_to = detail::check_reply_to(r.reply_to, errors);
  auto content = detail::resolve_content(m_db, m_clock, r.template_id, r.template_version, r.content, errors);
  if (!content) return content.error();
  message.variables_json = detail::check_variables(r.variables, "variables", errors);
  spec.tags = detail::check_tags(r.tags, errors);
  detail::check_configuration_set(r.configuration_set, errors);
  message.configuration_set = r.configuration_set;
  // Only a message valid in every field is rendered: render needs bounded variables.
  if (errors.empty()) detail::check_renders(**content, r.variables, *to, errors);
  if (!errors.empty()) return detail::invalid("message request is invalid", std::move(errors));
  detail::store_spec(spec, message);

  message.email = *to;
  message.key = render::suppression_key(*to);
  const detail::ResolvedContent& c = **content;
  message.template_id = c.template_id;
  message.template_version = c.template_version;
  message.subject = c.subject;
  message.html = c.html;
  message.text = c.text;
  auto created = store::MessageRepo(m_db, m_clock).insert_message(message);
  if (!created) return created.error();
  if (m_on_enqueued && created->state == store::MessageState::queued) m_on_enqueued();
  return MessageAccepted{created->id, created->state};
}

Result<store::Message> MessageService::get_message(const std::string& id) {
  return store::MessageRepo(m_db, m_clock).message(id);
}

}  // namespace mailer::service
