#include "service/validation.hpp"

#include <fmt/format.h>

#include <set>

#include "mailer/render/address.hpp"
#include "mailer/render/attachments.hpp"
#include "mailer/render/message_options.hpp"
#include "mailer/render/template.hpp"
#include "mailer/store/suppressions.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::service {
namespace {
// SES's names (configuration sets, contact lists, topics): ^[a-zA-Z0-9_-]{1,64}$.
constexpr const char* k_ses_name_rule = "must be 1 to 64 ASCII letters, digits, _ or -";
}  // namespace

std::string ses_list_name_problem(std::string_view name) {
  // AWS::SES::ContactList: ContactListName and Topic.TopicName.
  constexpr std::size_t k_max_contact_list_name_length = 64;
  return render::is_ses_name(name, k_max_contact_list_name_length) ? "" : k_ses_name_rule;
}

}  // namespace mailer::service

namespace mailer::service::detail {
namespace {

constexpr std::size_t k_max_configuration_set_length = 64;
}  // namespace

Error invalid(std::string detail, Errors errors) {
  return Error{ErrorCode::invalid_input, std::move(detail), std::move(errors)};
}

std::optional<render::GivenMailbox> check_from(const std::string& from, Errors& errors) {
  auto mailbox = render::sendable_mailbox(from);
  if (mailbox) return std::move(*mailbox);
  errors.push_back({"from", mailbox.error().detail});
  return std::nullopt;
}

std::vector<render::GivenMailbox> check_reply_to(const std::vector<std::string>& reply_to, Errors& errors) {
  std::vector<render::GivenMailbox> out;
  for (std::size_t i = 0; i < reply_to.size(); ++i) {
    auto mailbox = render::sendable_mailbox(reply_to[i]);
    if (mailbox) out.push_back(std::move(*mailbox));
    else errors.push_back({fmt::format("reply_to[{}]", i), mailbox.error().detail});
  }
  return out;
}

std::string check_object(const nlohmann::json& value, const std::string& field, Errors& errors) {
  if (value.is_null()) return "{}";
  if (!value.is_object()) {
    errors.push_back({field, "must be an object"});
    return "{}";
  }
  return value.dump();
}

CheckedVariables checked_variables(const nlohmann::json& value) {
  if (value.is_null()) return {"{}", std::nullopt};
  if (!value.is_object()) return {"{}", "must be an object"};
  // Before dump(), which recurses over the depth.
  if (auto deep = render::check_variables(value); !deep) return {"{}", deep.error().detail};
  std::string json = value.dump();
  if (json.size() <= render::k_max_variables_bytes) return {std::move(json), std::nullopt};
  return {"{}", fmt::format("is {} bytes of JSON; at most {} are allowed", json.size(), render::k_max_variables_bytes)};
}

std::string check_variables(const nlohmann::json& value, const std::string& field, Errors& errors) {
  auto checked = checked_variables(value);
  if (checked.problem) errors.push_back({field, std::move(*checked.problem)});
  return std::move(checked.json);
}

void check_renders(const ResolvedContent& content, const nlohmann::json& variables, const std::string& email,
                   Errors& errors) {
  auto merged = render::merge_variables(nlohmann::json::object(), variables, {email, "", ""});
  auto rendered = render::render(content.compiled, merged);
  if (rendered) return;
  for (const auto& f : rendered.error().fields) errors.push_back({"variables", f.message});
}

Result<std::vector<Attachment>> check_attachments(const nlohmann::json& attachments, Errors& errors) {
  auto checked = render::message_attachments(attachments);
  if (checked || checked.error().code == ErrorCode::too_large) return checked;
  for (auto& field : checked.error().fields) errors.push_back(std::move(field));
  return std::vector<Attachment>{};
}

std::vector<render::MessageTag> check_tags(const nlohmann::json& tags, Errors& errors) {
  auto checked = render::message_tags(tags);
  if (checked) return std::move(*checked);
  for (auto& field : checked.error().fields) errors.push_back(std::move(field));
  return {};
}

namespace {

// One list of check_destinations: normalized into `out`, each address once
// across the lists (`seen` holds suppression keys), counted against the limit.
void check_address_list(const char* name, const std::vector<std::string>& given, std::vector<std::string>& out,
                        std::set<std::string>& seen, std::size_t& total, Errors& errors) {
  for (std::size_t i = 0; i < given.size(); ++i) {
    auto field = given.size() == 1 ? std::string(name) : fmt::format("{}[{}]", name, i);
    auto address = render::normalize_address(given[i]);
    if (!address) errors.push_back({field, address.error().detail});
    else if (!seen.insert(render::suppression_key(*address)).second) errors.push_back({field, "is given twice"});
    else out.push_back(std::move(*address));
  }
  const std::size_t before = total;
  total += given.size();
  if (before <= store::k_max_destinations && total > store::k_max_destinations) {
    errors.push_back({name, fmt::format("{} recipients in to, cc and bcc; at most {} are allowed (the SES limit)",
                                        total, store::k_max_destinations)});
  }
}

}  // namespace

store::Destinations check_destinations(const std::vector<std::string>& to, const std::vector<std::string>& cc,
                                       const std::vector<std::string>& bcc, Errors& errors) {
  store::Destinations out;
  if (to.empty()) errors.push_back({"to", "required: at least one address"});
  // Counted first: a list of thousands is refused without normalizing each.
  if (to.size() + cc.size() + bcc.size() > 10 * store::k_max_destinations) {
    errors.push_back({"to", fmt::format("{} recipients in to, cc and bcc; at most {} are allowed (the SES limit)",
                                        to.size() + cc.size() + bcc.size(), store::k_max_destinations)});
    return out;
  }
  std::set<std::string> seen;
  std::size_t total = 0;
  check_address_list("to", to, out.to, seen, total, errors);
  check_address_list("cc", cc, out.cc, seen, total, errors);
  check_address_list("bcc", bcc, out.bcc, seen, total, errors);
  return out;
}

std::string check_headers(const nlohmann::json& headers, Errors& errors) {
  auto checked = render::custom_headers(headers);
  if (checked) return render::store_headers(*checked);
  for (auto& field : checked.error().fields) errors.push_back(std::move(field));
  return "{}";
}

std::string check_metadata(const nlohmann::json& metadata, Errors& errors) {
  auto checked = render::message_metadata(metadata);
  if (checked) return std::move(*checked);
  for (auto& field : checked.error().fields) errors.push_back(std::move(field));
  return "{}";
}

void check_configuration_set(const std::optional<std::string>& name, Errors& errors) {
  if (name && !render::is_ses_name(*name, k_max_configuration_set_length))
    errors.push_back({"configuration_set", k_ses_name_rule});
}

void check_list_management(const std::optional<ListManagementInput>& list, Errors& errors) {
  if (!list) return;
  if (auto problem = ses_list_name_problem(list->contact_list_name); !problem.empty())
    errors.push_back({"list_management.contact_list_name", std::move(problem)});
  if (list->topic_name)
    if (auto problem = ses_list_name_problem(*list->topic_name); !problem.empty())
      errors.push_back({"list_management.topic_name", std::move(problem)});
}

Result<std::optional<ResolvedContent>> resolve_content(store::Database& db, const Clock& clock,
                                                       const std::optional<std::string>& template_id,
                                                       const std::optional<int>& template_version,
                                                       const std::optional<ContentInput>& content, Errors& errors) {
  using Resolved = std::optional<ResolvedContent>;
  if (template_id && content) {
    errors.push_back({"content", "give either template_id or content, not both"});
    return Resolved{};
  }
  if (!template_id && !content) {
    errors.push_back({"template_id", "give either template_id or content"});
    return Resolved{};
  }
  if (content) {
    auto compiled = render::compile_template({content->subject, content->html, content->text});
    if (!compiled) {
      for (const auto& f : compiled.error().fields) errors.push_back({"content." + f.field, f.message});
      return Resolved{};
    }
    return Resolved{ResolvedContent{std::nullopt, std::nullopt, content->subject, content->html, content->text,
                                    std::move(*compiled)}};
  }
  store::TemplateRepo templates(db, clock);
  auto found = templates.get(*template_id);
  if (!found) {
    if (found.error().code != ErrorCode::not_found) return Error(found.error());
    errors.push_back({"template_id", fmt::format("template {} not found", *template_id)});
    return Resolved{};
  }
  int version = found->current_version;
  store::TemplateSource source = found->current.content;
  if (template_version && *template_version != found->current_version) {
    auto pinned = templates.version(*template_id, *template_version);
    if (!pinned) {
      if (pinned.error().code != ErrorCode::not_found) return Error(pinned.error());
      errors.push_back({"template_version", fmt::format("template {} has no version {} (current is {})", *template_id,
                                                        *template_version, found->current_version)});
      return Resolved{};
    }
    version = pinned->version;
    source = std::move(pinned->content);
  }
  auto compiled = render::compile_template({source.subject, source.html, source.text});
  if (!compiled) {
    for (const auto& f : compiled.error().fields)
      errors.push_back({"template_id", fmt::format("template {} version {} no longer compiles: {}: {}", found->id,
                                                   version, f.field, f.message)});
    return Resolved{};
  }
  return Resolved{ResolvedContent{found->id, version, std::move(source.subject), std::move(source.html),
                                  std::move(source.text), std::move(*compiled)}};
}

std::optional<std::string> check_suppression_key(const std::string& email, const std::string& field, Errors& errors) {
  if (store::is_hashed_suppression_key(email)) return email;
  auto normalized = render::normalize_address(email);
  if (!normalized) {
    errors.push_back({field, normalized.error().detail});
    return std::nullopt;
  }
  return render::suppression_key(*normalized);
}

}  // namespace mailer::service::detail
