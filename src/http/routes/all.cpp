#include "mailer/http/routes.hpp"

namespace mailer::http {

void register_all_routes(Router& router) {
  register_health_routes(router);
  register_admin_key_routes(router);
  register_admin_webhook_routes(router);
  register_webhook_routes(router);
  register_unsubscribe_routes(router);
  register_template_routes(router);
  register_batch_routes(router);
  register_message_routes(router);
  register_event_routes(router);
  register_suppression_routes(router);
  register_admin_dlq_routes(router);
  register_admin_recipient_routes(router);
  register_admin_queue_routes(router);
  register_metrics_routes(router);
  register_admin_metrics_routes(router);
  register_me_routes(router);
  register_ui_routes(router);
}

}  // namespace mailer::http
