// End-to-end drain benchmark driver: posts one batch of N recipients to a
// running mailerd (POST /v1/batches), then watches the fake SES's accepted
// counter (GET /_fake/stats) until the batch is completed (GET
// /v1/batches/{id}). Reports the accept time, the longest stall (the longest
// time between two samples in which the counter did not move, once sending
// began: bench/prune.sh samples every 5 ms to see what pruning costs), the drain rate (whole drain and
// steady state between 10 % and 90 % of the batch), mailerd's CPU time per
// message (utime+stime from /proc/PID/stat) and its peak RSS (VmHWM).
// bench/run.sh starts the processes and calls this; it prints one JSON line.
//
// Usage: mailer_bench_drain PORT KEY FAKE_PORT MAILERD_PID [N] [TIMEOUT_S] [POLL_MS]

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "http_driver.hpp"

namespace {

using nlohmann::json;
using mailer::bench::batch_body;
using mailer::bench::Clock;
using mailer::bench::seconds_between;

struct Args {
  int port = 0;
  std::string key;
  int fake_port = 0;
  int pid = 0;
  int recipients = 100000;
  int timeout_s = 600;
  int poll_ms = 50;
};

// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/PID/stat).
double cpu_seconds(int pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text;
  std::getline(in, text);        // one line
  auto close = text.rfind(')');  // the command name may contain spaces
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);
  }
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "VmHWM:  1234 kB" style line of /proc/PID/status, in MB.
double status_mb(int pid, const std::string& name) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(name + ":", 0) == 0) return std::stod(line.substr(name.size() + 1)) / 1024.0;
  }
  return -1;
}

std::uint64_t fake_accepted(httplib::Client& fake) {
  auto res = fake.Get("/_fake/stats");
  if (!res || res->status != 200) return 0;
  return json::parse(res->body).value("accepted", std::uint64_t{0});
}

// The mean SendEmail duration mailerd measured (mailer_ses_request_duration_seconds
// _sum / _count from GET /metrics), in ms; -1 when absent. It tells the
// endpoint's share of a worker's time from mailerd's own.
double mean_send_ms(httplib::Client& api, const httplib::Headers& auth) {
  auto res = api.Get("/metrics", auth);
  if (!res || res->status != 200) return -1;
  double sum = -1, count = -1;
  std::istringstream lines(res->body);
  std::string line;
  const std::string metric = "mailer_ses_request_duration_seconds_";
  const std::string label = "{operation=\"SendEmail\"} ";
  while (std::getline(lines, line)) {
    if (line.rfind(metric + "sum" + label, 0) == 0) sum = std::stod(line.substr(line.rfind(' ') + 1));
    if (line.rfind(metric + "count" + label, 0) == 0) count = std::stod(line.substr(line.rfind(' ') + 1));
  }
  return sum >= 0 && count > 0 ? sum / count * 1000 : -1;
}

int run(const Args& args) {
  httplib::Client api("127.0.0.1", args.port);
  api.set_read_timeout(std::chrono::seconds(300));
  api.set_write_timeout(std::chrono::seconds(300));
  httplib::Headers auth{{"Authorization", "Bearer " + args.key}};
  httplib::Client fake("127.0.0.1", args.fake_port);

  const auto body = batch_body(args.recipients);
  const auto base = fake_accepted(fake);
  const double cpu_start = cpu_seconds(args.pid);
  const auto post_start = Clock::now();
  auto posted = api.Post("/v1/batches", auth, body, "application/json");
  const auto post_end = Clock::now();
  const double cpu_accepted = cpu_seconds(args.pid);
  if (!posted || posted->status != 202) {
    std::fprintf(stderr, "POST /v1/batches failed: %d %s\n", posted ? posted->status : -1,
                 posted ? posted->body.substr(0, 500).c_str() : "no answer");
    return 1;
  }
  const std::string id = json::parse(posted->body).at("id");

  // Sample the fake's counter every poll_ms; ask mailerd for the status every 500 ms.
  const auto n = static_cast<std::uint64_t>(args.recipients);
  std::optional<Clock::time_point> t10, t90, t_all, last_move;
  std::uint64_t last_sent = 0;
  double longest_stall_ms = 0;
  std::string status;
  int polls = 0;
  const int status_every = std::max(1, 500 / args.poll_ms);
  const auto deadline = post_end + std::chrono::seconds(args.timeout_s);
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(args.poll_ms));
    auto sent = fake_accepted(fake) - base;
    auto now = Clock::now();
    if (sent > last_sent && !t_all) {
      if (last_move) longest_stall_ms = std::max(longest_stall_ms, seconds_between(*last_move, now) * 1000);
      last_move = now;
      last_sent = sent;
    }
    if (!t10 && sent * 10 >= n) t10 = now;
    if (!t90 && sent * 10 >= n * 9) t90 = now;
    if (!t_all && sent >= n) t_all = now;
    if (++polls % status_every == 0 || t_all) {
      auto res = api.Get(("/v1/batches/" + id).c_str(), auth);
      if (res && res->status == 200) status = json::parse(res->body).value("status", "");
      if (status == "completed" || status == "cancelled") break;
    }
  }
  const auto completed = Clock::now();
  const double cpu_end = cpu_seconds(args.pid);
  if (status != "completed" || !t10 || !t90) {
    std::fprintf(stderr, "batch %s did not complete in %d s (status %s)\n", id.c_str(), args.timeout_s, status.c_str());
    return 1;
  }
  const double drain_s = seconds_between(post_end, t_all.value_or(completed));
  json result = {
      {"recipients", args.recipients},
      {"accept_ms", seconds_between(post_start, post_end) * 1000},
      {"accept_cpu_ms", (cpu_accepted - cpu_start) * 1000},
      {"drain_s", drain_s},
      {"drain_msgs_per_s", static_cast<double>(n) / drain_s},
      {"steady_msgs_per_s", 0.8 * static_cast<double>(n) / seconds_between(*t10, *t90)},
      {"completed_s", seconds_between(post_end, completed)},
      {"cpu_ms_per_msg", (cpu_end - cpu_accepted) * 1000 / static_cast<double>(n)},
      {"cpu_s_drain", cpu_end - cpu_accepted},
      {"peak_rss_mb", status_mb(args.pid, "VmHWM")},
      {"ses_mean_ms", mean_send_ms(api, auth)},
      {"longest_stall_ms", longest_stall_ms},
      {"poll_ms", args.poll_ms},
  };
  std::printf("%s\n", result.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s PORT KEY FAKE_PORT MAILERD_PID [N] [TIMEOUT_S] [POLL_MS]\n", argv[0]);
    return 2;
  }
  Args args;
  args.port = std::atoi(argv[1]);
  args.key = argv[2];
  args.fake_port = std::atoi(argv[3]);
  args.pid = std::atoi(argv[4]);
  if (argc > 5) args.recipients = std::atoi(argv[5]);
  if (argc > 6) args.timeout_s = std::atoi(argv[6]);
  if (argc > 7) args.poll_ms = std::max(1, std::atoi(argv[7]));
  return run(args);
}
