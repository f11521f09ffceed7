#include "mailer/http/router.hpp"

#include <algorithm>
#include <stdexcept>

#include <httplib.h>

namespace mailer::http {

namespace {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  while (true) {
    auto slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

bool is_param(std::string_view segment) {
  return segment.size() >= 2 && segment.front() == '{' && segment.back() == '}';
}

int param_count(std::string_view pattern) {
  int count = 0;
  for (auto segment : split_path(pattern)) count += is_param(segment) ? 1 : 0;
  return count;
}

void check_pattern(const std::string& pattern) {
  if (pattern.empty() || pattern.front() != '/')
    throw std::invalid_argument("route pattern must start with '/': " + pattern);
  for (auto segment : split_path(pattern)) {
    if (segment == "{}") throw std::invalid_argument("route pattern has an empty {}: " + pattern);
  }
}

}  // namespace

std::size_t body_limit(const Route& route, std::size_t server_max_body_bytes) {
  if (route.access != Access::none) return server_max_body_bytes;
  return std::min(route.unkeyed_body_limit, server_max_body_bytes);
}

std::optional<std::map<std::string, std::string>> match_pattern(std::string_view pattern, std::string_view path) {
  auto want = split_path(pattern);
  auto have = split_path(path);
  if (want.empty() || want.size() != have.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (is_param(want[i])) {
      if (have[i].empty()) return std::nullopt;
      params.emplace(std::string(want[i].substr(1, want[i].size() - 2)),
                     httplib::detail::decode_url(std::string(have[i]), false));
    } else if (want[i] != have[i]) {
      return std::nullopt;
    }
  }
  return params;
}

void Router::add(Route route) {
  check_pattern(route.pattern);
  for (const auto& existing : m_routes) {
    if (existing.method == route.method && existing.pattern == route.pattern)
      throw std::invalid_argument("duplicate route " + route.method + " " + route.pattern);
  }
  m_routes.push_back(std::move(route));
}

RouteMatch Router::match(std::string_view method, std::string_view path) const {
  std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  // The most literal pattern owns a path: /v1/messages/batch is its own
  // resource (POST only), not /v1/messages/{id} with id "batch", so other
  // methods there are 405 with Allow: POST.
  int fewest_params = -1;
  for (const auto& route : m_routes) {
    if (!match_pattern(route.pattern, path)) continue;
    int count = param_count(route.pattern);
    if (fewest_params < 0 || count < fewest_params) fewest_params = count;
  }
  RouteMatch result;
  for (const auto& route : m_routes) {
    if (param_count(route.pattern) != fewest_params) continue;
    auto params = match_pattern(route.pattern, path);
    if (!params) continue;
    if (std::find(result.allowed_methods.begin(), result.allowed_methods.end(), route.method) ==
        result.allowed_methods.end()) {
      result.allowed_methods.push_back(route.method);
    }
    if (result.pattern.empty()) result.pattern = route.pattern;
    if (route.method == wanted && result.route == nullptr) {
      result.route = &route;
      result.params = std::move(*params);
    }
  }
  return result;
}

}  // namespace mailer::http
