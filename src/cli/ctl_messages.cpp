// mailerctl messages show ID: GET /v1/messages/{id} from the database file,
// a bulk or a transactional message with its events.

#include <iostream>
#include <memory>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/messages.hpp"

namespace mailer::cli {
namespace {

void print_message(const store::Message& m) {
  print_table({"FIELD", "VALUE"}, {{"id", m.id},
                                   {"batch", m.batch_id.value_or("-")},
                                   {"kind", store::to_string(m.kind)},
                                   {"status", std::string(store::to_string(m.state)) + (m.paused ? " (paused)" : "")},
                                   {"email", printable(m.email)},
                                   {"attempts", std::to_string(m.attempts)},
                                   {"run_at", format_rfc3339(m.run_at_ms)},
                                   {"last_error", printable(m.last_error.value_or("-"))},
                                   {"ses_message_id", printable(m.ses_message_id.value_or("-"))},
                                   {"created", format_rfc3339(m.created_at_ms)},
                                   {"sent", format_time(m.sent_at_ms)},
                                   {"failed", format_time(m.failed_at_ms)}});
  std::cout << "\n";
  print_events(m.events);
}

void show_message(CtlContext& ctx, const std::string& id) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  SystemClock clock;
  auto message = service::MessageService(*db, clock).get_message(id);
  if (!message) return ctx.fail(message.error());
  if (ctx.json) return print_json(service::to_json(*message));
  print_message(*message);
}

}  // namespace

void add_messages_commands(CLI::App& app, CtlContext& ctx) {
  auto* messages = app.add_subcommand("messages", "Inspect single messages");
  messages->require_subcommand(1);
  auto id = std::make_shared<std::string>();
  auto* show = messages->add_subcommand("show", "A message's state, attempts, last error and events");
  show->add_option("ID", *id, "Message id (msg_...)")->required();
  show->callback([&ctx, id] { show_message(ctx, *id); });
}

}  // namespace mailer::cli
