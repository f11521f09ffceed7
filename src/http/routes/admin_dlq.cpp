// The dead-letter queue (SPEC §3 Admin, §4): messages that failed for good.
// An operator lists them, sends one back to the queue, or purges old ones;
// the same operations as `mailerctl dlq`, through service::DlqService.
#include <httplib.h>

#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/dlq.hpp"
#include "mailer/store/status.hpp"

namespace mailer::http {

namespace {

void list_dlq(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto page = json_io::parse_page_params(req.params);
  if (!page) return write_problem(res, page.error());
  if (page->offset) {
    // NOTE: the DLQ shrinks as entries are retried, so offsets would skip rows.
    return write_problem(res, Error{ErrorCode::invalid_input,
                                    "invalid paging parameters",
                                    {{"offset", "not supported on the DLQ; use cursor"}}});
  }
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto listed = service::DlqService(**db, context.deps.clock)
                    .list(page->limit.value_or(service::k_default_page_limit), page->cursor);
  if (!listed) return write_problem(res, listed.error());
  write_json(res, 200, json_io::page_json(listed->entries, listed->next_cursor));
}

void retry_dlq(const httplib::Request&, httplib::Response& res, Context& context) {
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  const auto& id = context.param("id");
  auto moved = service::DlqService(**db, context.deps.clock).retry({id});
  if (!moved) return write_problem(res, moved.error());
  if (moved->retried.empty()) {
    // The id is the caller's path segment, up to the URI limit: shortened where echoed.
    const auto shown = text::shorten(id);
    const auto& why = moved->not_retried.front().message;
    return write_problem(res, Error{ErrorCode::not_found, shown + ": " + why, {{shown, why}}});
  }
  if (context.deps.on_enqueued) context.deps.on_enqueued();
  write_json(res, 200, {{"id", id}, {"status", store::to_string(store::MessageState::queued)}});
}

// `all=true` stands for "no cut-off", so a bare DELETE never empties the DLQ.
Result<service::DlqPurgeScope> parse_purge_scope(const httplib::Request& req, std::int64_t now_ms) {
  service::DlqPurgeScope scope;
  if (auto all = json_io::query_value(req.params, "all")) {
    if (*all != "true") return Error{ErrorCode::invalid_input, "invalid all", {{"all", "must be true when given"}}};
    scope.all = true;
  }
  if (auto older_than = json_io::query_value(req.params, "older_than")) {
    auto cutoff = json_io::parse_older_than(older_than, now_ms);
    if (!cutoff) return std::move(cutoff).error();
    scope.failed_before_ms = *cutoff;
  }
  return scope;
}

void purge_dlq(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto scope = parse_purge_scope(req, to_ms(context.deps.clock.now()));
  if (!scope) return write_problem(res, scope.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto purged = service::DlqService(**db, context.deps.clock).purge(*scope);
  if (!purged) return write_problem(res, purged.error());
  write_json(res, 200, {{"purged", *purged}, {"older_than", json_time(scope->failed_before_ms)}});
}

}  // namespace

void register_admin_dlq_routes(Router& router) {
  router.add({"GET", "/v1/admin/dlq", Access::admin, BodyKind::none, list_dlq});
  router.add({"POST", "/v1/admin/dlq/{id}/retry", Access::admin, BodyKind::none, retry_dlq});
  router.add({"DELETE", "/v1/admin/dlq", Access::admin, BodyKind::none, purge_dlq});
}

}  // namespace mailer::http
