#pragma once
// Small helpers for the service tests.

#include <algorithm>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::test {

/// The field names of `error`, in order.
inline std::vector<std::string> fields_of(const Error& error) {
  std::vector<std::string> names;
  for (const auto& f : error.fields) names.push_back(f.field);
  return names;
}

inline bool has_field(const Error& error, const std::string& name) {
  auto names = fields_of(error);
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace mailer::test
