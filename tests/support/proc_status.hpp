#pragma once
// Fields of /proc/<pid>/status, for tests that check what the kernel says of a
// running mailerd (peak memory, ignored signals).

#include <string>
#include <string_view>

namespace mailer::test {

/// The value of line `name` of /proc/`pid`/status ("VmHWM" -> "1234 kB"),
/// without the name, colon and leading blanks; empty when there is no such
/// line or no such process.
std::string proc_status_field(int pid, std::string_view name);

}  // namespace mailer::test
