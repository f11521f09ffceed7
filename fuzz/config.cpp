// The configuration reader (src/core/config.cpp): a TOML file and the
// environment. Not remote input, but a typo must give exit 78 with a message,
// never a crash, and `mailerctl config check` prints whatever it read.
//
// Input: the TOML text, then "\n@@@@\n", then environment lines NAME=VALUE.
// The TOML is handed over as a memfd (/proc/self/fd/N): load_config reads a path.

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_input.hpp"
#include "mailer/core/config.hpp"

namespace {

std::map<std::string, std::string> env_lines(const std::string& text) {
  std::map<std::string, std::string> env;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    const auto equals = line.find('=');
    if (equals != std::string::npos) env[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return env;
}

// A path that reads back `text`, or "" when no memfd can be made.
class MemoryFile {
 public:
  explicit MemoryFile(const std::string& text) : m_fd(memfd_create("fuzz.toml", MFD_CLOEXEC)) {
    if (m_fd < 0) return;
    if (::write(m_fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) return;
    m_path = "/proc/self/fd/" + std::to_string(m_fd);
  }
  ~MemoryFile() {
    if (m_fd >= 0) ::close(m_fd);
  }
  MemoryFile(const MemoryFile&) = delete;
  MemoryFile& operator=(const MemoryFile&) = delete;
  const std::string& path() const { return m_path; }

 private:
  int m_fd;
  std::string m_path;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto parts = mailer::fuzz::split_input(data, size, 2);
  MemoryFile toml(parts[0]);
  if (toml.path().empty()) return 0;
  const auto env = env_lines(parts[1]);
  std::vector<std::string> names;
  for (const auto& [name, value] : env) names.push_back(name);
  const mailer::EnvLookup lookup = [&env](const char* name) -> std::optional<std::string> {
    const auto found = env.find(name);
    if (found == env.end()) return std::nullopt;
    return found->second;
  };
  auto loaded = mailer::load_config(toml.path(), lookup, names);
  if (!loaded) {
    std::ostringstream out;
    mailer::print_config_errors(loaded.error(), out);
  }
  return 0;
}
