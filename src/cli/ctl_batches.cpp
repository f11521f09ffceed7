// mailerctl batches list|show|watch|pause|resume|cancel (SPEC §3, §8): the same
// service calls as /v1/batches, for an operator at the database file.

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "cli/ctl_progress.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/service/engagement.hpp"

namespace mailer::cli {
namespace {

nlohmann::json batch_json(const store::Batch& b) { return service::to_json(b); }

std::string count(const store::Batch& b, store::MessageState state) {
  return std::to_string(store::count_of(b.state_counts, state));
}

struct ListOptions {
  std::string status;
  int limit = 50;
  std::string cursor;
};

void list_batches(CtlContext& ctx, const ListOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  std::optional<std::string> status;
  if (!options.status.empty()) status = options.status;
  auto page = service::BatchService(*db, clock).list({options.limit, options.cursor, {}}, status);
  if (!page)
    return ctx.fail(page.error(), page.error().code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure);
  if (ctx.json) return print_page(page->data, batch_json, page->next_cursor);
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : page->data)
    rows.push_back({b.id, store::to_string(b.status), std::to_string(b.accepted_count),
                    count(b, store::MessageState::queued), count(b, store::MessageState::sent),
                    count(b, store::MessageState::failed), std::to_string(b.suppressed_count),
                    format_rfc3339(b.created_at_ms)});
  print_table({"ID", "STATUS", "ACCEPTED", "QUEUED", "SENT", "FAILED", "SUPPRESSED", "CREATED"}, rows);
  print_more("batches list", page->next_cursor);
}

void print_counts(const char* title, const std::map<std::string, std::int64_t>& counts) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& [name, n] : counts) rows.push_back({name, std::to_string(n)});
  if (rows.empty()) rows.push_back({"-", "0"});
  std::cout << "\n";
  print_table({title, "COUNT"}, rows);
}

// "66.7%", or "-" for a rate with nothing to divide by.
std::string percent(const std::optional<double>& rate) {
  return rate ? fmt::format("{:.1f}%", *rate * 100.0) : std::string("-");
}

void print_engagement(const store::Batch& b) {
  const auto& c = b.engagement;
  auto rates = service::engagement_rates(c);
  std::cout << "\n";
  print_table({"ENGAGEMENT", "COUNT", "RATE"},
              {{"sent", std::to_string(c.sent), ""},
               {"delivered", std::to_string(c.delivered), ""},
               {"opened (unique)", std::to_string(c.unique_opens), percent(rates.open_rate)},
               {"opens", std::to_string(c.opens), ""},
               {"clicked (unique)", std::to_string(c.unique_clicks), percent(rates.click_rate)},
               {"clicks", std::to_string(c.clicks), ""},
               {"hard bounces", std::to_string(c.hard_bounces), percent(rates.bounce_rate)},
               {"bounces", std::to_string(c.bounces), ""},
               {"complaints", std::to_string(c.complaints), percent(rates.complaint_rate)}});
  if (b.top_links.empty()) return;
  std::vector<std::vector<std::string>> rows;
  for (const auto& l : b.top_links)
    rows.push_back({printable(l.link), std::to_string(l.unique_clicks), std::to_string(l.clicks)});
  std::cout << "\n";
  print_table({"TOP LINK", "UNIQUE", "CLICKS"}, rows);
}

void print_batch(const store::Batch& b) {
  bool paused = b.pause_reason && b.status == store::BatchStatus::paused;
  std::string status = store::to_string(b.status) + (paused ? " (" + *b.pause_reason + ")" : std::string());
  std::string content = b.template_id ? fmt::format("{} v{}", *b.template_id, b.template_version.value_or(0))
                                      : std::string("inline content");
  std::vector<std::vector<std::string>> rows{{"id", b.id},
                                             {"status", status},
                                             {"template", content},
                                             {"from", b.from_address},
                                             {"send_at", format_time(b.send_at_ms)},
                                             {"send_before", format_time(b.send_before_ms)}};
  if (b.configuration_set) rows.push_back({"configuration_set", *b.configuration_set});
  // Who handles unsubscribing matters when reading a batch's headers.
  if (b.contact_list_name)
    rows.push_back({"list_management", *b.contact_list_name + (b.topic_name ? " / topic " + *b.topic_name : "")});
  for (auto& row : std::vector<std::vector<std::string>>{{"accepted", std::to_string(b.accepted_count)},
                                                         {"duplicate", std::to_string(b.duplicate_count)},
                                                         {"suppressed", std::to_string(b.suppressed_count)},
                                                         {"invalid", std::to_string(b.invalid_count)},
                                                         {"created", format_rfc3339(b.created_at_ms)},
                                                         {"completed", format_time(b.completed_at_ms)}})
    rows.push_back(std::move(row));
  print_table({"FIELD", "VALUE"}, rows);
  print_counts("STATE", b.state_counts);
  print_counts("EVENT", b.event_counts);
  print_engagement(b);
}

