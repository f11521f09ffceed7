#pragma once
// CLI11 for mailerd and mailerctl. NOTE: g++ 12 reports a -Wnull-dereference
// false positive inside CLI11's own detail::split once it is inlined at -O2
// (the vector it dereferences was just grown); silence it for CLI11's code only.

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop
