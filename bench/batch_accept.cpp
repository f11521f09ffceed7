// Times POST /v1/batches' core: parse a JSON body of N recipients with three
// variables each onto a BatchRequest (json_io::parse_batch_request, as mailerd
// does), and accept_batch() it into a fresh
// database file (synchronous=FULL, so the commit includes the fsync).
// Prints each phase in ms and the peak RSS. Freeing the parsed document and
// the request is part of the phase that does it in mailerd.
// Usage: mailer_bench_accept [N] [dir] [S]; S > 0 first suppresses S addresses,
// every other one a recipient, so the suppression lookups are measured too.

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/http/json_io.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/suppressions.hpp"

namespace {

using Clock = std::chrono::steady_clock;

double cpu_ms() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1000.0 + t.tv_usec / 1000.0; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

double ms_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Written as text, not through a JSON document, so that building it does not
// set the peak RSS the benchmark reports. Same text as nlohmann's dump().
std::string make_body(int count) {
  std::string body = R"({"content":{"subject":"Hi {{first_name}}","text":"{{first_name}} {{city}} {{code}}"},)"
                     R"("from":"Shop <news@example.com>","recipients":[)";
  body.reserve(body.size() + static_cast<std::size_t>(count) * 110);
  for (int i = 0; i < count; ++i) {
    fmt::format_to(
        std::back_inserter(body),
        R"({}{{"email":"user{}@example.com","variables":{{"city":"Lisbon","code":{},"first_name":"Name{}"}}}})",
        i == 0 ? "" : ",", i, i, i);
  }
  body += R"(],"variables":{"shop":"Example"}})";
  return body;
}

}  // namespace

int main(int argc, char** argv) {
  int count = argc > 1 ? std::atoi(argv[1]) : 100000;
  std::filesystem::path dir = argc > 2 ? std::filesystem::path(argv[2]) : std::filesystem::temp_directory_path();
  std::filesystem::path db_path = dir / fmt::format("mailer-bench-{}.db", ::getpid());
  auto db = mailer::store::Database::open(db_path.string());
  if (!db || !mailer::store::migrate(**db)) {
    std::fprintf(stderr, "cannot create %s\n", db_path.c_str());
    return 1;
  }
  int suppressed = argc > 3 ? std::atoi(argv[3]) : 0;
  if (suppressed > 0) {
    mailer::SystemClock setup_clock;
    std::vector<mailer::store::Suppression> rows;
    for (int i = 0; i < suppressed; ++i)
      rows.push_back({(i % 2 ? fmt::format("other{}@example.com", i) : fmt::format("user{}@example.com", i)),
                      mailer::store::SuppressionReason::manual, mailer::store::SuppressionScope::all, "{}", 0, 0});
    if (!mailer::store::SuppressionRepo(**db, setup_clock).import(rows)) return 1;
  }
  std::string text = make_body(count);
  mailer::SystemClock clock;
  mailer::service::BatchService batches(**db, clock);

  double cpu_start = cpu_ms();
  auto start = Clock::now();
  // What POST /v1/batches does: JSON text -> BatchRequest, then accept_batch;
  // the request is freed before the 202 is sent, so that is timed too.
  auto parsed = mailer::http::json_io::parse_batch_request(text, count);
  if (!parsed) {
    std::fprintf(stderr, "parse_batch_request failed: %s\n", parsed.error().detail.c_str());
    return 1;
  }
  auto request = std::make_unique<mailer::service::BatchRequest>(std::move(*parsed));
  double parse_ms = ms_since(start);
  double parse_cpu_ms = cpu_ms() - cpu_start;
  rusage parse_usage{};
  getrusage(RUSAGE_SELF, &parse_usage);
  double accept_cpu_start = cpu_ms();
  auto accepting = Clock::now();
  auto accepted = batches.accept_batch(std::move(*request), {count, true, std::nullopt});
  request.reset();
  double accept_ms = ms_since(accepting);
  double accept_cpu_ms = cpu_ms() - accept_cpu_start;
  double total_ms = ms_since(start);
  double total_cpu_ms = cpu_ms() - cpu_start;
  if (!accepted) {
    std::fprintf(stderr, "accept_batch failed: %s\n", accepted.error().detail.c_str());
    return 1;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  fmt::print("recipients={} body_bytes={} accepted={} suppressed={}\n", count, text.size(), accepted->accepted,
             accepted->suppressed);
  fmt::print("parse_request_ms={:.1f} accept_batch_ms={:.1f} total_ms={:.1f}\n", parse_ms, accept_ms, total_ms);
  // The machine may be shared: CPU time (user + system) shows the cost apart from waiting.
  fmt::print("parse_request_cpu_ms={:.1f} accept_batch_cpu_ms={:.1f} total_cpu_ms={:.1f}\n", parse_cpu_ms,
             accept_cpu_ms, total_cpu_ms);
  fmt::print("peak_rss_mb={:.1f} (after parsing: {:.1f})\n", usage.ru_maxrss / 1024.0, parse_usage.ru_maxrss / 1024.0);
  db->reset();
  // MAILER_BENCH_KEEP_DB=1 keeps the file (a drain can then be timed on it).
  if (const char* keep = std::getenv("MAILER_BENCH_KEEP_DB"); keep && std::string(keep) == "1") {
    fmt::print("kept {}\n", db_path.string());
    return 0;
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path.string() + suffix);
  return 0;
}
