// mailerctl webhooks add|list|update|remove|test|deliveries|replay: the
// admin API's /v1/admin/webhooks on the database file. A running mailerd
// picks changes up within a second. `add` (and `update --rotate-secret`)
// print the signing secret once, alone on the last line.

#include <iostream>
#include <memory>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/service/webhooks.hpp"

namespace mailer::cli {
namespace {

struct EndpointOptions {
  std::string id;
  std::string url;
  std::string description;
  std::vector<std::string> event_types;
  bool all_events = false;
  std::string batch_id;
  bool no_batch = false;
  std::vector<std::string> tags;  // name=value
  bool no_tags = false;
  bool enable = false;
  bool disable = false;
  bool rotate_secret = false;
};

// The options given on the command line as a WebhookInput; `creating` takes
// every filter as given (absent: none).
Result<service::WebhookInput> to_input(const EndpointOptions& o, bool creating) {
  service::WebhookInput input;
  if (!o.url.empty()) input.url = o.url;
  if (!o.description.empty()) input.description = o.description;
  if (!o.event_types.empty()) input.event_types = o.event_types;
  if (o.all_events) input.event_types = std::vector<std::string>{};
  if (!o.batch_id.empty()) input.batch_id = std::optional<std::string>(o.batch_id);
  if (o.no_batch) input.batch_id = std::optional<std::string>();
  if (!o.tags.empty() || o.no_tags) {
    std::map<std::string, std::string> tags;
    for (const auto& tag : o.tags) {
      auto equals = tag.find('=');
      if (equals == std::string::npos || equals == 0)
        return Error{ErrorCode::invalid_input, "invalid --tag", {{"tag", "'" + tag + "': expected NAME=VALUE"}}};
      tags[tag.substr(0, equals)] = tag.substr(equals + 1);
    }
    input.tags = std::move(tags);
  }
  if (o.enable) input.enabled = true;
  if (o.disable) input.enabled = false;
  input.rotate_secret = o.rotate_secret && !creating;
  return input;
}

service::WebhookService webhooks(store::Database& db, CtlContext& ctx, const Clock& clock) {
  return service::WebhookService(db, clock, ctx.config.webhooks);
}

std::string filters_text(const store::WebhookEndpoint& e) {
  std::string out = e.event_types.empty() ? "all events" : "";
  for (std::size_t i = 0; i < e.event_types.size(); ++i) out += (i ? "," : "") + e.event_types[i];
  if (e.batch_id) out += " batch=" + *e.batch_id;
  for (const auto& [name, value] : e.tags) out += " " + name + "=" + value;
  return out;
}

void print_endpoint_with_secret(CtlContext& ctx, const service::EndpointWithSecret& done, const char* verb) {
  if (ctx.json) {
    auto out = service::to_json(done.endpoint);
    if (!done.secret.empty()) out["secret"] = done.secret;
    return print_json(out);
  }
  std::cout << verb << " webhook endpoint " << done.endpoint.id << " -> " << done.endpoint.url << " ("
            << filters_text(done.endpoint) << (done.endpoint.enabled ? "" : ", disabled") << ").\n";
  if (!done.secret.empty())
    std::cout << "Store the signing secret now; it is not shown again:\n" << done.secret << "\n";
}

void add_endpoint(CtlContext& ctx, const EndpointOptions& options) {
  auto input = to_input(options, true);
  if (!input) return ctx.fail(input.error());
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto created = webhooks(*db, ctx, clock).create(*input);
  if (!created) return ctx.fail(created.error());
  print_endpoint_with_secret(ctx, *created, "Created");
}

void update_endpoint(CtlContext& ctx, const EndpointOptions& options) {
  auto input = to_input(options, false);
  if (!input) return ctx.fail(input.error());
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto updated = webhooks(*db, ctx, clock).update(options.id, *input);
  if (!updated) return ctx.fail(updated.error());
  print_endpoint_with_secret(ctx, *updated, "Updated");
}

void list_endpoints(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto listed = webhooks(*db, ctx, clock).list();
  if (!listed) return ctx.fail(listed.error());
  if (ctx.json)
    return print_page(
        *listed, [](const auto& e) { return service::to_json(e); }, "");
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : *listed) {
    rows.push_back({e.id, e.url, filters_text(e), e.enabled ? "yes" : "no: " + e.disabled_reason.value_or(""),
                    format_time(e.last_success_at_ms), format_time(e.failing_since_ms)});
  }
  print_table({"ID", "URL", "EVENTS", "ENABLED", "LAST SUCCESS", "FAILING SINCE"}, rows);
}

void remove_endpoint(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  if (auto removed = webhooks(*db, ctx, clock).remove(id); !removed) return ctx.fail(removed.error());
  if (ctx.json) return print_json({{"id", id}, {"deleted", true}});
  std::cout << "Deleted webhook endpoint " << id << " and its deliveries.\n";
}

void print_delivery(CtlContext& ctx, const store::WebhookDelivery& d, const char* verb) {
  if (ctx.json) return print_json(service::to_json(d));
  std::cout << verb << " delivery whd_" << d.id << " to " << d.endpoint_id << " (" << d.event_count
            << " events); mailerd sends it within a second.\n";
}

void test_endpoint(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto queued = webhooks(*db, ctx, clock).test(id);
  if (!queued) return ctx.fail(queued.error());
  print_delivery(ctx, *queued, "Queued test");
}

struct DeliveriesOptions {
  std::string id;
  std::string status;
  int limit = service::k_default_page_limit;
  std::string cursor;
};

void list_deliveries(CtlContext& ctx, const DeliveriesOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  service::PageParams paging{options.limit, options.cursor, std::nullopt};
  auto status = options.status.empty() ? std::nullopt : std::optional<std::string>(options.status);
  auto listed = webhooks(*db, ctx, clock).deliveries(options.id, status, paging);
  if (!listed) return ctx.fail(listed.error());
  if (ctx.json)
    return print_page(
        listed->data, [](const auto& d) { return service::to_json(d); }, listed->next_cursor);
  std::vector<std::vector<std::string>> rows;
  for (const auto& d : listed->data) {
    rows.push_back({"whd_" + std::to_string(d.id), d.kind, store::to_string(d.status), std::to_string(d.event_count),
                    std::to_string(d.attempts),
                    d.last_status_code ? std::to_string(*d.last_status_code) : d.last_error.value_or("-"),
                    format_time(d.created_at_ms)});
  }
  print_table({"ID", "KIND", "STATUS", "EVENTS", "ATTEMPTS", "LAST ANSWER", "CREATED"}, rows);
  print_more("webhooks deliveries " + options.id, listed->next_cursor);
}

void replay_delivery(CtlContext& ctx, const std::string& id, const std::string& delivery_id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto replayed = webhooks(*db, ctx, clock).replay(id, delivery_id);
  if (!replayed) return ctx.fail(replayed.error());
  print_delivery(ctx, *replayed, "Replaying");
}

void add_filter_options(CLI::App* command, EndpointOptions& o) {
  command->add_option("--url", o.url, "Where to POST (https://; http:// with webhooks.allow_http)");
  command->add_option("--description", o.description, "What the endpoint is for");
  command->add_option("--event-type", o.event_types, "An event type to send (repeat; default every type)");
  command->add_option("--batch", o.batch_id, "Only events of this batch (bat_...)");
  command->add_option("--tag", o.tags, "Only events whose message has tag NAME=VALUE (repeat)");
}

}  // namespace

