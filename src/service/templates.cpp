#include "mailer/service/templates.hpp"

#include "mailer/core/ids.hpp"
#include "mailer/core/text.hpp"
#include "service/validation.hpp"

namespace mailer::service {
namespace {

constexpr std::size_t k_max_name_length = 200;

// The stored content of `input`, or the compile errors (all parts at once).
Result<store::TemplateSource> compile(const TemplateInput& input, bool name_required) {
  detail::Errors errors;
  // An update without a name keeps the old one.
  if (name_required || !input.name.empty()) {
    if (auto problem = text::name_problem(input.name, k_max_name_length)) errors.push_back({"name", *problem});
  }
  auto compiled = render::compile_template({input.subject, input.html, input.text});
  if (!compiled) {
    for (const auto& f : compiled.error().fields) errors.push_back(f);
  }
  if (!errors.empty()) return detail::invalid("template is invalid", std::move(errors));
  store::TemplateSource content{input.subject, input.html, input.text, {}};
  // compile_template counts an empty part as absent; store it that way too.
  if (content.html && content.html->empty()) content.html.reset();
  if (content.text && content.text->empty()) content.text.reset();
  for (const auto& v : compiled->variables()) content.variables.push_back(v.name);
  return content;
}

render::TemplateParts parts_of(const store::TemplateSource& content) {
  return {content.subject, content.html, content.text};
}

Result<render::CompiledTemplate> compile_loaded(const render::TemplateCache::Loader& load) {
  auto parts = load();
  if (!parts) return std::move(parts).error();
  return render::compile_template(*parts);
}

std::string string_or(const nlohmann::json& variables, const char* name, const char* fallback) {
  auto it = variables.find(name);
  return it != variables.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

}  // namespace

Result<store::Template> TemplateService::create(const TemplateInput& input) {
  auto content = compile(input, true);
  if (!content) return content.error();
  return store::TemplateRepo(m_db, m_clock).create(input.name, *content);
}

Result<store::Template> TemplateService::get(const std::string& id) {
  return store::TemplateRepo(m_db, m_clock).get(id);
}

// NOTE: a scan through the pages is enough: templates number in the tens, and
// this serves the CLI, not a request path.
Result<store::Template> TemplateService::find_by_name(const std::string& name) {
  store::TemplateRepo repo(m_db, m_clock);
  store::PageQuery query{k_max_page_limit, {}, 0};
  for (;;) {
    auto page = repo.list(query);
    if (!page) return page.error();
    for (auto& found : page->items)
      if (found.name == name) return std::move(found);
    if (page->next_after.empty()) return make_error(ErrorCode::not_found, "no template named \"" + name + "\"");
    query.after = page->next_after;
  }
}

Result<ListPage<store::Template>> TemplateService::list(const PageParams& page) {
  auto query = to_page_query(page, ids::k_template);
  if (!query) return query.error();
  auto found = store::TemplateRepo(m_db, m_clock).list(*query);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

Result<store::Template> TemplateService::update(const std::string& id, const TemplateInput& input) {
  auto content = compile(input, false);
  if (!content) return content.error();
  std::optional<std::string> name;
  if (!input.name.empty()) name = input.name;
  return store::TemplateRepo(m_db, m_clock).update(id, name, *content);
}

Result<std::vector<store::TemplateVersion>> TemplateService::versions(const std::string& id) {
  return store::TemplateRepo(m_db, m_clock).versions(id);
}

Status TemplateService::remove(const std::string& id) { return store::TemplateRepo(m_db, m_clock).remove(id); }

Result<render::RenderedMessage> TemplateService::render_preview(const std::string& id, const nlohmann::json& variables,
                                                                std::optional<int> version) {
  if (!variables.is_null() && !variables.is_object())
    return detail::invalid("variables must be an object", {{"variables", "must be an object"}});
  store::TemplateRepo repo(m_db, m_clock);
  auto found = repo.get(id);
  if (!found) return found.error();
  const int wanted = version.value_or(found->current_version);
  auto load = [&]() -> Result<render::TemplateParts> {
    if (wanted == found->current_version) return parts_of(found->current.content);
    auto pinned = repo.version(id, wanted);
    if (!pinned) return std::move(pinned).error();
    return parts_of(pinned->content);
  };
  // Stored templates compiled when saved; one failing now was saved before a bound
  // that refuses it (e.g. section depth), and the error says which.
  auto compiled = m_cache ? m_cache->get(id, wanted, load) : compile_loaded(load);
  if (!compiled) return compiled.error();
  nlohmann::json given = variables.is_object() ? variables : nlohmann::json::object();
  render::BuiltIns built_ins{string_or(given, "email", k_preview_email),
                             string_or(given, "unsubscribe_url", k_preview_unsubscribe_url),
                             string_or(given, "batch_id", k_preview_batch_id)};
  return render::render(*compiled, render::merge_variables(given, nlohmann::json::object(), built_ins));
}

}  // namespace mailer::service