void show_batch(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto batch = service::BatchService(*db, clock).get(id);
  if (!batch) return ctx.fail(batch.error());
  if (ctx.json) return print_json(batch_json(*batch));
  print_batch(*batch);
}

void watch_batch(CtlContext& ctx, const std::string& id, const WatchOptions& watch) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  follow_to_end(ctx, *db, id, watch);
}

enum class Action { pause, resume, cancel };

void change_batch(CtlContext& ctx, Action action, const std::string& id, const std::string& reason) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::BatchService batches(*db, clock);
  auto batch = action == Action::pause    ? batches.pause(id, reason)
               : action == Action::resume ? batches.resume(id)
                                          : batches.cancel(id);
  if (!batch) return ctx.fail(batch.error());
  if (ctx.json) return print_json(batch_json(*batch));
  std::cout << "Batch " << batch->id << " is " << store::to_string(batch->status)
            << (action == Action::cancel
                    ? fmt::format(" ({} messages cancelled)", count(*batch, store::MessageState::cancelled))
                    : std::string())
            << ".\n";
}

void add_change(CLI::App& batches, CtlContext& ctx, const char* name, const char* help, Action action) {
  auto id = std::make_shared<std::string>();
  auto reason = std::make_shared<std::string>();
  auto* command = batches.add_subcommand(name, help);
  command->add_option("ID", *id, "Batch id (bat_...)")->required();
  if (action == Action::pause) command->add_option("--reason", *reason, "Shown in batches show");
  command->callback([&ctx, action, id, reason] { change_batch(ctx, action, *id, *reason); });
}

}  // namespace

void add_batches_commands(CLI::App& app, CtlContext& ctx) {
  auto* batches = app.add_subcommand("batches", "List, inspect, watch, pause, resume and cancel batches");
  batches->require_subcommand(1);

  auto options = std::make_shared<ListOptions>();
  auto* list = batches->add_subcommand("list", "List batches, newest first");
  list->add_option("--status", options->status, "Only batches with this status")
      ->check(CLI::IsMember(store::batch_status_names()));
  list->add_option("--limit", options->limit, "At most this many (1-1000, default 50)")->check(CLI::Range(1, 1000));
  list->add_option("--cursor", options->cursor, "Continue from a previous page's next_cursor");
  list->callback([&ctx, options] { list_batches(ctx, *options); });

  auto show_id = std::make_shared<std::string>();
  auto* show = batches->add_subcommand("show", "Status, counts per state and event type, pause reason");
  show->add_option("ID", *show_id, "Batch id (bat_...)")->required();
  show->callback([&ctx, show_id] { show_batch(ctx, *show_id); });

  auto watch_id = std::make_shared<std::string>();
  auto watch = std::make_shared<WatchOptions>(WatchOptions{.print_batch_json = true});
  auto* watch_command = batches->add_subcommand(
      "watch", "Follow a batch to completion: sent, failed, suppressed, rate, ETA (exit 1 if it is cancelled)");
  watch_command->add_option("ID", *watch_id, "Batch id (bat_...)")->required();
  add_watch_options(*watch_command, *watch);
  watch_command->callback([&ctx, watch_id, watch] { watch_batch(ctx, *watch_id, *watch); });

  add_change(*batches, ctx, "pause", "Stop sending a batch's queued messages", Action::pause);
  add_change(*batches, ctx, "resume", "Resume a paused batch", Action::resume);
  add_change(*batches, ctx, "cancel", "Cancel a batch's unsent messages", Action::cancel);
}

}  // namespace mailer::cli
