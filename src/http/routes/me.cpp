// GET /v1/me: who the calling key is. A client that holds only a key (the
// dashboard) learns its scope here, to offer only the actions it may take.
#include <httplib.h>

#include "mailer/http/context.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/keys.hpp"

namespace mailer::http {

namespace {

void get_me(const httplib::Request&, httplib::Response& res, Context& context) {
  // NOTE: Access::read guarantees a key; the check keeps a bug from crashing.
  if (!context.key) return write_problem(res, make_error(ErrorCode::unauthorized, "no API key"));
  write_json(res, 200, service::to_json(*context.key));
}

}  // namespace

void register_me_routes(Router& router) { router.add({"GET", "/v1/me", Access::read, BodyKind::none, get_me}); }

}  // namespace mailer::http
