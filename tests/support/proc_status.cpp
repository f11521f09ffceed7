#include "support/proc_status.hpp"

#include <fstream>

namespace mailer::test {

std::string proc_status_field(int pid, std::string_view name) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  const std::string prefix = std::string(name) + ":";
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    auto value = line.find_first_not_of(" \t", prefix.size());
    return value == std::string::npos ? std::string() : line.substr(value);
  }
  return {};
}

}  // namespace mailer::test
