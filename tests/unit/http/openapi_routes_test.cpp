// docs/openapi.yaml and the router describe the same API: every route the
// router serves is a documented operation and every documented operation is
// served. The YAML is read with a line scan of its `paths:` section (no YAML
// library in the C++ dependencies); the Redocly lint (ctest openapi_lint)
// separately checks that the document is valid, so its layout is the
// standard one this scan expects: path keys indented 2, methods 4.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "mailer/http/router.hpp"
#include "mailer/http/routes.hpp"

namespace {

std::set<std::string> documented_operations(const std::string& file) {
  std::ifstream in(file);
  REQUIRE(in);
  static const std::regex k_path(R"(^  '?(/[^':]*)'?:\s*$)");
  static const std::regex k_method(R"(^    (get|put|post|delete|patch|head|options|trace):\s*$)");
  std::set<std::string> out;
  std::string line;
  std::string path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = line.rfind("paths:", 0) == 0;
    if (!in_paths) continue;
    std::smatch match;
    if (std::regex_match(line, match, k_path)) {
      path = match[1];
    } else if (std::regex_match(line, match, k_method) && !path.empty()) {
      std::string method = match[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert(method + " " + path);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("docs/openapi.yaml documents exactly the router's routes", "[http][openapi]") {
  mailer::http::Router router;
  mailer::http::register_all_routes(router);
  std::set<std::string> served;
  for (const auto& route : router.routes()) served.insert(route.method + " " + route.pattern);
  auto documented = documented_operations(std::string(MAILER_SOURCE_DIR) + "/docs/openapi.yaml");
  REQUIRE(documented.size() > 10);  // the scan found the paths section
  std::set<std::string> undocumented;
  std::set<std::string> unserved;
  for (const auto& op : served)
    if (!documented.contains(op)) undocumented.insert(op);
  for (const auto& op : documented)
    if (!served.contains(op)) unserved.insert(op);
  CHECK(undocumented == std::set<std::string>{});
  CHECK(unserved == std::set<std::string>{});
}
