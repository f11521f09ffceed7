// The standard process_* metrics, read from /proc/self the way the Prometheus
// client libraries do (https://prometheus.io/docs/instrumenting/writing_clientlibs/#process-metrics):
// a handful of small reads per scrape, nothing kept between scrapes.
// proc(5): /proc/self/stat fields 14 utime and 15 stime (clock ticks), 22
// starttime (ticks after boot), 23 vsize (bytes), 24 rss (pages); /proc/stat
// btime (boot, Unix seconds).

#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "mailer/core/metrics.hpp"

namespace mailer::metrics {

namespace {

// /proc files report size 0: read until EOF. At most 64 KiB (stat is ~300 bytes).
std::string read_file(const char* path) {
  std::string out;
  std::FILE* file = std::fopen(path, "re");
  if (file == nullptr) return out;
  char buffer[4096];
  std::size_t n = 0;
  while (out.size() < 65536 && (n = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, n);
  std::fclose(file);
  return out;
}

// The fields of /proc/self/stat after "(comm)", which may itself hold spaces
// and parentheses: fields[0] is field 3 (state). Empty when unreadable.
std::vector<std::string> stat_fields() {
  auto text = read_file("/proc/self/stat");
  auto close = text.rfind(')');
  if (close == std::string::npos) return {};
  std::istringstream rest(text.substr(close + 1));
  return {std::istream_iterator<std::string>(rest), std::istream_iterator<std::string>()};
}

double field(const std::vector<std::string>& fields, std::size_t number) {
  if (number < 3 || number - 3 >= fields.size()) return 0;
  try {
    return std::stod(fields[number - 3]);
  } catch (const std::exception&) {
    return 0;
  }
}

double boot_time_seconds() {
  std::istringstream in(read_file("/proc/stat"));
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && in >> value) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

double open_fds() {
  std::error_code error;
  double count = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", error), end; !error && it != end; it.increment(error)) {
    ++count;
  }
  return count;
}

double max_fds() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 0;
  return static_cast<double>(limit.rlim_cur);
}

}  // namespace

void add_process_metrics(Registry& registry) {
  const auto fields = stat_fields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  registry.counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
      .inc({}, ticks > 0 ? (field(fields, 14) + field(fields, 15)) / ticks : 0);
  registry.gauge("process_resident_memory_bytes", "Resident memory size in bytes.").set(field(fields, 24) * page);
  registry.gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").set(field(fields, 23));
  registry.gauge("process_open_fds", "Number of open file descriptors.").set(open_fds());
  registry.gauge("process_max_fds", "Maximum number of open file descriptors.").set(max_fds());
  registry.gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
      .set(ticks > 0 ? boot_time_seconds() + field(fields, 22) / ticks : 0);
}

}  // namespace mailer::metrics
