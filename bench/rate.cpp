// Send-rate benchmark driver: how closely mailerd keeps to the send rate SES
// allows. Posts one batch of N recipients to a running mailerd, samples the
// fake SES's /_fake/stats every 20 ms until the batch is completed, and
// prints one JSON line, then a verdict against the case's target:
//   rate500  ses.max_send_rate 500, SES unlimited: the most recipients the
//            fake accepted within any sliding second, target at most 550
//            (10 % over the rate).
//   auto50   ses.max_send_rate "auto" against an SES of 50/s (GetAccount and
//            enforced, bucket of 1 s): from the 202 until the fake accepted
//            all N, target at most 22 s; throttled share of the SendEmail
//            answers, target at most 1 %.
//   recover  as auto50; 5 s after the 202 the fake throttles every request
//            for 2 s. From the end of that burst until the end of the first
//            window of at most 1 s (between two samples) in which the fake
//            accepted at least 90 % of the rate, target at most 10 s. The
//            samples are 20 ms apart so that such a window lasts 0.98-1 s:
//            at 100 ms a steady 95 % of the rate could miss 90 % in a 0.9 s
//            window.
// bench/run.sh starts the processes and calls this. Traffic goes to 127.0.0.1
// only; every wait has a deadline. Exit status 1 when the batch does not
// complete in TIMEOUT_S or a call fails, 0 otherwise, verdict FAIL included.
//
// Usage: mailer_bench_rate CASE PORT KEY FAKE_PORT RATE N TIMEOUT_S
//   RATE: the rate the case is measured against (recipients/s)

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <optional>
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

constexpr auto k_sample_every = std::chrono::milliseconds(20);
constexpr auto k_status_every = std::chrono::milliseconds(200);
constexpr auto k_throttle_after = std::chrono::seconds(5);  // from the 202: sending is steady by then
constexpr auto k_throttle_for = std::chrono::seconds(2);
constexpr double k_recovered_share = 0.9;  // of RATE, in one window of at most 1 s

struct Args {
  std::string name;
  int port = 0;
  std::string key;
  int fake_port = 0;
  double rate = 0;
  int recipients = 0;
  int timeout_s = 0;
};

// One reading of /_fake/stats, at the middle of the request.
struct Sample {
  double t = 0;  // seconds from the 202
  std::uint64_t accepted = 0;
};

std::optional<json> fake_stats(httplib::Client& fake) {
  auto res = fake.Get("/_fake/stats");
  if (!res || res->status != 200) return std::nullopt;
  return json::parse(res->body, nullptr, false);
}

bool set_fake_faults(httplib::Client& fake, const json& patch) {
  auto res = fake.Post("/_fake/faults", patch.dump(), "application/json");
  return res && res->status == 200;
}

// The end (seconds after `from`) of the first window of at most 1 s, between
// two samples taken at or after `from`, in which the fake accepted at least
// `count`; std::nullopt when there is none.
std::optional<double> first_window_with(const std::vector<Sample>& samples, double from, double count) {
  std::size_t start = 0;
  for (std::size_t end = 0; end < samples.size(); ++end) {
    if (samples[end].t < from) continue;
    while (samples[start].t < from || samples[end].t - samples[start].t > 1.0) ++start;
    if (static_cast<double>(samples[end].accepted - samples[start].accepted) >= count) return samples[end].t - from;
  }
  return std::nullopt;
}

// Turns the fake's throttling on at k_throttle_after and off k_throttle_for
// later (recover only); remembers when the burst ended.
struct ThrottleBurst {
  std::optional<double> started, ended;  // seconds from the 202

  bool step(httplib::Client& fake, double now) {
    if (!started && now >= std::chrono::duration<double>(k_throttle_after).count()) {
      if (!set_fake_faults(fake, {{"throttle_rate", 1}})) return false;
      started = now;
    } else if (started && !ended && now >= *started + std::chrono::duration<double>(k_throttle_for).count()) {
      if (!set_fake_faults(fake, {{"throttle_rate", 0}})) return false;
      ended = now;
    }
    return true;
  }
};

struct Run {
  std::vector<Sample> samples;
  std::optional<double> all_accepted_s;  // the fake had accepted all N
  double completed_s = 0;                // mailerd said completed
  ThrottleBurst burst;
  json last_stats;
};

// Samples until the batch is completed or the deadline passes.
bool watch(const Args& args, httplib::Client& api, const httplib::Headers& auth, httplib::Client& fake,
           const std::string& id, Clock::time_point accepted_at, Run& run) {
  const auto deadline = accepted_at + std::chrono::seconds(args.timeout_s);
  auto next_status = accepted_at + k_status_every;
  std::string status;
  while (Clock::now() < deadline) {
    std::this_thread::sleep_for(k_sample_every);
    const auto before = Clock::now();
    auto stats = fake_stats(fake);
    const auto after = Clock::now();
    if (!stats || !stats->is_object()) {
      std::fprintf(stderr, "GET /_fake/stats failed\n");
      return false;
    }
    Sample sample{seconds_between(accepted_at, before + (after - before) / 2),
                  stats->value("accepted", std::uint64_t{0})};
    run.samples.push_back(sample);
    run.last_stats = std::move(*stats);
    if (!run.all_accepted_s && sample.accepted >= static_cast<std::uint64_t>(args.recipients)) {
      run.all_accepted_s = sample.t;
    }
    if (args.name == "recover" && !run.burst.step(fake, seconds_between(accepted_at, Clock::now()))) {
      std::fprintf(stderr, "POST /_fake/faults failed\n");
      return false;
    }
    if (Clock::now() >= next_status) {
      next_status = Clock::now() + k_status_every;
      auto res = api.Get(("/v1/batches/" + id).c_str(), auth);
      if (res && res->status == 200) {
        auto batch = json::parse(res->body, nullptr, false);
        if (batch.is_object()) status = batch.value("status", "");
      }
      if (status == "completed") {
        run.completed_s = seconds_between(accepted_at, Clock::now());
        return true;
      }
    }
  }
  std::fprintf(stderr, "batch %s did not complete in %d s (status %s)\n", id.c_str(), args.timeout_s, status.c_str());
  return false;
}

