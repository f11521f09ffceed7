#pragma once
// One register function per resource (src/http/routes/<resource>.cpp). A
// helper adding a resource declares its function here and calls it from
// register_all_routes in src/http/routes/all.cpp.

#include <memory>

#include "mailer/http/router.hpp"

namespace mailer::sns {
class CertificateCache;
}

namespace mailer::http {

/// GET /health, GET /ready (no key).
void register_health_routes(Router& router);
/// GET/POST /v1/admin/keys, DELETE /v1/admin/keys/{id}, GET /v1/admin/keys/{id}/audit (admin).
void register_admin_key_routes(Router& router);
/// /v1/admin/webhooks… (admin): outgoing webhook endpoints, their test
/// deliveries, deliveries and replays.
void register_admin_webhook_routes(Router& router);
/// POST /webhooks/ses (no key; SNS signature). The overload takes the
/// certificate cache (and through it the fetcher), for tests; the plain one
/// fetches with libcurl.
void register_webhook_routes(Router& router);
void register_webhook_routes(Router& router, std::shared_ptr<sns::CertificateCache> certificates);
/// GET /u/{token} (confirmation page) and POST /u/{token} (RFC 8058 one-click), no key.
void register_unsubscribe_routes(Router& router);
/// /v1/templates… (read to view and render, send to create, edit and delete).
void register_template_routes(Router& router);
/// /v1/batches… (read to view, send to create, pause, resume and cancel).
void register_batch_routes(Router& router);
/// POST /v1/messages (send), GET /v1/messages/{id} (read).
void register_message_routes(Router& router);
/// GET /v1/events (read).
void register_event_routes(Router& router);
/// /v1/suppressions… (read to view, send to add, admin to delete).
void register_suppression_routes(Router& router);
/// GET/DELETE /v1/admin/dlq, POST /v1/admin/dlq/{id}/retry (admin).
void register_admin_dlq_routes(Router& router);
void register_admin_recipient_routes(Router& router);
/// GET /v1/admin/queue (admin).
void register_admin_queue_routes(Router& router);

/// GET /metrics (Prometheus text; a read key when metrics.public is false).
void register_metrics_routes(Router& router);
/// GET /v1/admin/metrics (admin).
void register_admin_metrics_routes(Router& router);

/// GET /ui (redirect), /ui/ and /ui/{file}: the dashboard's static files (no
/// key); 404 with ui.enabled = false.
void register_ui_routes(Router& router);
/// GET /v1/me (read): the calling key's id, name and scope.
void register_me_routes(Router& router);

/// Every route mailerd serves.
void register_all_routes(Router& router);

}  // namespace mailer::http
