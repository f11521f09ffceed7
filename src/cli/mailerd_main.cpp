// mailerd: the daemon. main reads as the list of steps it takes (mold's
// main.cc): parse arguments, load configuration, lock and open the database,
// bring the schema up to date, serve HTTP, wait for SIGTERM/SIGINT, stop.
//
// Signals: SIGTERM, SIGINT and SIGHUP are blocked in every thread (the mask is
// set before any thread starts and inherited), and the main thread takes them
// with sigwait, so they are handled as ordinary code instead of in a signal
// handler. SIGTERM and SIGINT stop mailerd; SIGHUP, which log rotation and a
// closed terminal send, must not (its default action is to exit at once,
// dropping in-flight sends): logs go to stderr, so there is nothing to reopen,
// and it is logged and ignored. SIGPIPE is ignored: a peer that hangs up
// mid-write is an error of that write (EPIPE), not a reason to die.

#include <signal.h>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/cli11.hpp"
#include "mailer/aws/credentials_profile.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/log.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/http/server.hpp"
#include "mailer/jobs/engine.hpp"
#include "mailer/jobs/sender.hpp"
#include "mailer/net/http_client.hpp"
#include "mailer/render/template_cache.hpp"
#include "mailer/store/database.hpp"

namespace {

using namespace mailer;

constexpr int k_exit_ok = 0;
constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;

struct Args {
  std::string config_path;
};

// nullopt with `exit_code` set when main should return at once (--help, --version, bad usage).
std::optional<Args> parse_args(int argc, char** argv, int& exit_code) {
  CLI::App app{"mailerd: bulk and transactional email over Amazon SES", "mailerd"};
  Args args;
  // NOTE: no CLI::ExistingFile check: load_config reports a missing file with the
  // other configuration problems, and exit 78 says "configuration" to systemd.
  app.add_option("--config", args.config_path, "TOML configuration file (optional)");
  app.set_version_flag("--version", std::string("mailerd ") + MAILER_VERSION);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    if (exit_code != 0) exit_code = k_exit_usage;
    return std::nullopt;
  }
  return args;
}

std::optional<Config> load(const std::string& path) {
  auto loaded = load_config(path);
  if (loaded) {
    auto profile = aws::apply_profile_settings(*loaded, aws::system_env);
    if (profile) return std::move(loaded->config);
    std::fprintf(stderr, "mailerd: AWS profile: %s\n", profile.error().detail.c_str());
    return std::nullopt;
  }
  // Every problem at once, subject first (STYLE §4), then nothing starts.
  print_config_errors(loaded.error(), std::cerr);
  return std::nullopt;
}

// The signals the main thread takes with sigwait (see the top of this file).
sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

// Blocks until SIGTERM or SIGINT and returns its name; SIGHUP is logged and
// waited past.
const char* wait_for_shutdown_signal() {
  const auto signals = handled_signals();
  for (;;) {
    int signal_number = 0;
    if (sigwait(&signals, &signal_number) != 0) continue;
    if (signal_number == SIGINT) return "SIGINT";
    if (signal_number == SIGTERM) return "SIGTERM";
    log::info("SIGHUP ignored", {{"reason",
                                  "logs go to stderr, nothing to reopen; "
                                  "configuration is read at start only"}});
  }
}

// Logs why mailerd cannot go on; returns the exit code to use.
int fail(std::string_view msg, const Error& error) {
  log::error(msg, {{"error", std::string(to_string(error.code))}, {"detail", error.detail}});
  return k_exit_failure;
}

// Applies migrations when db.auto_migrate, else refuses an out-of-date schema.
Status prepare_schema(store::Database& db, bool auto_migrate) {
  if (auto_migrate) {
    auto migrated = store::migrate(db);
    if (!migrated) return std::move(migrated).error();
    for (const auto& name : migrated->applied_now) log::info("migration applied", {{"file", name}});
    return {};
  }
  return store::require_current_schema(db, "mailerd", "run `mailerctl migrate` or set db.auto_migrate = true");
}

// systemd's WatchdogSec (WATCHDOG_USEC): ping at half the interval while the
// engine's reaper is alive, so systemd restarts a wedged mailerd. Returns an
// empty thread when no watchdog is configured.
std::jthread start_watchdog(const jobs::Engine& engine) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return {};
  const auto interval = std::chrono::microseconds(usec / 2);
  return std::jthread([&engine, interval](std::stop_token stop) {
    std::mutex mutex;
    std::condition_variable_any wake;
    std::unique_lock lock(mutex);
    while (!stop.stop_requested()) {
      if (engine.stats().alive) sd_notify(0, "WATCHDOG=1");
      wake.wait_for(lock, stop, interval, [] { return false; });
    }
  });
}

