// Outgoing webhook endpoints (admin): the same operations as `mailerctl
// webhooks`, through service::WebhookService. The secret is in the answer
// of a create and of a PATCH with "rotate_secret": true, and nowhere else.
#include <httplib.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/webhooks.hpp"

namespace mailer::http {

namespace {

using nlohmann::json;

void string_member(const json& value, const std::string& name, std::optional<std::string>& out, FieldErrors& errors) {
  if (!value.is_string()) return errors.push_back({name, "must be a string"});
  out = value.get<std::string>();
}

void parse_event_types(const json& value, service::WebhookInput& input, FieldErrors& errors) {
  if (value.is_null()) return void(input.event_types = std::vector<std::string>{});
  if (!value.is_array()) return errors.push_back({"event_types", "must be an array of event types (empty: all)"});
  std::vector<std::string> types;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (!value[i].is_string()) errors.push_back({"event_types[" + std::to_string(i) + "]", "must be a string"});
    else types.push_back(value[i].get<std::string>());
  }
  input.event_types = std::move(types);
}

void parse_tags(const json& value, service::WebhookInput& input, FieldErrors& errors) {
  if (value.is_null()) return void(input.tags = std::map<std::string, std::string>{});
  if (!value.is_object()) return errors.push_back({"tags", "must be an object of name: value strings"});
  std::map<std::string, std::string> tags;
  for (const auto& [name, tag] : value.items()) {
    if (!tag.is_string()) errors.push_back({"tags." + text::shorten(name), "value must be a string"});
    else tags[name] = tag.get<std::string>();
  }
  input.tags = std::move(tags);
}

// The members of a create (`creating`) or a PATCH body; unknown members are
// refused, so a misspelt filter never widens what an endpoint receives.
Result<service::WebhookInput> parse_webhook_input(const std::string& body, bool creating) {
  auto parsed = parse_json_object(body);
  if (!parsed) return std::move(parsed).error();
  service::WebhookInput input;
  FieldErrors errors;
  for (const auto& [member, value] : parsed->items()) {
    if (member == "url") {
      string_member(value, "url", input.url, errors);
    } else if (member == "description") {
      string_member(value, "description", input.description, errors);
    } else if (member == "event_types") {
      parse_event_types(value, input, errors);
    } else if (member == "batch_id") {
      if (value.is_null()) input.batch_id = std::optional<std::string>();
      else if (value.is_string()) input.batch_id = std::optional<std::string>(value.get<std::string>());
      else errors.push_back({"batch_id", "must be a batch id or null"});
    } else if (member == "tags") {
      parse_tags(value, input, errors);
    } else if (member == "enabled") {
      if (!value.is_boolean()) errors.push_back({"enabled", "must be true or false"});
      else input.enabled = value.get<bool>();
    } else if (member == "rotate_secret" && !creating) {
      if (!value.is_boolean()) errors.push_back({"rotate_secret", "must be true or false"});
      else input.rotate_secret = value.get<bool>();
    } else {
      errors.push_back({text::shorten(member), "unknown field"});
    }
  }
  if (!errors.empty()) return Error{ErrorCode::invalid_input, "invalid webhook endpoint", std::move(errors)};
  return input;
}

// {"data": [...], "next_cursor": cursor or null}, as every list answers.
template <typename T>
json page(const std::vector<T>& items, const std::string& next_cursor) {
  auto data = json::array();
  for (const auto& item : items) data.push_back(service::to_json(item));
  return {{"data", std::move(data)}, {"next_cursor", next_cursor.empty() ? json(nullptr) : json(next_cursor)}};
}

service::WebhookService webhooks(store::Database& db, Context& context) {
  return service::WebhookService(db, context.deps.clock, context.deps.config.webhooks);
}

void changed(Context& context) {
  if (context.deps.on_webhooks_changed) context.deps.on_webhooks_changed();
}

void create_webhook(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = parse_webhook_input(req.body, true);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto created = webhooks(**db, context).create(*input);
  if (!created) return write_problem(res, created.error());
  changed(context);
  auto body = service::to_json(created->endpoint);
  body["secret"] = created->secret;  // shown once
  res.set_header("Location", "/v1/admin/webhooks/" + created->endpoint.id);
  write_json(res, 201, body);
}

void list_webhooks(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto paging = json_io::parse_page_params(req.params);
  if (!paging) return write_problem(res, paging.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = webhooks(**db, context).list(*paging);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, page(listed->data, listed->next_cursor));
}

void get_webhook(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto found = webhooks(**db, context).get(context.param("id"));
  if (!found) return write_problem(res, found.error());
  write_json(res, 200, service::to_json(*found));
}

void update_webhook(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = parse_webhook_input(req.body, false);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto updated = webhooks(**db, context).update(context.param("id"), *input);
  if (!updated) return write_problem(res, updated.error());
  changed(context);
  auto body = service::to_json(updated->endpoint);
  if (!updated->secret.empty()) body["secret"] = updated->secret;
  write_json(res, 200, body);
}

void delete_webhook(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  if (auto removed = webhooks(**db, context).remove(context.param("id")); !removed)
    return write_problem(res, removed.error());
  changed(context);
  res.status = 204;
}

void test_webhook(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto queued = webhooks(**db, context).test(context.param("id"));
  if (!queued) return write_problem(res, queued.error());
  changed(context);
  write_json(res, 202, service::to_json(*queued));
}

void list_deliveries(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto paging = json_io::parse_page_params(req.params);
  if (!paging) return write_problem(res, paging.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed =
      webhooks(**db, context).deliveries(context.param("id"), json_io::query_value(req.params, "status"), *paging);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, page(listed->data, listed->next_cursor));
}

void get_delivery(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto found = webhooks(**db, context).delivery(context.param("id"), context.param("delivery_id"));
  if (!found) return write_problem(res, found.error());
  auto body = service::to_json(found->first);
  body["attempt_log"] = json::array();
  for (const auto& attempt : found->second) body["attempt_log"].push_back(service::to_json(attempt));
  write_json(res, 200, body);
}

void replay_delivery(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto replayed = webhooks(**db, context).replay(context.param("id"), context.param("delivery_id"));
  if (!replayed) return write_problem(res, replayed.error());
  changed(context);
  write_json(res, 202, service::to_json(*replayed));
}

}  // namespace

void register_admin_webhook_routes(Router& router) {
  router.add(
      {"POST", "/v1/admin/webhooks", Access::admin, BodyKind::json, create_webhook, Idempotency::keyed_no_secret});
  router.add({"GET", "/v1/admin/webhooks", Access::admin, BodyKind::none, list_webhooks});
  router.add({"GET", "/v1/admin/webhooks/{id}", Access::admin, BodyKind::none, get_webhook});
  router.add({"PATCH", "/v1/admin/webhooks/{id}", Access::admin, BodyKind::json, update_webhook});
  router.add({"DELETE", "/v1/admin/webhooks/{id}", Access::admin, BodyKind::none, delete_webhook});
  router.add({"POST", "/v1/admin/webhooks/{id}/test", Access::admin, BodyKind::none, test_webhook});
  router.add({"GET", "/v1/admin/webhooks/{id}/deliveries", Access::admin, BodyKind::none, list_deliveries});
  router.add({"GET", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}", Access::admin, BodyKind::none, get_delivery});
  router.add({"POST", "/v1/admin/webhooks/{id}/deliveries/{delivery_id}/replay", Access::admin, BodyKind::none,
              replay_delivery});
}

}  // namespace mailer::http
