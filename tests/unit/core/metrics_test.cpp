#include "mailer/core/metrics.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

#include "support/prometheus_text.hpp"

using namespace mailer;
using namespace mailer::metrics;

TEST_CASE("Registry::render writes HELP, TYPE and samples in format 0.0.4", "[core][metrics]") {
  Registry registry;
  SECTION("counter without labels starts at 0") {
    registry.counter("jobs_total", "Jobs done.");
    CHECK(registry.render() == "# HELP jobs_total Jobs done.\n# TYPE jobs_total counter\njobs_total 0\n");
  }
  SECTION("counter with labels shows each series once incremented") {
    auto& counter = registry.counter("mailer_messages_total", "By outcome.", {"outcome"});
    counter.inc({"sent"});
    counter.inc({"sent"}, 2);
    counter.inc({"failed"});
    CHECK(registry.render() ==
          "# HELP mailer_messages_total By outcome.\n# TYPE mailer_messages_total counter\n"
          "mailer_messages_total{outcome=\"failed\"} 1\nmailer_messages_total{outcome=\"sent\"} 3\n");
  }
  SECTION("gauge set and fractional values") {
    registry.gauge("rate", "Per second.").set(2.5);
    CHECK(registry.render() == "# HELP rate Per second.\n# TYPE rate gauge\nrate 2.5\n");
  }
  SECTION("families render in registration order") {
    registry.gauge("b_gauge", "B.");
    registry.counter("a_total", "A.");
    auto text = registry.render();
    CHECK(text.find("b_gauge") < text.find("a_total"));
  }
  SECTION("help escapes backslash and newline") {
    registry.counter("x_total", "line\\one\ntwo");
    CHECK(registry.render().starts_with("# HELP x_total line\\\\one\\ntwo\n"));
  }
}

TEST_CASE("escape_label_value escapes backslash, quote and newline", "[core][metrics]") {
  CHECK(escape_label_value("plain") == "plain");
  CHECK(escape_label_value("a\\b") == "a\\\\b");
  CHECK(escape_label_value("say \"hi\"") == "say \\\"hi\\\"");
  CHECK(escape_label_value("two\nlines") == "two\\nlines");
  Registry registry;
  registry.counter("r_total", "R.", {"route"}).inc({"/a\"b\n"});
  CHECK(registry.render().find("r_total{route=\"/a\\\"b\\n\"} 1\n") != std::string::npos);
}

