#pragma once
// Templates and their immutable versions (SPEC §3). An update adds a version
// row; a batch pins (template_id, version), so it renders what it was created
// with even after later edits.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/page.hpp"

namespace mailer::store {

struct TemplateSource {
  std::string subject;
  std::optional<std::string> html;
  std::optional<std::string> text;
  std::vector<std::string> variables;  // names the parts use, sorted (stored as JSON)
};

struct TemplateVersion {
  std::string template_id;
  int version = 0;
  TemplateSource content;
  std::int64_t created_at_ms = 0;
};

struct Template {
  std::string id;  // "tmpl_…"
  std::string name;
  int current_version = 0;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  TemplateVersion current;  // content of current_version
};

class TemplateRepo {
 public:
  TemplateRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Stores a new template with version 1. Errors: conflict when `name` is taken
  /// (field "name"); storage_unavailable.
  Result<Template> create(const std::string& name, const TemplateSource& content);
  /// Errors: not_found.
  Result<Template> get(const std::string& id);
  /// Page ordered by id (creation order); `after` is the last id seen.
  Result<Page<Template>> list(const PageQuery& page);
  /// Adds version current+1 with `content` and renames to `name` when given.
  /// Errors: not_found; conflict when the new name is taken.
  Result<Template> update(const std::string& id, const std::optional<std::string>& name, const TemplateSource& content);
  /// Every version, oldest first. Errors: not_found.
  Result<std::vector<TemplateVersion>> versions(const std::string& id);
  /// One version. Errors: not_found naming the id and version.
  Result<TemplateVersion> version(const std::string& id, int version);
  /// Deletes the template and its versions. Errors: not_found; conflict while a
  /// batch that is not completed or cancelled uses it, or a transactional
  /// message pinned to it is queued or sending.
  Status remove(const std::string& id);

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
