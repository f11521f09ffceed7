// The dead-letter queue (SPEC §3 Admin, §4): messages that failed for good.
// An operator lists them, sends one back to the queue, or purges old ones;
// the same operations as `mailerctl dlq`.
#include <httplib.h>

#include "mailer/core/clock.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::http {

namespace {

void list_dlq(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  if (page->offset) {
    // NOTE: the DLQ shrinks as entries are retried, so offsets would skip rows.
    return write_problem(res, Error{ErrorCode::invalid_input, "invalid paging parameters",
                                    {{"offset", "not supported on the DLQ; use cursor"}}});
  }
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = store::MessageRepo(**db, context.deps.clock)
                    .list_dlq(page->limit.value_or(service::k_default_page_limit), page->cursor);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->entries, listed->next_cursor));
}

void retry_dlq(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  const auto& id = context.param("id");
  auto moved = store::MessageRepo(**db, context.deps.clock).retry_dlq({id});
  if (!moved) return write_problem(res, moved.error());
  if (*moved == 0) return write_problem(res, make_error(ErrorCode::not_found, "no failed message " + id + " in the DLQ"));
  if (context.deps.on_enqueued) context.deps.on_enqueued();
  write_json(res, 200, {{"id", id}, {"status", "queued"}});
}

void purge_dlq(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto cutoff = json_io::parse_older_than(json_io::query_value(req.params, "older_than"),
                                          to_ms(context.deps.clock.now()));
  if (!cutoff) return write_problem(res, cutoff.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto purged = store::MessageRepo(**db, context.deps.clock).purge_dlq(*cutoff);
  if (!purged) return write_problem(res, purged.error());
  write_json(res, 200, {{"purged", *purged}, {"older_than", format_rfc3339(*cutoff)}});
}

}  // namespace

void register_admin_dlq_routes(Router& router) {
  router.add({"GET", "/v1/admin/dlq", Access::admin, BodyKind::none, list_dlq});
  router.add({"POST", "/v1/admin/dlq/{id}/retry", Access::admin, BodyKind::none, retry_dlq});
  router.add({"DELETE", "/v1/admin/dlq", Access::admin, BodyKind::none, purge_dlq});
}

}  // namespace mailer::http