TEST_CASE("format_value writes numbers the way Prometheus parses them", "[core][metrics]") {
  CHECK(format_value(0) == "0");
  CHECK(format_value(3) == "3");
  CHECK(format_value(0.25) == "0.25");
  CHECK(format_value(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_value(std::nan("")) == "NaN");
  CHECK(format_value(1234567890123.0) == "1234567890123");
}

TEST_CASE("Histogram::observe counts cumulative buckets, sum and count", "[core][metrics]") {
  Registry registry;
  auto& histogram = registry.histogram("d_seconds", "D.", {"op"}, {0.1, 1});
  histogram.observe({"send"}, 0.05);
  histogram.observe({"send"}, 0.1);  // le is inclusive
  histogram.observe({"send"}, 0.5);
  histogram.observe({"send"}, std::chrono::milliseconds(3000));
  CHECK(histogram.count({"send"}) == 4);
  CHECK(histogram.sum({"send"}) == Approx(3.65));
  CHECK(registry.render() ==
        "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
        "d_seconds_bucket{op=\"send\",le=\"0.1\"} 2\n"
        "d_seconds_bucket{op=\"send\",le=\"1\"} 3\n"
        "d_seconds_bucket{op=\"send\",le=\"+Inf\"} 4\n"
        "d_seconds_sum{op=\"send\"} 3.65\n"
        "d_seconds_count{op=\"send\"} 4\n");
}

TEST_CASE("Histogram without labels shows empty buckets from the start", "[core][metrics]") {
  Registry registry;
  registry.histogram("h_seconds", "H.", {}, {1});
  CHECK(registry.render() ==
        "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
        "h_seconds_bucket{le=\"1\"} 0\nh_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n");
}

TEST_CASE("Gauge callbacks are read at each render", "[core][metrics]") {
  Registry registry;
  int depth = 3;
  registry.gauge_callback("queue_depth", "Depth.", {"state"}, [&] {
    return std::vector<Sample>{{{"queued"}, static_cast<double>(depth)}};
  });
  CHECK(registry.render().find("queue_depth{state=\"queued\"} 3\n") != std::string::npos);
  depth = 7;
  CHECK(registry.render().find("queue_depth{state=\"queued\"} 7\n") != std::string::npos);
}

TEST_CASE("Registry rejects bugs: bad names, mismatched labels, negative increments", "[core][metrics]") {
  Registry registry;
  SECTION("metric names") {
    CHECK_THROWS_AS(registry.counter("9lives_total", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("with-dash", "x"), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("", "x"), std::invalid_argument);
    CHECK(valid_metric_name("ns:sub_total"));
  }
  SECTION("label names") {
    CHECK_THROWS_AS(registry.counter("a_total", "x", {"__reserved"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("b_total", "x", {"has:colon"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram("c_seconds", "x", {"le"}), std::invalid_argument);
  }
  SECTION("same name, other type or labels") {
    auto& first = registry.counter("x_total", "x", {"a"});
    CHECK(&registry.counter("x_total", "x", {"a"}) == &first);
    CHECK_THROWS_AS(registry.gauge("x_total", "x", {"a"}), std::invalid_argument);
    CHECK_THROWS_AS(registry.counter("x_total", "x", {"b"}), std::invalid_argument);
  }
  SECTION("label value count") {
    auto& counter = registry.counter("y_total", "y", {"a", "b"});
    CHECK_THROWS_AS(counter.inc({"only-one"}), std::invalid_argument);
    CHECK(counter.value({"only-one", "x"}) == 0);
  }
  SECTION("counters never go down") {
    auto& counter = registry.counter("z_total", "z");
    CHECK_THROWS_AS(counter.inc({}, -1), std::invalid_argument);
    CHECK_THROWS_AS(counter.inc({}, std::nan("")), std::invalid_argument);
  }
  SECTION("buckets") {
    CHECK_THROWS_AS(registry.histogram("d_seconds", "d", {}, {1, 1}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram("e_seconds", "e", {}, {2, 1}), std::invalid_argument);
    CHECK_THROWS_AS(registry.histogram("f_seconds", "f", {}, {1, std::numeric_limits<double>::infinity()}),
                    std::invalid_argument);
  }
}

TEST_CASE("Counter::inc is thread-safe", "[core][metrics]") {
  Registry registry;
  auto& counter = registry.counter("t_total", "t", {"k"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) counter.inc({i % 2 ? "odd" : "even"});
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(counter.value({"odd"}) == 20000);
  CHECK(counter.value({"even"}) == 20000);
}

TEST_CASE("mailerd's instruments register every family on global()", "[core][metrics]") {
  auto text = global().render();
  for (const char* name : {"mailer_build_info",
                           "mailer_http_requests_total",
                           "mailer_http_request_duration_seconds",
                           "mailer_ses_requests_total",
                           "mailer_ses_request_duration_seconds",
                           "mailer_messages_total",
                           "mailer_suppressions_total",
                           "mailer_sns_notifications_total",
                           "mailer_http_connections_open",
                           "mailer_http_connections_closed_early_total",
                           "mailer_sending_on_hold",
                           "mailer_sending_holds_total",
                           "mailer_storage_on_hold",
                           "mailer_storage_holds_total",
                           "mailer_ses_errors_total",
                           "mailer_http_rate_limited_total",
                           "mailer_guard_pauses_total",
                           "mailer_webhook_deliveries_total",
                           "mailer_webhook_request_duration_seconds",
                           "mailer_webhook_endpoints_disabled_total"}) {
    INFO(name);
    CHECK(text.find(std::string("# TYPE ") + name + " ") != std::string::npos);
  }
  CHECK(text.find("mailer_build_info{version=\"" MAILER_VERSION "\"} 1\n") != std::string::npos);
  CHECK(text.find("mailer_messages_total{outcome=\"cancelled\"}") != std::string::npos);
}

TEST_CASE("observe_* and count_* label the series they move", "[core][metrics]") {
  auto& registry = global();
  auto& http = registry.counter("mailer_http_requests_total", "", {"method", "route", "status_class"});
  auto before = http.value({"GET", "unmatched", "4xx"});
  observe_http_request("GET", "", 404, std::chrono::milliseconds(2));
  CHECK(http.value({"GET", "unmatched", "4xx"}) == before + 1);

  auto& ses = registry.counter("mailer_ses_requests_total", "", {"operation", "result"});
  auto& ses_errors = registry.counter("mailer_ses_errors_total", "", {"operation", "code"});
  Error throttled{ErrorCode::upstream_throttled, "slow down", {}, "TooManyRequestsException"};
  Error unanswered{ErrorCode::upstream_transient, "connection refused", {}, ""};
  auto ses_before = ses.value({"SendEmail", "upstream_throttled"});
  auto ok_before = ses.value({"SendEmail", "ok"});
  auto errors_before = ses_errors.value({"SendEmail", "TooManyRequestsException"});
  auto unanswered_before = ses_errors.value({"SendEmail", "no_answer"});
  observe_ses_request("SendEmail", &throttled, std::chrono::milliseconds(5));
  observe_ses_request("SendEmail", &unanswered, std::chrono::milliseconds(5));
  observe_ses_request("SendEmail", nullptr, std::chrono::milliseconds(5));
  CHECK(ses.value({"SendEmail", "upstream_throttled"}) == ses_before + 1);
  CHECK(ses.value({"SendEmail", "ok"}) == ok_before + 1);
  CHECK(ses_errors.value({"SendEmail", "TooManyRequestsException"}) == errors_before + 1);
  CHECK(ses_errors.value({"SendEmail", "no_answer"}) == unanswered_before + 1);
  CHECK(registry.render().find("code=\"none\"") == std::string::npos);  // successes carry no code

  auto& limited = registry.counter("mailer_http_rate_limited_total", "");
  auto limited_before = limited.value();
  count_http_rate_limited();
  CHECK(limited.value() == limited_before + 1);
  auto& pauses = registry.counter("mailer_guard_pauses_total", "");
  auto pauses_before = pauses.value();
  count_guard_pause();
  CHECK(pauses.value() == pauses_before + 1);

  auto& messages = registry.counter("mailer_messages_total", "", {"outcome"});
  auto sent_before = messages.value({"sent"});
  count_message("sent");
  CHECK(messages.value({"sent"}) == sent_before + 1);
}

TEST_CASE("count_webhook_attempt counts by endpoint and outcome", "[core][metrics][webhooks]") {
  auto& registry = mailer::metrics::global();
  auto& deliveries = registry.counter("mailer_webhook_deliveries_total", "", {"endpoint", "outcome"});
  auto& disabled = registry.counter("mailer_webhook_endpoints_disabled_total", "", {"endpoint"});
  const double before = deliveries.value({"whk_metrics_test", "retry"});
  mailer::metrics::count_webhook_attempt("whk_metrics_test", "retry", std::chrono::milliseconds(5));
  mailer::metrics::count_webhook_endpoint_disabled("whk_metrics_test");
  CHECK(deliveries.value({"whk_metrics_test", "retry"}) == before + 1);
  CHECK(disabled.value({"whk_metrics_test"}) >= 1);
}

TEST_CASE("set_sending_hold and set_storage_hold show a hold and count it once", "[core][metrics]") {
  auto& registry = global();
  auto& on_hold = registry.gauge("mailer_sending_on_hold", "", {"reason"});
  auto& holds = registry.counter("mailer_sending_holds_total", "", {"reason"});
  auto before = holds.value({"ses_unavailable"});
  set_sending_hold("ses_unavailable");
  CHECK(on_hold.value({"ses_unavailable"}) == 1);
  CHECK(on_hold.value({"ses_credentials"}) == 0);
  CHECK(holds.value({"ses_unavailable"}) == before + 1);
  set_sending_hold("");
  CHECK(on_hold.value({"ses_unavailable"}) == 0);
  CHECK(holds.value({"ses_unavailable"}) == before + 1);

  auto& storage = registry.gauge("mailer_storage_on_hold", "");
  auto& storage_holds = registry.counter("mailer_storage_holds_total", "");
  auto storage_before = storage_holds.value();
  set_storage_hold(true);
  CHECK(storage.value() == 1);
  set_storage_hold(false);
  CHECK(storage.value() == 0);
  CHECK(storage_holds.value() == storage_before + 1);
}

TEST_CASE("status_class groups statuses by hundreds", "[core][metrics]") {
  CHECK(status_class(200) == "2xx");
  CHECK(status_class(204) == "2xx");
  CHECK(status_class(503) == "5xx");
  CHECK(status_class(0) == "other");
  CHECK(status_class(600) == "other");
}

TEST_CASE("Labels copied from outside stay within known sets", "[core][metrics]") {
  auto& registry = global();
  // Prime every known value first, so only invented ones could add series.
  observe_http_request("other", "", 404, std::chrono::milliseconds(1));
  count_sns_notification("other", "rejected");
  Error odd{ErrorCode::upstream_transient, "odd", {}, "Odd"};
  observe_ses_request("SendEmail", &odd, std::chrono::milliseconds(1));
  auto before = mailer::test::sample_count(registry.render());
  for (int i = 0; i < 10000; ++i) {
    auto invented = "M" + std::to_string(i);
    observe_http_request(invented, "", 404, std::chrono::milliseconds(1));
    count_sns_notification(invented, "rejected");
    Error error{ErrorCode::upstream_transient, "odd", {}, invented + "Exception"};
    observe_ses_request("SendEmail", &error, std::chrono::milliseconds(1));
  }
  auto text = registry.render();
  CHECK(mailer::test::sample_count(text) == before);
  CHECK(text.find("M9999") == std::string::npos);
  auto& http = registry.counter("mailer_http_requests_total", "", {"method", "route", "status_class"});
  CHECK(http.value({"other", "unmatched", "4xx"}) >= 10001);
  auto& sns = registry.counter("mailer_sns_notifications_total", "", {"type", "verdict"});
  CHECK(sns.value({"other", "rejected"}) >= 10001);
}

TEST_CASE("Known label values are recorded as they are", "[core][metrics]") {
  auto& registry = global();
  auto& http = registry.counter("mailer_http_requests_total", "", {"method", "route", "status_class"});
  auto before = http.value({"PATCH", "unmatched", "4xx"});
  observe_http_request("PATCH", "", 405, std::chrono::milliseconds(1));
  CHECK(http.value({"PATCH", "unmatched", "4xx"}) == before + 1);
  auto& ses = registry.counter("mailer_ses_errors_total", "", {"operation", "code"});
  Error status_only{ErrorCode::upstream_transient, "bad gateway", {}, "HTTP502"};
  auto ses_before = ses.value({"SendEmail", "HTTP502"});
  observe_ses_request("SendEmail", &status_only, std::chrono::milliseconds(1));
  CHECK(ses.value({"SendEmail", "HTTP502"}) == ses_before + 1);
  auto& sns = registry.counter("mailer_sns_notifications_total", "", {"type", "verdict"});
  auto sns_before = sns.value({"Rendering Failure", "accepted"});
  count_sns_notification("Rendering Failure", "accepted");
  CHECK(sns.value({"Rendering Failure", "accepted"}) == sns_before + 1);
}

TEST_CASE("add_process_metrics reads the running process from /proc/self", "[core][metrics]") {
  Registry registry;
  add_process_metrics(registry);
  auto text = registry.render();
  auto value = [&](const std::string& name) {
    auto found = mailer::test::sample_value(text, name);
    INFO(name << " in:\n" << text);
    REQUIRE(found);
    return *found;
  };
  CHECK(text.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
  CHECK(value("process_cpu_seconds_total") >= 0);
  CHECK(value("process_resident_memory_bytes") > 1024 * 1024);
  CHECK(value("process_virtual_memory_bytes") >= value("process_resident_memory_bytes"));
  CHECK(value("process_open_fds") >= 3);
  CHECK(value("process_max_fds") >= value("process_open_fds"));
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(value("process_start_time_seconds") > now - 3600);
  CHECK(value("process_start_time_seconds") <= now + 1);
}
