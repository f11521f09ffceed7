#pragma once
// Templates (SPEC §3): create, list, get, update (new immutable version),
// versions, delete and render preview. Used by /v1/templates… routes.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/render/template.hpp"
#include "mailer/render/template_cache.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::service {

/// POST /v1/templates and PUT /v1/templates/{id} bodies. On update an empty
/// `name` keeps the current name; the parts always replace the old ones.
struct TemplateInput {
  std::string name;
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
};

/// Sample built-ins used by render_preview() when the variables lack them.
inline constexpr const char* k_preview_email = "recipient@example.com";
inline constexpr const char* k_preview_unsubscribe_url = "https://example.invalid/u/preview";
inline constexpr const char* k_preview_batch_id = "bat_preview";

class TemplateService {
 public:
  /// `cache`, when given, keeps the templates render_preview compiles (shared by
  /// every request; must outlive the service).
  TemplateService(store::Database& db, const Clock& clock, render::TemplateCache* cache = nullptr)
      : m_db(db), m_clock(clock), m_cache(cache) {}

  /// Compiles every part and stores version 1 with the variable names used
  /// (built-ins included). Errors: invalid_input "template is invalid" with
  /// fields "name" (text::name_problem: empty, > 200 code points, not UTF-8 or
  /// with control characters) and the compile errors of
  /// render::compile_template ("subject", "html", "text": message with line
  /// and column); conflict (field "name") when the name is taken.
  Result<store::Template> create(const TemplateInput& input);
  /// Errors: not_found.
  Result<store::Template> get(const std::string& id);
  /// The template named exactly `name` (names are unique), for `mailerctl send
  /// --template NAME`. Errors: not_found naming it.
  Result<store::Template> find_by_name(const std::string& name);
  /// Ordered by creation; paging errors as to_page_query().
  Result<ListPage<store::Template>> list(const PageParams& page);
  /// New version current+1 (same errors as create, plus not_found).
  Result<store::Template> update(const std::string& id, const TemplateInput& input);
  /// Errors: not_found.
  Result<std::vector<store::TemplateVersion>> versions(const std::string& id);
  /// Errors: not_found; conflict while a batch that is not completed or
  /// cancelled uses it, or a transactional message pinned to it is queued or
  /// sending (the detail names the batch or message).
  Status remove(const std::string& id);
  /// Renders version `version` (default current) exactly as the sender would:
  /// merge_variables(variables, {}, built-ins) where a built-in (email,
  /// unsubscribe_url, batch_id) given as a string in `variables` is used, and
  /// otherwise the k_preview_* sample. Errors: not_found; invalid_input with
  /// field "variables" (not an object, or the message too large) or "subject"
  /// (line break rendered, too long); see render::render. Compiles through the
  /// cache given to the constructor, if any.
  Result<render::RenderedMessage> render_preview(const std::string& id, const nlohmann::json& variables,
                                                 std::optional<int> version = std::nullopt);

 private:
  store::Database& m_db;
  const Clock& m_clock;
  render::TemplateCache* m_cache;
};

}  // namespace mailer::service
