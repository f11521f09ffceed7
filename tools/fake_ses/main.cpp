// mailer-fake-ses: see docs/FAKE_SES.md. Parses flags, binds, logs the bound
// port as {"msg":"listening","port":N} (tests read it), serves until SIGTERM/SIGINT.
// Exit codes, as mailerd's and mailerctl's: 0 ok (also --help, --version),
// 1 runtime failure (cannot bind, ...), 2 usage error (unknown or invalid flag).
#include <pthread.h>
#include <csignal>
#include <iostream>
#include <thread>

// NOTE: g++ 12 reports a false -Wnull-dereference inside CLI11's inlined
// vector<string> code; the warning is not ours to fix.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "fake_ses.hpp"
#include "mailer/net/listen.hpp"

using namespace mailer::fake_ses;

namespace {

constexpr int k_exit_ok = 0;
constexpr int k_exit_failure = 1;
constexpr int k_exit_usage = 2;

// (0, 1]: CLI::Range would let 0 through, a bucket that holds nothing.
const CLI::Validator k_burst_seconds_range(
    [](const std::string& text) -> std::string {
      double value = 0;
      if (!CLI::detail::lexical_cast(text, value) || !(value > 0 && value <= 1)) {
        return "must be over 0 and at most 1: " + text;
      }
      return {};
    },
    "(0, 1]");

void add_sns_flags(CLI::App& app, Options& o, std::string& endpoint, std::string& flavour) {
  app.add_option("--sns-endpoint", endpoint, "POST feedback as SNS envelopes here (mailerd's /webhooks/ses, http)");
  app.add_option("--sns-topic-arn", o.sns.topic_arn, "TopicArn of the envelopes")->capture_default_str();
  app.add_option("--sns-flavour", flavour, "event (event publishing) or notification (identity notifications)")
      ->capture_default_str()
      ->check(CLI::IsMember({"event", "notification"}));
  app.add_option("--open-rate", o.sns.open_rate, "share of delivered messages opened (event flavour)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--click-rate", o.sns.click_rate, "share of delivered messages clicked (event flavour)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--seed", o.sns.seed, "picks which recipients open and click")->capture_default_str();
  app.add_option("--sns-delay-ms", o.sns.delay_ms, "from a send to its notifications")
      ->capture_default_str()
      ->check(CLI::Range(0, 600000));
  app.add_option("--sns-queue-limit", o.sns_queue_limit, "notifications waiting before more are dropped")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  app.add_flag("--no-sns-subscribe{false}", o.sns.subscribe, "do not POST a SubscriptionConfirmation first");
}

void add_flags(CLI::App& app, Options& o, std::vector<std::string>& rejects) {
  app.add_option("--listen", o.listen, "address to bind")->capture_default_str();
  app.add_option("--port", o.port, "port; 0 picks a free one")->capture_default_str();
  app.add_option("--access-key-id", o.access_key_id, "accepted access key id")->capture_default_str();
  app.add_option("--secret-access-key", o.secret_access_key, "secret that signatures are checked against");
  app.add_option("--session-token", o.session_token, "require this X-Amz-Security-Token");
  app.add_option("--region", o.region, "require this region in the credential scope (empty: any)");
  app.add_option("--out-dir", o.out_dir, "where accepted messages are written")->capture_default_str();
  app.add_flag("--no-store{false}", o.store, "do not write messages (benchmarks)");
  app.add_option("--threads", o.threads, "worker threads")->capture_default_str()->check(CLI::Range(1, 1024));
  app.add_option("--keep-alive-seconds", o.keep_alive_seconds, "idle keep-alive timeout")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  app.add_option("--max-send-rate", o.quota_max_send_rate, "GetAccount SendQuota.MaxSendRate")->capture_default_str();
  app.add_option("--max-24h-send", o.quota_max_24h_send, "GetAccount SendQuota.Max24HourSend")->capture_default_str();
  app.add_flag("--log-requests", o.log_requests, "one JSON line per SES request");
  app.add_option("--error-rate", o.faults.error_rate, "share of requests answered 500")->check(CLI::Range(0.0, 1.0));
  app.add_option("--throttle-rate", o.faults.throttle_rate, "share answered 429")->check(CLI::Range(0.0, 1.0));
  app.add_option("--latency-ms", o.faults.latency_ms, "delay before answering")->check(CLI::Range(0, 600000));
  app.add_option("--fault-max-send-rate", o.faults.max_send_rate,
                 "recipients/s above which SendEmail gets 429 (0 = unlimited)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--fault-burst-seconds", o.faults.burst_seconds,
                 "seconds of --fault-max-send-rate the bucket holds (over 0, at most 1)")
      ->capture_default_str()
      ->check(k_burst_seconds_range);
  app.add_option("--reject-address", rejects, "recipient answered 400 MessageRejected (repeatable)");
}

}  // namespace

int main(int argc, char** argv) {
  try {
    Options options;
    std::vector<std::string> rejects;
    std::string endpoint, flavour = "event";
    CLI::App app{"mailer-fake-ses: a local Amazon SES v2 endpoint for tests", "mailer-fake-ses"};
    app.set_version_flag("--version", std::string("mailer-fake-ses ") + MAILER_VERSION, "Print the version and exit");
    add_flags(app, options, rejects);
    add_sns_flags(app, options, endpoint, flavour);
    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
      return app.exit(e) == 0 ? k_exit_ok : k_exit_usage;  // help and version are "errors" too
    }
    std::string error;
    bool valid = apply_patch(options.faults, {{"reject_addresses", rejects}}, error);
    if (valid && !apply_patch(options.sns, {{"endpoint", endpoint}, {"flavour", flavour}}, error)) {
      error = "--sns-" + error;
      valid = false;
    }
    if (!valid) {
      std::cerr << "mailer-fake-ses: " << error << "\nRun with --help for more information.\n";
      return k_exit_usage;
    }

    // Block the stop signals in every thread; one thread waits for them.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

    Service service(options);
    httplib::Server server;
    // Not cpp-httplib's default SO_REUSEPORT, with which a second fake bound a
    // port already served and the kernel split the requests between the two.
    server.set_socket_options([](socket_t sock) { mailer::net::set_listen_options(sock); });
    service.install(server);
    int port = options.port == 0 ? server.bind_to_any_port(options.listen)
                                 : (server.bind_to_port(options.listen, options.port) ? options.port : -1);
    if (port <= 0) {
      log_line({{"msg", "cannot bind"},
                {"listen", options.listen},
                {"port", options.port},
                {"reason", mailer::net::bind_failure_reason(options.listen, options.port)}});
      return k_exit_failure;
    }
    std::jthread waiter([&server, stop_signals] {
      int signal = 0;
      sigwait(&stop_signals, &signal);
      server.stop();
    });
    service.start_publishing(options.listen, port);
    log_line({{"msg", "listening"},
              {"listen", options.listen},
              {"port", port},
              {"store", options.store},
              {"out_dir", options.out_dir.string()}});
    server.listen_after_bind();
    // If listen ended for another reason, wake the waiter so it can be joined.
    pthread_kill(waiter.native_handle(), SIGTERM);
    service.stop_publishing();
    log_line({{"msg", "stopped"}});
    return k_exit_ok;
  } catch (const std::exception& e) {
    log_line({{"msg", "fatal"}, {"error", e.what()}});
    return k_exit_failure;
  }
}
