#include "mailer/service/messages.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "mailer/render/address.hpp"
#include "mailer/store/messages.hpp"
#include "service/validation.hpp"

namespace mailer::service {
namespace {

// The longest address renders the longest subject: checking it proves the
// message sendable whichever destination becomes its `email` built-in.
const std::string& longest_address(const store::Destinations& d) {
  static const std::string k_none;
  const std::string* longest = &k_none;
  for (const auto* list : {&d.to, &d.cc, &d.bcc}) {
    for (const auto& address : *list) {
      if (address.size() > longest->size()) longest = &address;
    }
  }
  return *longest;
}

// Problems of entry `index` as fields of the whole call ("messages[3].to").
void add_prefixed(std::size_t index, const Error& error, FieldErrors& into) {
  const auto prefix = fmt::format("messages[{}]", index);
  if (error.fields.empty()) into.push_back({prefix, error.detail});
  for (const auto& field : error.fields) into.push_back({prefix + "." + field.field, field.message});
  if (auto note = error.fields.omitted_note()) into.push_back({prefix, note->message});
}

Error too_many_messages(std::size_t count) {
  return Error{ErrorCode::too_large,
               fmt::format("batch has {} messages; at most {} are allowed", count, k_max_batch_messages),
               {{"messages", fmt::format("at most {} messages per call", k_max_batch_messages)}}};
}

// An entry whose files are too large refuses the whole call (413), named.
Error too_large_entry(std::size_t index, const Error& error) {
  FieldErrors fields;
  add_prefixed(index, error, fields);
  return Error{ErrorCode::too_large, fmt::format("messages[{}]: {}", index, error.detail), std::move(fields)};
}

}  // namespace

Result<store::NewMessage> MessageService::prepare(const MessageRequest& r) {
  detail::Errors errors;
  store::NewMessage message;
  render::MessageSpec spec;
  if (auto from = detail::check_from(r.from, errors)) spec.from = std::move(*from);
  message.destinations = detail::check_destinations(r.to, r.cc, r.bcc, errors);
  spec.reply_to = detail::check_reply_to(r.reply_to, errors);
  auto content = detail::resolve_content(m_db, m_clock, r.template_id, r.template_version, r.content, errors);
  if (!content) return content.error();
  message.variables_json = detail::check_variables(r.variables, "variables", errors);
  spec.tags = detail::check_tags(r.tags, errors);
  detail::check_configuration_set(r.configuration_set, errors);
  message.configuration_set = r.configuration_set;
  message.headers_json = detail::check_headers(r.headers, errors);
  message.metadata_json = detail::check_metadata(r.metadata, errors);
  auto attachments = detail::check_attachments(r.attachments, errors);
  if (!attachments) return std::move(attachments).error();
  message.attachments = std::move(*attachments);
  // Only a message valid in every field is rendered: render needs bounded variables.
  if (errors.empty()) detail::check_renders(**content, r.variables, longest_address(message.destinations), errors);
  if (!errors.empty()) return detail::invalid("message request is invalid", std::move(errors));
  detail::store_spec(spec, message);

  message.email = message.destinations.to.front();
  message.key = render::suppression_key(message.email);
  const detail::ResolvedContent& c = **content;
  message.template_id = c.template_id;
  message.template_version = c.template_version;
  message.subject = c.subject;
  message.html = c.html;
  message.text = c.text;
  return message;
}

Result<MessageAccepted> MessageService::enqueue_message(const MessageRequest& r) {
  auto message = prepare(r);
  if (!message) return std::move(message).error();
  auto created = store::MessageRepo(m_db, m_clock).insert_message(*message);
  if (!created) return created.error();
  if (m_on_enqueued && created->state == store::MessageState::queued) m_on_enqueued();
  return MessageAccepted{created->id, created->state};
}

Result<std::vector<Result<MessageAccepted>>> MessageService::enqueue_messages(
    const std::vector<Result<MessageRequest>>& requests, Atomic atomic) {
  if (requests.size() > k_max_batch_messages) return too_many_messages(requests.size());
  std::vector<Result<MessageAccepted>> results;
  std::vector<store::NewMessage> valid;
  std::vector<std::size_t> valid_index;  // position in `results` of each `valid` row
  FieldErrors atomic_errors;
  std::size_t invalid = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto prepared = requests[i] ? prepare(*requests[i]) : Result<store::NewMessage>(requests[i].error());
    if (!prepared && prepared.error().code == ErrorCode::too_large) return too_large_entry(i, prepared.error());
    if (!prepared && prepared.error().code != ErrorCode::invalid_input) return std::move(prepared).error();
    if (!prepared) {
      ++invalid;
      add_prefixed(i, prepared.error(), atomic_errors);
      results.emplace_back(std::move(prepared).error());
      continue;
    }
    valid_index.push_back(i);
    valid.push_back(std::move(*prepared));
    results.emplace_back(MessageAccepted{});
  }
  if (atomic == Atomic::yes && invalid > 0) {
    return detail::invalid(fmt::format("{} of {} messages are invalid; none was stored", invalid, requests.size()),
                           std::move(atomic_errors));
  }
  auto created = store::MessageRepo(m_db, m_clock).insert_messages(valid);
  if (!created) return created.error();
  bool queued = false;
  for (std::size_t k = 0; k < created->size(); ++k) {
    const auto& row = (*created)[k];
    queued = queued || row.state == store::MessageState::queued;
    results[valid_index[k]] = MessageAccepted{row.id, row.state};
  }
  if (m_on_enqueued && queued) m_on_enqueued();
  return results;
}

Result<store::Message> MessageService::get_message(const std::string& id) {
  return store::MessageRepo(m_db, m_clock).message(id);
}

}  // namespace mailer::service
