#include "mailer/store/destinations.hpp"

#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"

namespace mailer::store {
namespace {

Error stored_error(std::string_view problem) {
  return make_error(ErrorCode::invalid_input, fmt::format("stored destinations: {}", problem));
}

Result<std::vector<std::string>> read_addresses(const nlohmann::json& object, const char* name) {
  std::vector<std::string> out;
  auto it = object.find(name);
  if (it == object.end()) return out;
  if (!it->is_array()) return stored_error(fmt::format("{} must be an array", name));
  for (const auto& item : *it) {
    if (!item.is_string() || item.get_ref<const std::string&>().empty())
      return stored_error(fmt::format("{} must hold addresses", name));
    out.push_back(item.get<std::string>());
  }
  return out;
}

}  // namespace

std::string Destinations::first() const {
  for (const auto* list : {&to, &cc, &bcc}) {
    if (!list->empty()) return list->front();
  }
  return {};
}

std::string write_destinations(const Destinations& d) {
  return dump_json(nlohmann::json{{"to", d.to}, {"cc", d.cc}, {"bcc", d.bcc}});
}

Result<Destinations> read_destinations(std::string_view stored) {
  auto json = parse_json(stored, "destinations", {.max_bytes = k_size_checked_elsewhere});
  if (!json) return stored_error(json.error().detail);
  if (!json->is_object()) return stored_error("must be an object");
  Destinations out;
  for (auto [name, list] : {std::pair{"to", &out.to}, std::pair{"cc", &out.cc}, std::pair{"bcc", &out.bcc}}) {
    auto addresses = read_addresses(*json, name);
    if (!addresses) return std::move(addresses).error();
    *list = std::move(*addresses);
  }
  if (out.size() == 0 || out.size() > k_max_destinations)
    return stored_error(fmt::format("{} addresses; 1 to {} are allowed", out.size(), k_max_destinations));
  return out;
}

std::string write_dropped(const std::vector<DroppedRecipient>& dropped) {
  auto out = nlohmann::json::array();
  for (const auto& d : dropped) out.push_back({{"email", d.email}, {"field", d.field}, {"reason", d.reason}});
  return dump_json(out);
}

}  // namespace mailer::store
