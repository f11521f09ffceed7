#include "mailer/store/templates.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/ids.hpp"
#include "mailer/core/json.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

constexpr const char* k_select =
    "SELECT t.id, t.name, t.current_version, t.created_at_ms, t.updated_at_ms, "
    "v.subject, v.html, v.text, v.variables_json, v.created_at_ms "
    "FROM templates t JOIN template_versions v ON v.template_id = t.id AND v.version = t.current_version";

std::vector<std::string> parse_names(const std::string& json_text) {
  auto parsed = parse_json(json_text, "variables_json", {.max_bytes = k_size_checked_elsewhere});
  std::vector<std::string> names;
  if (!parsed || !parsed->is_array()) return names;
  for (const auto& item : *parsed)
    if (item.is_string()) names.push_back(item.get<std::string>());
  return names;
}

TemplateSource read_content(SQLite::Statement& row, int first) {
  TemplateSource c;
  c.subject = row.getColumn(first).getString();
  c.html = sql::optional_text(row.getColumn(first + 1));
  c.text = sql::optional_text(row.getColumn(first + 2));
  c.variables = parse_names(row.getColumn(first + 3).getString());
  return c;
}

Template read_template(SQLite::Statement& row) {
  Template t;
  t.id = row.getColumn(0).getString();
  t.name = row.getColumn(1).getString();
  t.current_version = row.getColumn(2).getInt();
  t.created_at_ms = row.getColumn(3).getInt64();
  t.updated_at_ms = row.getColumn(4).getInt64();
  t.current.template_id = t.id;
  t.current.version = t.current_version;
  t.current.content = read_content(row, 5);
  t.current.created_at_ms = row.getColumn(9).getInt64();
  return t;
}

std::optional<Template> find(SQLite::Database& db, const std::string& id) {
  SQLite::Statement query(db, std::string(k_select) + " WHERE t.id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  return read_template(query);
}

Error not_found(const std::string& id) {
  return make_error(ErrorCode::not_found, fmt::format("template {} not found", id));
}

Error name_taken(const std::string& name) {
  return Error{ErrorCode::conflict,
               fmt::format("a template named \"{}\" already exists", name),
               {{"name", "is already used by another template"}}};
}

bool name_used_by_other(SQLite::Database& db, const std::string& name, const std::string& id) {
  SQLite::Statement query(db, "SELECT 1 FROM templates WHERE name = ? AND id <> ?");
  query.bind(1, name);
  query.bind(2, id);
  return query.executeStep();
}

void insert_version(SQLite::Database& db, const std::string& id, int version, const TemplateSource& content,
                    std::int64_t now_ms) {
  SQLite::Statement insert(db,
                           "INSERT INTO template_versions(template_id, version, subject, html, text, "
                           "variables_json, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)");
  insert.bind(1, id);
  insert.bind(2, version);
  insert.bind(3, content.subject);
  sql::bind_optional(insert, 4, content.html);
  sql::bind_optional(insert, 5, content.text);
  insert.bind(6, nlohmann::json(content.variables).dump());
  insert.bind(7, static_cast<std::int64_t>(now_ms));
  insert.exec();
}

}  // namespace

Result<Template> TemplateRepo::create(const std::string& name, const TemplateSource& content) {
  std::string id = ids::make(ids::k_template);
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "create template", [&]() -> Result<Template> {
    if (name_used_by_other(m_db.sql(), name, id)) return name_taken(name);
    SQLite::Statement insert(m_db.sql(),
                             "INSERT INTO templates(id, name, current_version, created_at_ms, "
                             "updated_at_ms) VALUES (?, ?, 1, ?, ?)");
    insert.bind(1, id);
    insert.bind(2, name);
    insert.bind(3, static_cast<std::int64_t>(now_ms));
    insert.bind(4, static_cast<std::int64_t>(now_ms));
    insert.exec();
    insert_version(m_db.sql(), id, 1, content, now_ms);
    return *find(m_db.sql(), id);
  });
}

Result<Template> TemplateRepo::get(const std::string& id) {
  return sql::guard("read template", [&]() -> Result<Template> {
    auto found = find(m_db.sql(), id);
    if (!found) return not_found(id);
    return *found;
  });
}

