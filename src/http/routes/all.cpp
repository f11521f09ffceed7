#include "mailer/http/routes.hpp"

namespace mailer::http {

void register_all_routes(Router& router) {
  register_health_routes(router);
  register_admin_key_routes(router);
  register_webhook_routes(router);
  register_unsubscribe_routes(router);
}

}  // namespace mailer::http
