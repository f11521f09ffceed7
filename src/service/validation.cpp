#include "service/validation.hpp"

#include <fmt/format.h>

#include "mailer/render/address.hpp"
#include "mailer/render/template.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::service::detail {
namespace {

constexpr std::size_t k_max_tag_length = 256;
constexpr std::size_t k_max_configuration_set_length = 64;

bool is_ses_name(std::string_view text, std::size_t max_length) {
  if (text.empty() || text.size() > max_length) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Error invalid(std::string detail, Errors errors) {
  return Error{ErrorCode::invalid_input, std::move(detail), std::move(errors)};
}

void check_from(const std::string& from, Errors& errors) {
  auto mailbox = render::parse_mailbox(from);
  if (!mailbox) errors.push_back({"from", mailbox.error().detail});
}

std::string check_reply_to(const std::vector<std::string>& reply_to, Errors& errors) {
  auto list = nlohmann::json::array();
  for (std::size_t i = 0; i < reply_to.size(); ++i) {
    auto mailbox = render::parse_mailbox(reply_to[i]);
    if (!mailbox) errors.push_back({fmt::format("reply_to[{}]", i), mailbox.error().detail});
    else list.push_back(reply_to[i]);
  }
  return list.dump();
}

std::string check_object(const nlohmann::json& value, const std::string& field, Errors& errors) {
  if (value.is_null()) return "{}";
  if (!value.is_object()) {
    errors.push_back({field, "must be an object"});
    return "{}";
  }
  return value.dump();
}

std::string check_variables(const nlohmann::json& value, const std::string& field, Errors& errors) {
  if (value.is_object() && !render::check_variables(value)) {
    errors.push_back({field, fmt::format("must not nest deeper than {} levels", render::k_max_variable_depth)});
    return "{}";
  }
  return check_object(value, field, errors);
}

std::string check_tags(const nlohmann::json& tags, Errors& errors) {
  if (tags.is_null()) return "{}";
  if (!tags.is_object()) {
    errors.push_back({"tags", "must be an object of name: value strings"});
    return "{}";
  }
  for (const auto& [name, value] : tags.items()) {
    std::string field = "tags." + name;
    if (!is_ses_name(name, k_max_tag_length))
      errors.push_back({field, "name must be 1 to 256 ASCII letters, digits, _ or -"});
    if (!value.is_string() || !is_ses_name(value.get_ref<const std::string&>(), k_max_tag_length))
      errors.push_back({field, "value must be a string of 1 to 256 ASCII letters, digits, _ or -"});
  }
  return tags.dump();
}

void check_configuration_set(const std::optional<std::string>& name, Errors& errors) {
  if (name && !is_ses_name(*name, k_max_configuration_set_length))
    errors.push_back({"configuration_set", "must be 1 to 64 ASCII letters, digits, _ or -"});
}

Result<std::optional<ResolvedContent>> resolve_content(store::Database& db, const Clock& clock,
                                                       const std::optional<std::string>& template_id,
                                                       const std::optional<int>& template_version,
                                                       const std::optional<ContentInput>& content,
                                                       Errors& errors) {
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
    return Resolved{ResolvedContent{std::nullopt, std::nullopt, content->subject, content->html, content->text}};
  }
  store::TemplateRepo templates(db, clock);
  auto found = templates.get(*template_id);
  if (!found) {
    if (found.error().code != ErrorCode::not_found) return Error(found.error());
    errors.push_back({"template_id", fmt::format("template {} not found", *template_id)});
    return Resolved{};
  }
  if (!template_version || *template_version == found->current_version) {
    const auto& c = found->current.content;
    return Resolved{ResolvedContent{found->id, found->current_version, c.subject, c.html, c.text}};
  }
  auto version = templates.version(*template_id, *template_version);
  if (!version) {
    if (version.error().code != ErrorCode::not_found) return Error(version.error());
    errors.push_back({"template_version", fmt::format("template {} has no version {} (current is {})",
                                                      *template_id, *template_version, found->current_version)});
    return Resolved{};
  }
  const auto& c = version->content;
  return Resolved{ResolvedContent{found->id, version->version, c.subject, c.html, c.text}};
}

}  // namespace mailer::service::detail
