#include "support/prometheus_text.hpp"

#include <sstream>

#include "support/child_process.hpp"

namespace mailer::test {

std::optional<double> sample_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

PromtoolVerdict promtool_check(const std::string& text) {
  auto which = run_command({"/bin/sh", "-c", "command -v promtool"});
  if (which.exit_code != 0) return {};
  auto path = which.output.substr(0, which.output.find('\n'));  // posix_spawn does not search PATH
  auto result = run_command({path, "check", "metrics"}, {}, text);
  return {true, result.exit_code, result.output + result.errors};
}

std::size_t sample_count(const std::string& text, std::string_view prefix) {
  std::size_t samples = 0;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    samples += !line.empty() && line[0] != '#' && line.starts_with(prefix) ? 1 : 0;
  }
  return samples;
}

}  // namespace mailer::test