Result<Page<Template>> TemplateRepo::list(const PageQuery& page) {
  return sql::guard("list templates", [&]() -> Result<Page<Template>> {
    SQLite::Statement query(m_db.sql(), std::string(k_select) + " WHERE t.id > ? ORDER BY t.id LIMIT ? OFFSET ?");
    query.bind(1, page.after);
    sql::bind_page(query, 2, page);
    return sql::read_page(query, page, read_template, [](const Template& t) { return t.id; });
  });
}

Result<Template> TemplateRepo::update(const std::string& id, const std::optional<std::string>& name,
                                      const TemplateSource& content) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "update template", [&]() -> Result<Template> {
    auto existing = find(m_db.sql(), id);
    if (!existing) return not_found(id);
    if (name && name_used_by_other(m_db.sql(), *name, id)) return name_taken(*name);
    int next = existing->current_version + 1;
    insert_version(m_db.sql(), id, next, content, now_ms);
    SQLite::Statement update(m_db.sql(),
                             "UPDATE templates SET name = ?, current_version = ?, updated_at_ms = ? "
                             "WHERE id = ?");
    update.bind(1, name.value_or(existing->name));
    update.bind(2, next);
    update.bind(3, static_cast<std::int64_t>(now_ms));
    update.bind(4, id);
    update.exec();
    return *find(m_db.sql(), id);
  });
}

Result<std::vector<TemplateVersion>> TemplateRepo::versions(const std::string& id) {
  return sql::guard("list template versions", [&]() -> Result<std::vector<TemplateVersion>> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT subject, html, text, variables_json, created_at_ms, version "
                            "FROM template_versions WHERE template_id = ? ORDER BY version");
    query.bind(1, id);
    std::vector<TemplateVersion> list;
    while (query.executeStep())
      list.push_back({id, query.getColumn(5).getInt(), read_content(query, 0), query.getColumn(4).getInt64()});
    if (list.empty()) return not_found(id);
    return list;
  });
}

Result<TemplateVersion> TemplateRepo::version(const std::string& id, int version) {
  return sql::guard("read template version", [&]() -> Result<TemplateVersion> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT subject, html, text, variables_json, created_at_ms "
                            "FROM template_versions WHERE template_id = ? AND version = ?");
    query.bind(1, id);
    query.bind(2, version);
    if (!query.executeStep())
      return make_error(ErrorCode::not_found, fmt::format("template {} has no version {}", id, version));
    return TemplateVersion{id, version, read_content(query, 0), query.getColumn(4).getInt64()};
  });
}

Status TemplateRepo::remove(const std::string& id) {
  return sql::transaction(m_db, "delete template", [&]() -> Status {
    if (!find(m_db.sql(), id)) return not_found(id);
    SQLite::Statement busy(m_db.sql(),
                           "SELECT id FROM batches WHERE template_id = ? "
                           "AND status NOT IN ('completed', 'cancelled') LIMIT 1");
    busy.bind(1, id);
    if (busy.executeStep())
      return make_error(ErrorCode::conflict,
                        fmt::format("template {} is used by unfinished batch {}; cancel it or wait "
                                    "until it completes",
                                    id, busy.getColumn(0).getString()));
    // The job engine renders a transactional message from its template pin, so
    // one still waiting or in flight holds the template too. The first half
    // runs on the messages_claim index (priority 0 = transactional), the second
    // on messages_leased: no scan of the whole job table.
    SQLite::Statement pending(m_db.sql(),
                              "SELECT id FROM messages WHERE priority = 0 AND state = 'queued' AND paused = 0 "
                              "AND template_id = ?1 UNION ALL "
                              "SELECT id FROM messages WHERE state = 'sending' AND template_id = ?1 LIMIT 1");
    pending.bind(1, id);
    if (pending.executeStep())
      return make_error(ErrorCode::conflict,
                        fmt::format("template {} is used by message {} that is not sent yet; retry later", id,
                                    pending.getColumn(0).getString()));
    SQLite::Statement remove(m_db.sql(), "DELETE FROM templates WHERE id = ?");
    remove.bind(1, id);
    remove.exec();  // versions go with it (ON DELETE CASCADE)
    return {};
  });
}

}  // namespace mailer::store
