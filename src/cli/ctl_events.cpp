// mailerctl events list|export. `list` is GET /v1/events with the same
// filters and pages; `export` writes every event of a time range as JSON
// lines (the API's event object, one per line), optionally gzip-compressed,
// for archiving before retention prunes them. An export reads one snapshot of
// the database a page at a time, so it runs in bounded memory beside a busy
// mailerd, and lands in --output only once complete (temporary file + rename).

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "cli/cli11.hpp"

#include "cli/ctl_common.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/service/events.hpp"
#include "mailer/store/events.hpp"

namespace mailer::cli {
namespace {

struct ListOptions {
  std::string type;
  std::string batch_id;
  std::string message_id;
  std::string email;
  std::string ses_message_id;
  std::string since;
  std::string until;
  int limit = 50;
  std::string cursor;
};

struct ExportOptions {
  std::string since;
  std::string until;
  std::string type;
  std::string output;  // "" = stdout
  bool gzip = false;
};

std::optional<std::string> given(const std::string& value) {
  return value.empty() ? std::nullopt : std::optional<std::string>(value);
}

// The service names query fields ("ses_message_id"); an operator typed flags.
Error with_flag_names(Error error) {
  for (auto& field : error.fields) {
    std::string flag = "--" + field.field;
    std::replace(flag.begin(), flag.end(), '_', '-');
    field.field = std::move(flag);
  }
  return error;
}

int exit_code_for(const Error& error) { return error.code == ErrorCode::invalid_input ? k_exit_usage : k_exit_failure; }

void list_events(CtlContext& ctx, const ListOptions& o) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  service::EventQuery query{given(o.type),  given(o.batch_id), given(o.message_id), given(o.ses_message_id),
                            given(o.email), given(o.since),    given(o.until),      {o.limit, o.cursor, {}}};
  auto page = service::EventService(*db).list(query);
  if (!page) return ctx.fail(with_flag_names(page.error()), exit_code_for(page.error()));
  if (ctx.json)
    return print_page(
        page->data, [](const store::Event& e) { return service::to_json(e); }, page->next_cursor);
  print_events(page->data);
  print_more("events list", page->next_cursor);
}

// ---- export --------------------------------------------------------------

Error file_error(const std::string& what, const std::string& path, int error_number) {
  return make_error(ErrorCode::storage_unavailable,
                    fmt::format("{} {}: {}", what, path.empty() ? "stdout" : path, std::strerror(error_number)));
}

// Where export lines go: stdout, or a temporary file beside --output that
// finish() syncs and renames over it. Compressed with zlib under --gzip
// (otherwise written through zlib's transparent mode, one code path). An
// unfinished temporary file is removed by the destructor, so a failed export
// leaves --output as it was.
class ExportSink {
 public:
  ExportSink() = default;
  ExportSink(const ExportSink&) = delete;
  ExportSink& operator=(const ExportSink&) = delete;
  ~ExportSink() {
    if (m_gz != nullptr) gzclose(m_gz);
    if (m_fd >= 0) ::close(m_fd);
    if (!m_temp.empty()) ::unlink(m_temp.c_str());
  }

  Status open(const std::string& output, bool gzip) {
    m_output = output;
    if (output.empty()) {
      m_fd = ::dup(STDOUT_FILENO);
    } else {
      m_temp = output + ".tmp.XXXXXX";
      m_fd = ::mkstemp(m_temp.data());  // mode 0600: an archive holds addresses
      if (m_fd < 0) {
        int error_number = errno;
        m_temp.clear();
        return file_error("--output: cannot create a file beside", output, error_number);
      }
    }
    if (m_fd < 0) return file_error("cannot write to", output, errno);
    int gz_fd = ::dup(m_fd);
    m_gz = gz_fd < 0 ? nullptr : gzdopen(gz_fd, gzip ? "wb6" : "wbT");
    if (m_gz == nullptr) {
      if (gz_fd >= 0) ::close(gz_fd);
      return file_error("cannot write to", output, errno == 0 ? ENOMEM : errno);
    }
    gzbuffer(m_gz, 1 << 16);
    return {};
  }

  Status write(const std::string& line) {
    if (gzwrite(m_gz, line.data(), static_cast<unsigned>(line.size())) == static_cast<int>(line.size())) return {};
    return write_error();
  }

  Status finish() {
    int closed = gzclose(m_gz);
    m_gz = nullptr;
    if (closed != Z_OK) return write_error();
    if (m_temp.empty()) return {};
    if (::fsync(m_fd) != 0) return file_error("cannot sync", m_temp, errno);
    if (::rename(m_temp.c_str(), m_output.c_str()) != 0) return file_error("cannot rename to", m_output, errno);
    m_temp.clear();
    return {};
  }

 private:
  Status write_error() const {
    int error_number = errno == 0 ? EIO : errno;
    return file_error("cannot write to", m_output, error_number);
  }

