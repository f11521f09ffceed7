// mailerctl dlq list|retry|purge: the dead-letter queue, i.e. messages in state
// `failed` with their last error (SPEC §4). Retrying puts them back in the
// queue; a running mailerd picks them up at its next poll.

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/http/json_io.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::cli {
namespace {

struct ListOptions {
  int limit = 50;
  std::string cursor;
};

void list_dlq(CtlContext& ctx, const ListOptions& options) {
  auto db = open_database(ctx, AutoMigrate::if_configured);
  if (!db) return;
  SystemClock clock;
  auto page = store::MessageRepo(*db, clock).list_dlq(options.limit, options.cursor);
  if (!page) return ctx.fail(page.error(), page.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json) {
    auto data = nlohmann::json::array();
    for (const auto& e : page->entries) data.push_back(http::json_io::to_json(e));
    return print_json({{"data", data}, {"next_cursor", page->next_cursor}});
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : page->entries)
    rows.push_back({e.id, e.batch_id.value_or("-"), e.email, std::to_string(e.attempts), format_rfc3339(e.failed_at_ms),
                    e.last_error_code, e.last_error});
  print_table({"ID", "BATCH", "EMAIL", "ATTEMPTS", "FAILED", "CODE", "ERROR"}, rows);
  if (!page->next_cursor.empty()) std::cout << "more: mailerctl dlq list --cursor " << page->next_cursor << "\n";
}

// The ids that are not failed messages, each with why, so a typo is reported
// instead of silently retrying fewer messages than asked.
std::vector<FieldError> not_in_dlq(store::Database& db, const Clock& clock, const std::vector<std::string>& ids) {
  std::vector<FieldError> problems;
  store::MessageRepo messages(db, clock);
  for (const auto& id : ids) {
    auto message = messages.message(id);
    if (!message) problems.push_back({id, message.error().detail});
    else if (message->state != "failed") problems.push_back({id, "not in the DLQ (state " + message->state + ")"});
  }
  return problems;
}

void retry_dlq(CtlContext& ctx, const std::vector<std::string>& ids, bool all) {
  if (all == !ids.empty())
    return ctx.fail(make_error(ErrorCode::invalid_input, "dlq retry: give message ids or --all (not both)"),
                    k_exit_usage);
  auto db = open_database(ctx, AutoMigrate::if_configured);
  if (!db) return;
  SystemClock clock;
  store::MessageRepo messages(*db, clock);
  std::vector<FieldError> problems;
  Result<int> moved = 0;
  if (all) {
    moved = messages.retry_dlq_all();
  } else {
    problems = not_in_dlq(*db, clock, ids);
    moved = messages.retry_dlq(ids);
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

void purge_dlq(CtlContext& ctx, const std::string& older_than) {
  std::optional<std::int64_t> age_ms = 0;
  if (!older_than.empty()) age_ms = parse_age_ms(older_than);  // the syntax of the API's older_than
  if (!age_ms)
    return ctx.fail(make_error(ErrorCode::invalid_input,
                               fmt::format("--older-than {}: expected an age such as {}", older_than, k_age_examples)),
                    k_exit_usage);
  auto db = open_database(ctx, AutoMigrate::if_configured);
  if (!db) return;
  SystemClock clock;
  // Without --older-than everything failed until now goes (+1: failed_at < cutoff).
  std::int64_t cutoff = to_ms(clock.now()) - *age_ms + (older_than.empty() ? 1 : 0);
  auto purged = store::MessageRepo(*db, clock).purge_dlq(cutoff);
  if (!purged) return ctx.fail(purged.error());
  if (ctx.json) return print_json({{"purged", *purged}, {"failed_before", format_rfc3339(cutoff)}});
  std::cout << "Purged " << *purged << " failed message(s)"
            << (older_than.empty() ? std::string() : " that failed before " + format_rfc3339(cutoff)) << ".\n";
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
  auto* purge = dlq->add_subcommand("purge", "Delete failed messages for good");
  purge->add_option("--older-than", *older_than,
                    fmt::format("Only those that failed longer ago than this age ({})", k_age_examples));
  purge->callback([&ctx, older_than] { purge_dlq(ctx, *older_than); });
}

}  // namespace mailer::cli
