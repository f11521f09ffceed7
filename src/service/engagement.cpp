#include "mailer/service/engagement.hpp"

#include <cstdint>

namespace mailer::service {
namespace {

std::optional<double> ratio(std::int64_t part, std::int64_t whole) {
  if (whole <= 0) return std::nullopt;
  return static_cast<double>(part) / static_cast<double>(whole);
}

nlohmann::json rate_json(const std::optional<double>& rate) {
  return rate ? nlohmann::json(*rate) : nlohmann::json(nullptr);
}

}  // namespace

EngagementRates engagement_rates(const store::EngagementCounts& counts) {
  return {ratio(counts.unique_opens, counts.delivered), ratio(counts.unique_clicks, counts.delivered),
          ratio(counts.hard_bounces, counts.sent), ratio(counts.complaints, counts.sent)};
}

nlohmann::json engagement_json(const store::EngagementCounts& counts) {
  auto rates = engagement_rates(counts);
  return {{"sent", counts.sent},
          {"delivered", counts.delivered},
          {"opens", counts.opens},
          {"unique_opens", counts.unique_opens},
          {"clicks", counts.clicks},
          {"unique_clicks", counts.unique_clicks},
          {"bounces", counts.bounces},
          {"hard_bounces", counts.hard_bounces},
          {"complaints", counts.complaints},
          {"open_rate", rate_json(rates.open_rate)},
          {"click_rate", rate_json(rates.click_rate)},
          {"bounce_rate", rate_json(rates.bounce_rate)},
          {"complaint_rate", rate_json(rates.complaint_rate)}};
}

nlohmann::json engagement_json(const store::EngagementCounts& counts, const std::vector<store::LinkClicks>& top_links) {
  auto out = engagement_json(counts);
  auto links = nlohmann::json::array();
  for (const auto& l : top_links) {
    links.push_back({{"link", l.link}, {"clicks", l.clicks}, {"unique_clicks", l.unique_clicks}});
  }
  out["top_links"] = std::move(links);
  return out;
}

}  // namespace mailer::service
