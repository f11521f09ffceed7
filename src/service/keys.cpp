#include "mailer/service/keys.hpp"

#include "mailer/core/json.hpp"

namespace mailer::service {

Result<store::CreatedKey> KeyService::create(const std::string& name, store::Scope scope, const std::string& actor) {
  return store::KeyRepo(m_db, m_clock).create(name, scope, actor);
}

Result<std::vector<store::ApiKey>> KeyService::list() { return store::KeyRepo(m_db, m_clock).list(); }

Result<store::ApiKey> KeyService::revoke(const std::string& id, const std::string& actor) {
  return store::KeyRepo(m_db, m_clock).revoke(id, actor);
}

Result<KeyAudit> KeyService::audit(const std::string& id) {
  store::KeyRepo keys(m_db, m_clock);
  auto key = keys.get(id);
  if (!key) return std::move(key).error();
  auto entries = keys.audit(key->id);
  if (!entries) return std::move(entries).error();
  return KeyAudit{std::move(*key), std::move(*entries)};
}

nlohmann::json to_json(const store::ApiKey& key) {
  return {{"id", key.id},
          {"name", key.name},
          {"scope", store::to_string(key.scope)},
          {"prefix", key.prefix},
          {"created_at", format_rfc3339(key.created_at_ms)},
          {"revoked_at", json_time(key.revoked_at_ms)},
          {"last_used_at", json_time(key.last_used_at_ms)},
          {"use_count", key.use_count}};
}

nlohmann::json to_json(const store::AuditEntry& entry) {
  return {{"id", entry.id}, {"action", entry.action}, {"actor", entry.actor}, {"at", format_rfc3339(entry.at_ms)}};
}

}  // namespace mailer::service