// Serves until SIGTERM/SIGINT (SIGHUP does not stop it), then stops accepting and lets requests finish,
// then stops the engine: no new claims, in-flight sends get the grace period,
// unfinished claims go back to the queue. A credential fetch in progress (a
// hanging credential_process, a slow STS) is given up first: its worker gives
// its message back, and the background refresh ends, instead of shutdown
// waiting out the source's timeout (past Docker's 10 s stop timeout).
int serve_until_signal(http::Server& server, jobs::Engine& engine, aws::CredentialsProvider& credentials,
                       const Config& config) {
  std::atomic<bool> serve_failed{false};
  std::thread serving([&] {
    auto served = server.serve();
    if (!served) {
      (void)fail("http server stopped", served.error());
      serve_failed = true;
      kill(getpid(), SIGTERM);  // wake the sigwait below
    }
  });
  sd_notify(0, "READY=1");
  auto watchdog = start_watchdog(engine);
  const char* signal_name = wait_for_shutdown_signal();
  sd_notify(0, "STOPPING=1");
  log::info("shutting down", {{"signal", signal_name}});
  credentials.stop();
  server.stop();
  serving.join();
  engine.stop(config.worker.shutdown_grace);
  log::info("stopped", {{"sent", engine.stats().sent}});
  return serve_failed ? k_exit_failure : k_exit_ok;
}

std::optional<std::string> engine_problem(std::string reason) {
  if (reason.empty()) return std::nullopt;
  return reason;
}

std::shared_ptr<aws::CredentialsProvider> make_credentials(const Config& config) {
  aws::CredentialsProvider::Options options;
  options.explicit_config = config.ses;
  return std::make_shared<aws::CredentialsProvider>(std::move(options));
}

int run(const Config& config) {
  auto lock = store::DaemonLock::acquire(config.db.path);
  if (!lock) {
    // NOTE: plain stderr as well as the log: this is the message an operator
    // starting a second instance by hand must see.
    std::fprintf(stderr, "mailerd: %s\n", lock.error().detail.c_str());
    return fail("cannot lock the database", lock.error());
  }
  auto db = store::Database::open(config.db.path);
  if (!db) return fail("cannot open the database", db.error());
  if (auto schema = prepare_schema(**db, config.db.auto_migrate); !schema) {
    return fail("database schema not usable", schema.error());
  }
  SystemClock clock;
  auto credentials = make_credentials(config);
  auto senders = jobs::ses_sender_factory(config, credentials);
  if (!senders) {
    fail("SES endpoint not usable", senders.error());
    return k_config_exit_code;
  }
  jobs::Engine engine(config, config.db.path, clock, std::move(*senders));
  if (auto started = engine.start(); !started) return fail("cannot start the job engine", started.error());
  http::DbPool pool(config.db.path);
  http::Deps deps{config, pool, clock};
  deps.on_enqueued = [&engine] { engine.notify(); };
  deps.on_webhooks_changed = [&engine] { engine.notify_webhooks(); };
  deps.engine = &engine;
  render::TemplateCache preview_templates;
  deps.templates = &preview_templates;
  deps.readiness.workers_alive = [&engine] { return engine.stats().alive; };
  deps.readiness.sending_hold = [&engine] { return engine_problem(engine.stats().hold_reason); };
  deps.readiness.storage_problem = [&engine] { return engine_problem(engine.stats().storage_problem); };
  deps.readiness.ses_account = [&engine] { return engine_problem(engine.stats().account_problem); };
  deps.credentials_expiry = [credentials] { return credentials->cached_expiration(); };
  deps.readiness.ses_credentials = [credentials] { return credentials->readiness(); };
  http::Router router;
  http::register_all_routes(router);
  http::Server server(deps, std::move(router));
  auto port = server.bind();
  if (!port) return fail("cannot start the http server", port.error());
  int code = serve_until_signal(server, engine, *credentials, config);
  if (auto done = (*db)->checkpoint(store::Database::CheckpointMode::truncate); !done) {
    log::warn("WAL checkpoint skipped", {{"detail", done.error().detail}});
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    int exit_code = k_exit_ok;
    auto args = parse_args(argc, argv, exit_code);
    if (!args) return exit_code;
    auto config = load(args->config_path);
    if (!config) return k_config_exit_code;
    configure_logging(*config);
    for (const auto& warning : config_warnings(*config)) {
      log::warn("configuration warning", {{"key", warning.field}, {"detail", warning.message}});
    }
    auto signals = handled_signals();
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread exists
    std::signal(SIGPIPE, SIG_IGN);
    net::CurlGlobal curl;  // curl_global_init must precede every thread
    return run(*config);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mailerd: fatal: %s\n", e.what());
    return k_exit_failure;
  } catch (...) {
    std::fprintf(stderr, "mailerd: fatal: unknown exception\n");
    return k_exit_failure;
  }
}