  std::string m_output;
  std::string m_temp;  // while unfinished
  int m_fd = -1;
  gzFile m_gz = nullptr;
};

// The file --output names: a new path, or an existing regular file, through
// a symbolic link if it is one (the link stays; its target is replaced). A
// device, pipe or directory would be replaced by the rename, not written to.
Result<std::string> output_file(const std::string& output) {
  std::error_code error;
  auto link = std::filesystem::symlink_status(output, error);
  if (link.type() == std::filesystem::file_type::not_found) return output;
  auto target = std::filesystem::status(output, error);
  if (target.type() == std::filesystem::file_type::directory)
    return make_error(ErrorCode::invalid_input, fmt::format("--output {}: is a directory", output));
  if (target.type() != std::filesystem::file_type::regular)
    return make_error(ErrorCode::invalid_input,
                      fmt::format("--output {}: not a regular file (a device, pipe or dangling link); name a file, "
                                  "or leave --output out to write to stdout",
                                  output));
  auto resolved = std::filesystem::canonical(output, error);
  if (error) return make_error(ErrorCode::invalid_input, fmt::format("--output {}: {}", output, error.message()));
  return resolved.string();
}

// SIGINT and SIGTERM during an export stop it at the next line, so the
// temporary file (addresses in it) is removed instead of left behind.
volatile std::sig_atomic_t g_export_interrupted = 0;

class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = [](int) { g_export_interrupted = 1; };
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &m_old_int);
    ::sigaction(SIGTERM, &action, &m_old_term);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;
  ~InterruptGuard() {
    ::sigaction(SIGINT, &m_old_int, nullptr);
    ::sigaction(SIGTERM, &m_old_term, nullptr);
  }

 private:
  struct sigaction m_old_int {};
  struct sigaction m_old_term {};
};

Error interrupted_error() {
  return make_error(ErrorCode::conflict, "export interrupted (SIGINT or SIGTERM); --output left as it was");
}

void export_events(CtlContext& ctx, const ExportOptions& options) {
  auto db = open_database(ctx, SchemaCheck::require_current);
  if (!db) return;
  ExportOptions o = options;
  if (!o.output.empty()) {
    auto file = output_file(o.output);
    if (!file) return ctx.fail(file.error(), k_exit_usage);
    o.output = *file;
  }
  if (o.gzip && o.output.empty() && stdout_is_terminal())
    return ctx.fail(
        make_error(ErrorCode::invalid_input, "--gzip: stdout is a terminal; give --output FILE or redirect stdout"),
        k_exit_usage);
  SystemClock clock;
  service::EventExportQuery query{given(o.since), given(o.until), given(o.type)};
  InterruptGuard interrupts;
  ExportSink sink;
  auto exported = service::EventService(*db).export_lines(
      query, to_ms(clock.now()), [&, opened = false](const std::string& line) mutable -> Status {
        // Opened at the first line, once the query is known to be valid: a
        // refused export leaves no file behind (an empty range still writes one).
        if (!opened) {
          opened = true;
          if (auto ready = sink.open(o.output, o.gzip); !ready) return ready;
        }
        if (g_export_interrupted != 0) return interrupted_error();
        return sink.write(line);
      });
  if (exported && *exported == 0) {
    if (auto ready = sink.open(o.output, o.gzip); !ready) return ctx.fail(ready.error());
  }
  if (!exported) return ctx.fail(with_flag_names(exported.error()), exit_code_for(exported.error()));
  if (g_export_interrupted != 0) return ctx.fail(interrupted_error());
  if (auto done = sink.finish(); !done) return ctx.fail(done.error());
  if (o.output.empty()) return;
  if (ctx.json) return print_json({{"exported", *exported}, {"output", o.output}});
  std::cout << "Exported " << *exported << " event(s) to " << o.output << ".\n";
}

void add_list(CLI::App& events, CtlContext& ctx) {
  auto o = std::make_shared<ListOptions>();
  auto* list = events.add_subcommand("list", "Events oldest first, with the filters of GET /v1/events");
  list->add_option("--type", o->type, "Only this event type (SENT, DELIVERY, BOUNCE, ...)");
  list->add_option("--batch", o->batch_id, "Only events of this batch (bat_...)");
  list->add_option("--message", o->message_id, "Only events of this message (msg_...)");
  list->add_option("--email", o->email, "Only events of this address (any spelling)");
  list->add_option("--ses-message-id", o->ses_message_id, "Only events of the message SES accepted under this id");
  list->add_option("--since", o->since, "Occurred at or after this RFC 3339 time");
  list->add_option("--until", o->until, "Occurred before this RFC 3339 time");
  list->add_option("--limit", o->limit, "At most this many (1-1000, default 50)")->check(CLI::Range(1, 1000));
  list->add_option("--cursor", o->cursor, "Continue from a previous page's next_cursor");
  list->callback([&ctx, o] { list_events(ctx, *o); });
}

void add_export(CLI::App& events, CtlContext& ctx) {
  auto o = std::make_shared<ExportOptions>();
  auto* command = events.add_subcommand(
      "export", "Write the events of a time range as JSON lines (the API's event objects), for archives");
  command->add_option("--since", o->since, "From this RFC 3339 time, inclusive (default: the first event)");
  command->add_option("--until", o->until, "To this RFC 3339 time, exclusive (default: now)");
  command->add_option("--type", o->type, "Only this event type");
  command->add_option("--output", o->output, "Write to this file (replaced only once complete); default stdout");
  command->add_flag("--gzip", o->gzip, "Compress with gzip");
  command->callback([&ctx, o] { export_events(ctx, *o); });
}

}  // namespace

void add_events_commands(CLI::App& app, CtlContext& ctx) {
  auto* events = app.add_subcommand("events", "List and export events");
  events->require_subcommand(1);
  add_list(*events, ctx);
  add_export(*events, ctx);
}

}  // namespace mailer::cli
