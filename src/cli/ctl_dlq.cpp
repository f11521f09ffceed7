// mailerctl dlq list|retry|purge: the dead-letter queue, i.e. messages in state
// `failed` with their last error (SPEC §4). Retrying puts them back in the
// queue; a running mailerd picks them up at its next poll. The rules (which
// ids are retried, what a purge needs) are service::DlqService's, shared with
// the HTTP API.

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/dlq.hpp"

namespace mailer::cli {
namespace {

struct ListOptions {
  int limit = 50;
  std::string cursor;
};

void list_dlq(CtlContext& ctx, const ListOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto page = service::DlqService(*db, clock).list(options.limit, options.cursor);
  if (!page)
    return ctx.fail(page.error(), page.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json)
    return print_page(
        page->entries, [](const auto& x) { return service::to_json(x); }, page->next_cursor);
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : page->entries)
    rows.push_back({e.id, e.batch_id.value_or("-"), e.email, std::to_string(e.attempts), format_rfc3339(e.failed_at_ms),
                    e.last_error_code, e.last_error});
  print_table({"ID", "BATCH", "EMAIL", "ATTEMPTS", "FAILED", "CODE", "ERROR"}, rows);
  print_more("dlq list", page->next_cursor);
}

void retry_dlq(CtlContext& ctx, const std::vector<std::string>& ids, bool all) {
  if (all == !ids.empty())
    return ctx.fail(make_error(ErrorCode::invalid_input, "dlq retry: give message ids or --all (not both)"),
                    k_exit_usage);
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::DlqService dlq(*db, clock);
  std::vector<FieldError> problems;
  Result<int> moved = 0;
  if (all) {
    moved = dlq.retry_all();
  } else if (auto retried = dlq.retry(ids)) {
    moved = static_cast<int>(retried->retried.size());
    problems = std::move(retried->not_retried);
  } else {
    moved = std::move(retried).error();
  }
  if (!moved) return ctx.fail(moved.error());
  if (ctx.json) {
    auto skipped = nlohmann::json::array();
    for (const auto& p : problems) skipped.push_back({{"id", p.field}, {"reason", p.message}});
    print_json({{"retried", *moved}, {"skipped", skipped}});
  } else {
    std::cout << "Requeued " << *moved << " message(s).\n";
  }
  if (!problems.empty())
    ctx.fail(Error{ErrorCode::not_found, fmt::format("{} of the given ids were not retried", problems.size()),
                   std::move(problems)});
}

// Purging every failed message cannot be undone: a person at a terminal
// confirms it, a script says --yes.
bool confirmed_purge_all(CtlContext& ctx, bool yes) {
  if (yes) return true;
  if (!stdin_is_terminal()) {
    ctx.fail(make_error(ErrorCode::invalid_input,
                        "dlq purge without --older-than deletes every failed message; give --yes to confirm "
                        "(or --older-than AGE)"),
             k_exit_usage);
    return false;
  }
  if (ask_yes_no("Delete every failed message for good?")) return true;
  ctx.fail(make_error(ErrorCode::invalid_input, "nothing purged: not confirmed"));
  return false;
}

void purge_dlq(CtlContext& ctx, const std::string& older_than, bool all, bool yes) {
  if (older_than.empty()) all = true;  // --all only says so explicitly
  if (all && !older_than.empty())
    return ctx.fail(make_error(ErrorCode::invalid_input, "dlq purge: give --older-than or --all, not both"),
                    k_exit_usage);
  if (all && !confirmed_purge_all(ctx, yes)) return;
  SystemClock clock;
  service::DlqPurgeScope scope{.all = all};
  if (!older_than.empty()) {
    // The syntax of the API's older_than; an age is never negative, so the
    // cut-off is never after now.
    auto age_ms = read_age_ms(older_than);
    if (!age_ms) {
      auto why = age_ms.error().code == ErrorCode::too_large
                     ? age_ms.error().detail
                     : fmt::format("expected an age such as {}", k_age_examples);
      return ctx.fail(make_error(ErrorCode::invalid_input, fmt::format("--older-than {}: {}", older_than, why)),
                      k_exit_usage);
    }
    scope.failed_before_ms = to_ms(clock.now()) - *age_ms;
  }
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  auto purged = service::DlqService(*db, clock).purge(scope);
  if (!purged)
    return ctx.fail(purged.error(), purged.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json) return print_json({{"purged", *purged}, {"older_than", json_time(scope.failed_before_ms)}});
  std::cout << "Purged " << *purged << " failed message(s)"
            << (all ? std::string() : " that failed before " + format_rfc3339(*scope.failed_before_ms)) << ".\n";
}

}  // namespace

void add_dlq_commands(CLI::App& app, CtlContext& ctx) {
  auto* dlq = app.add_subcommand("dlq", "List, retry and purge failed messages (the dead-letter queue)");
  dlq->require_subcommand(1);

  auto list_options = std::make_shared<ListOptions>();
  auto* list = dlq->add_subcommand("list", "List failed messages, oldest failure first");
  list->add_option("--limit", list_options->limit, "Rows per page (1-1000, default 50)")->check(CLI::Range(1, 1000));
  list->add_option("--cursor", list_options->cursor, "Continue after a previous page");
  list->callback([&ctx, list_options] { list_dlq(ctx, *list_options); });

  auto ids = std::make_shared<std::vector<std::string>>();
  auto all = std::make_shared<bool>(false);
  auto* retry = dlq->add_subcommand("retry", "Put failed messages back in the queue");
  auto* ids_option = retry->add_option("IDS", *ids, "Message ids (msg_...)");
  retry->add_flag("--all", *all, "Every failed message")->excludes(ids_option);
  retry->callback([&ctx, ids, all] { retry_dlq(ctx, *ids, *all); });

  auto older_than = std::make_shared<std::string>();
  auto purge_all = std::make_shared<bool>(false);
  auto yes = std::make_shared<bool>(false);
  auto* purge = dlq->add_subcommand(
      "purge", "Delete failed messages for good: those older than --older-than, else all (after confirmation)");
  purge->add_option("--older-than", *older_than,
                    fmt::format("Those that failed longer ago than this age ({})", k_age_examples));
  purge->add_flag("--all", *purge_all, "Every failed message (the default without --older-than)");
  purge->add_flag("--yes", *yes, "Purge every failed message without asking (needed when not on a terminal)");
  purge->callback([&ctx, older_than, purge_all, yes] { purge_dlq(ctx, *older_than, *purge_all, *yes); });
}

}  // namespace mailer::cli