std::string verdict(bool pass) { return pass ? "PASS" : "FAIL"; }

json report(const Args& args, const Run& run) {
  const auto& stats = run.last_stats;
  const auto accepted = stats.value("accepted", std::uint64_t{0});
  const auto throttled = stats.value("throttled", std::uint64_t{0});
  const double drain_s = run.all_accepted_s.value_or(run.completed_s);
  json result = {{"case", args.name},
                 {"recipients", args.recipients},
                 {"rate", args.rate},
                 {"drain_s", drain_s},
                 {"drain_msgs_per_s", static_cast<double>(args.recipients) / drain_s},
                 {"completed_s", run.completed_s},
                 {"accepted", accepted},
                 {"throttled", throttled},
                 {"throttled_share", static_cast<double>(throttled) / static_cast<double>(accepted + throttled)},
                 {"max_accepted_in_any_second", stats.value("max_accepted_in_any_second", std::uint64_t{0})}};
  if (args.name == "recover") {
    result["throttle_from_s"] = run.burst.started.value_or(-1);
    result["throttle_to_s"] = run.burst.ended.value_or(-1);
    std::optional<double> recover_s;
    if (run.burst.ended) {
      recover_s = first_window_with(run.samples, *run.burst.ended, k_recovered_share * args.rate);
    }
    result["recover_s"] = recover_s ? json(*recover_s) : json(nullptr);
    result["accepted_per_second"] = stats.value("accepted_per_second", json::array());
  }
  return result;
}

void print_verdict(const Args& args, const json& result) {
  if (args.name == "rate500") {
    const double target = 1.1 * args.rate;
    const auto peak = result["max_accepted_in_any_second"].get<double>();
    std::printf("   verdict: max_accepted_in_any_second %.0f, target <= %.0f: %s\n", peak, target,
                verdict(peak <= target).c_str());
  } else if (args.name == "auto50") {
    const auto drain = result["drain_s"].get<double>();
    const auto share = result["throttled_share"].get<double>();
    std::printf("   verdict: %d sent in %.1f s, target <= 22 s: %s; throttled %.2f %%, target <= 1 %%: %s\n",
                args.recipients, drain, verdict(drain <= 22).c_str(), share * 100, verdict(share <= 0.01).c_str());
  } else if (args.name == "recover") {
    const auto& recover = result["recover_s"];
    const double threshold = k_recovered_share * args.rate;
    if (recover.is_null()) {
      std::printf("   verdict: never accepted %.0f within 1 s after the throttling burst, target <= 10 s: FAIL\n",
                  threshold);
    } else {
      const auto seconds = recover.get<double>();
      std::printf("   verdict: back to %.0f/s %.1f s after the throttling burst, target <= 10 s: %s\n", threshold,
                  seconds, verdict(seconds <= 10).c_str());
    }
  }
}

int run(const Args& args) {
  httplib::Client api("127.0.0.1", args.port);
  api.set_read_timeout(std::chrono::seconds(60));
  api.set_write_timeout(std::chrono::seconds(60));
  httplib::Headers auth{{"Authorization", "Bearer " + args.key}};
  httplib::Client fake("127.0.0.1", args.fake_port);
  fake.set_connection_timeout(std::chrono::seconds(5));
  fake.set_read_timeout(std::chrono::seconds(10));

  auto posted = api.Post("/v1/batches", auth, batch_body(args.recipients), "application/json");
  const auto accepted_at = Clock::now();
  if (!posted || posted->status != 202) {
    std::fprintf(stderr, "POST /v1/batches failed: %d %s\n", posted ? posted->status : -1,
                 posted ? posted->body.substr(0, 500).c_str() : "no answer");
    return 1;
  }
  const std::string id = json::parse(posted->body).at("id");
  Run run;
  bool done = watch(args, api, auth, fake, id, accepted_at, run);
  if (run.burst.started && !run.burst.ended) set_fake_faults(fake, {{"throttle_rate", 0}});
  if (!done) return 1;
  auto result = report(args, run);
  std::printf("%s\n", result.dump().c_str());
  print_verdict(args, result);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: %s rate500|auto50|recover PORT KEY FAKE_PORT RATE N TIMEOUT_S\n", argv[0]);
    return 2;
  }
  Args args{argv[1],           std::atoi(argv[2]), argv[3], std::atoi(argv[4]), std::atof(argv[5]), std::atoi(argv[6]),
            std::atoi(argv[7])};
  if (args.name != "rate500" && args.name != "auto50" && args.name != "recover") {
    std::fprintf(stderr, "unknown case %s\n", args.name.c_str());
    return 2;
  }
  if (args.rate <= 0 || args.recipients <= 0 || args.timeout_s <= 0) {
    std::fprintf(stderr, "RATE, N and TIMEOUT_S must be positive\n");
    return 2;
  }
  return run(args);
}
