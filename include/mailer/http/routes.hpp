#pragma once
// One register function per resource (src/http/routes/<resource>.cpp). A
// helper adding a resource declares its function here and calls it from
// register_all_routes in src/http/routes/all.cpp.

#include "mailer/http/router.hpp"

namespace mailer::http {

/// GET /health, GET /ready (no key).
void register_health_routes(Router& router);
/// GET/POST /v1/admin/keys, DELETE /v1/admin/keys/{id}, GET /v1/admin/keys/{id}/audit (admin).
void register_admin_key_routes(Router& router);

/// GET /metrics (Prometheus text; a read key when metrics.public is false).
void register_metrics_routes(Router& router);
/// GET /v1/admin/metrics (admin).
void register_admin_metrics_routes(Router& router);

/// Every route mailerd serves.
void register_all_routes(Router& router);

}  // namespace mailer::http
