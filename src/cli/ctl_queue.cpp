// mailerctl queue: GET /v1/admin/queue from the database file. mailerctl is
// not the engine, so what only the running mailerd knows (its workers, the
// SES quota it last read) stays null; in_flight and the send rate come from
// the database instead: messages in state `sending`, and SENT events over the
// last minute.

#include <iostream>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/store/event_archive.hpp"

namespace mailer::cli {
namespace {

constexpr std::int64_t k_rate_window_ms = 60'000;

Result<service::QueueStatus> queue_status(store::Database& db, const Clock& clock) {
  auto queue = service::read_queue_status(db, clock);
  if (!queue) return queue;
  auto sending = queue->depth.find("sending");
  queue->in_flight = sending == queue->depth.end() ? 0 : sending->second;
  auto sent = store::count_events_since(db, "SENT", to_ms(clock.now()) - k_rate_window_ms);
  if (!sent) return sent.error();
  queue->send_rate_per_second = static_cast<double>(*sent) * 1000.0 / k_rate_window_ms;
  return queue;
}

void show_queue(CtlContext& ctx) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto queue = queue_status(*db, clock);
  if (!queue) return ctx.fail(queue.error());
  if (ctx.json) return print_json(service::to_json(*queue));
  std::vector<std::vector<std::string>> rows;
  for (const auto& [state, count] : queue->depth) rows.push_back({state, std::to_string(count)});
  if (rows.empty()) rows.push_back({"-", "0"});
  print_table({"STATE", "MESSAGES"}, rows);
  std::cout << "\nin flight: " << queue->in_flight.value_or(0)
            << fmt::format("\nsend rate: {:.1f}/s over the last minute", queue->send_rate_per_second.value_or(0))
            << "\nsent in the last 24 h: " << queue->sent_24h << "\n";
}

}  // namespace

void add_queue_commands(CLI::App& app, CtlContext& ctx) {
  app.add_subcommand("queue", "Messages by state, in flight and the send rate of the last minute")->callback([&ctx] {
    show_queue(ctx);
  });
}

}  // namespace mailer::cli
