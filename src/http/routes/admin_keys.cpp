// Admin API for keys (SPEC §7): the same operations as `mailerctl keys`, with
// the calling key recorded as the actor in the audit trail (service::KeyService).
#include <httplib.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/keys.hpp"

namespace mailer::http {

namespace {

struct NewKey {
  std::string name;
  store::Scope scope = store::Scope::read;
};

Result<NewKey> parse_new_key(const std::string& body) {
  auto json = parse_json_object(body);
  if (!json) return std::move(json).error();
  NewKey out;
  FieldErrors fields;
  // A misspelt or unsupported member (say "expires_at") must not quietly make
  // a key other than the one asked for.
  for (const auto& [member, value] : json->items())
    if (member != "name" && member != "scope") fields.push_back({member, "unknown field"});
  // NOTE: value() copies; find() iterators trip g++ 12's -Wnull-dereference here.
  auto name = json->value("name", nlohmann::json());
  if (!name.is_string() || name.get<std::string>().empty()) {
    fields.push_back({"name", "required: a non-empty string"});
  } else {
    out.name = name.get<std::string>();
  }
  auto scope = json->value("scope", nlohmann::json());
  auto parsed = scope.is_string() ? store::parse_scope(scope.get<std::string>()) : std::nullopt;
  if (scope.is_string() && !parsed) {
    const auto& given = scope.get_ref<const std::string&>();
    fields.push_back({"scope", "unknown scope " + text::quote_outside(given) + "; one of read, send, admin"});
  } else if (!parsed) {
    fields.push_back({"scope", "required: one of read, send, admin"});
  } else {
    out.scope = *parsed;
  }
  if (!fields.empty()) return Error{ErrorCode::invalid_input, "invalid key request", std::move(fields)};
  return out;
}

void list_keys(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto keys = service::KeyService(**db, context.deps.clock).list();
  if (!keys) return write_problem(res, keys.error());
  auto data = nlohmann::json::array();
  for (const auto& key : *keys) data.push_back(service::to_json(key));
  // FIXME: keys are few; paginate like the other lists once KeyRepo takes a cursor.
  write_json(res, 200, {{"data", std::move(data)}, {"next_cursor", nullptr}});
}

void create_key(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = parse_new_key(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto created = service::KeyService(**db, context.deps.clock).create(input->name, input->scope, context.actor());
  if (!created) return write_problem(res, created.error());
  auto body = service::to_json(created->key);
  body["key"] = created->secret;  // shown once; only its hash is stored
  res.set_header("Location", "/v1/admin/keys/" + created->key.id);
  write_json(res, 201, body);
}

void revoke_key(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto revoked = service::KeyService(**db, context.deps.clock).revoke(context.param("id"), context.actor());
  if (!revoked) return write_problem(res, revoked.error());
  write_json(res, 200, service::to_json(*revoked));
}

void key_audit(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto audit = service::KeyService(**db, context.deps.clock).audit(context.param("id"));
  if (!audit) return write_problem(res, audit.error());
  auto data = nlohmann::json::array();
  for (const auto& entry : audit->entries) data.push_back(service::to_json(entry));
  write_json(res, 200, {{"key", service::to_json(audit->key)}, {"data", std::move(data)}, {"next_cursor", nullptr}});
}

}  // namespace

void register_admin_key_routes(Router& router) {
  router.add({"GET", "/v1/admin/keys", Access::admin, BodyKind::none, list_keys});
  router.add({"POST", "/v1/admin/keys", Access::admin, BodyKind::json, create_key, Idempotency::keyed_no_secret});
  router.add({"DELETE", "/v1/admin/keys/{id}", Access::admin, BodyKind::none, revoke_key});
  router.add({"GET", "/v1/admin/keys/{id}/audit", Access::admin, BodyKind::none, key_audit});
}

}  // namespace mailer::http
