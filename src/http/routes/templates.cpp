// Templates (SPEC §3): CRUD, immutable versions and the render preview. The
// rules (compilation, unique names, in-use deletes) live in TemplateService.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/templates.hpp"

namespace mailer::http {

namespace {

void create_template(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_template_input(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto created = service::TemplateService(**db, context.deps.clock).create(*input);
  if (!created) return write_problem(res, created.error());
  res.set_header("Location", "/v1/templates/" + created->id);
  write_json(res, 201, json_io::to_json(*created));
}

void list_templates(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = service::TemplateService(**db, context.deps.clock).list(*page);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->data, listed->next_cursor));
}

void get_template(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto found = service::TemplateService(**db, context.deps.clock).get(context.param("id"));
  if (!found) return write_problem(res, found.error());
  write_json(res, 200, json_io::to_json(*found));
}

void update_template(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_template_input(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto updated = service::TemplateService(**db, context.deps.clock).update(context.param("id"), *input);
  if (!updated) return write_problem(res, updated.error());
  write_json(res, 200, json_io::to_json(*updated));
}

void delete_template(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto removed = service::TemplateService(**db, context.deps.clock).remove(context.param("id"));
  if (!removed) return write_problem(res, removed.error());
  res.status = 204;
}

void template_versions(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto versions = service::TemplateService(**db, context.deps.clock).versions(context.param("id"));
  if (!versions) return write_problem(res, versions.error());
  // Versions of one template are few (one per edit): one page.
  write_json(res, 200, json_io::page_json(*versions, ""));
}

void render_template(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto input = json_io::parse_render_request(req.body);
  if (!input) return write_problem(res, input.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto rendered = service::TemplateService(**db, context.deps.clock, context.deps.templates)
                      .render_preview(context.param("id"), input->variables, input->version);
  if (!rendered) return write_problem(res, rendered.error());
  write_json(res, 200, json_io::to_json(*rendered));
}

}  // namespace

void register_template_routes(Router& router) {
  router.add({"POST", "/v1/templates", Access::send, BodyKind::json, create_template, Idempotency::keyed});
  router.add({"GET", "/v1/templates", Access::read, BodyKind::none, list_templates});
  router.add({"GET", "/v1/templates/{id}", Access::read, BodyKind::none, get_template});
  router.add({"PUT", "/v1/templates/{id}", Access::send, BodyKind::json, update_template});
  router.add({"DELETE", "/v1/templates/{id}", Access::send, BodyKind::none, delete_template});
  router.add({"GET", "/v1/templates/{id}/versions", Access::read, BodyKind::none, template_versions});
  router.add({"POST", "/v1/templates/{id}/render", Access::read, BodyKind::json, render_template});
}

}  // namespace mailer::http