void add_webhooks_commands(CLI::App& app, CtlContext& ctx) {
  auto* group = app.add_subcommand("webhooks", "Manage outgoing webhook endpoints and their deliveries");
  group->require_subcommand(1);

  auto add_options = std::make_shared<EndpointOptions>();
  auto* add = group->add_subcommand("add", "Add an endpoint; prints its signing secret once, on the last line");
  add_filter_options(add, *add_options);
  add->get_option("--url")->required();
  add->add_flag("--disabled", add_options->disable, "Create it disabled");
  add->callback([&ctx, add_options] { add_endpoint(ctx, *add_options); });

  group->add_subcommand("list", "List endpoints (never their secrets)")->callback([&ctx] { list_endpoints(ctx); });

  auto update_options = std::make_shared<EndpointOptions>();
  auto* update = group->add_subcommand("update", "Change an endpoint; options not given stay as they are");
  update->add_option("ID", update_options->id, "Endpoint id (whk_...)")->required();
  add_filter_options(update, *update_options);
  update->add_flag("--all-events", update_options->all_events, "Send every event type again");
  update->add_flag("--no-batch", update_options->no_batch, "Drop the batch filter");
  update->add_flag("--no-tags", update_options->no_tags, "Drop the tag filter");
  auto* enable = update->add_flag("--enable", update_options->enable, "Enable (clears a disabled reason)");
  update->add_flag("--disable", update_options->disable, "Disable")->excludes(enable);
  update->add_flag("--rotate-secret", update_options->rotate_secret, "Make a new secret; printed once");
  update->callback([&ctx, update_options] { update_endpoint(ctx, *update_options); });

  auto remove_id = std::make_shared<std::string>();
  auto* remove = group->add_subcommand("remove", "Delete an endpoint with its deliveries");
  remove->add_option("ID", *remove_id, "Endpoint id (whk_...)")->required();
  remove->callback([&ctx, remove_id] { remove_endpoint(ctx, *remove_id); });

  auto test_id = std::make_shared<std::string>();
  auto* test = group->add_subcommand("test", "Queue a signed test delivery (type mailer.test)");
  test->add_option("ID", *test_id, "Endpoint id (whk_...)")->required();
  test->callback([&ctx, test_id] { test_endpoint(ctx, *test_id); });

  auto deliveries_options = std::make_shared<DeliveriesOptions>();
  auto* deliveries = group->add_subcommand("deliveries", "List an endpoint's deliveries, newest first");
  deliveries->add_option("ID", deliveries_options->id, "Endpoint id (whk_...)")->required();
  deliveries->add_option("--status", deliveries_options->status, "pending | delivered | failed")
      ->check(CLI::IsMember({"pending", "delivered", "failed"}));
  deliveries->add_option("--limit", deliveries_options->limit, "At most this many (1-1000)");
  deliveries->add_option("--cursor", deliveries_options->cursor, "From a previous page's next cursor");
  deliveries->callback([&ctx, deliveries_options] { list_deliveries(ctx, *deliveries_options); });

  auto replay_ids = std::make_shared<std::pair<std::string, std::string>>();
  auto* replay = group->add_subcommand("replay", "Send a delivered or failed delivery again (same webhook-id)");
  replay->add_option("ID", replay_ids->first, "Endpoint id (whk_...)")->required();
  replay->add_option("DELIVERY", replay_ids->second, "Delivery id (whd_...)")->required();
  replay->callback([&ctx, replay_ids] { replay_delivery(ctx, replay_ids->first, replay_ids->second); });
}

}  // namespace mailer::cli
