// Erasing an address (docs/API.md "Erasing an address"): every message,
// event, stored reply and webhook delivery naming it, through
// service::ErasureService, the same use case as `mailerctl erase`. Admin
// only: it destroys records for good.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/erasure.hpp"

namespace mailer::http {

namespace {

// `hash_suppression=true` keeps a suppression as a hash; absent or false keeps it as it is.
Result<store::SuppressionHashing> parse_hashing(const httplib::Request& req) {
  auto value = json_io::query_value(req.params, "hash_suppression");
  if (!value || *value == "false") return store::SuppressionHashing::keep;
  if (*value == "true") return store::SuppressionHashing::hash;
  return Error{
      ErrorCode::invalid_input, "invalid hash_suppression", {{"hash_suppression", "must be true or false when given"}}};
}

void erase_recipient(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto hashing = parse_hashing(req);
  if (!hashing) return write_problem(res, hashing.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto erased =
      service::ErasureService(**db, context.deps.clock).erase(context.param("email"), *hashing, context.actor());
  if (!erased) return write_problem(res, erased.error());
  write_json(res, 200, service::to_json(*erased));
}

}  // namespace

void register_admin_recipient_routes(Router& router) {
  router.add({"DELETE", "/v1/admin/recipients/{email}", Access::admin, BodyKind::none, erase_recipient});
}

}  // namespace mailer::http
