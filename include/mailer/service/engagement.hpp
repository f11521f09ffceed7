#pragma once
// Engagement rates (GET /v1/batches/{id}, GET /v1/admin/metrics, `mailerctl
// batches show`): one definition for every place that shows them.
//
//   open_rate      = unique_opens  / delivered
//   click_rate     = unique_clicks / delivered
//   bounce_rate    = hard_bounces  / sent
//   complaint_rate = complaints    / sent
//
// Opens and clicks count each message once (unique), over what reached a
// mailbox, as mailbox-provider dashboards do. Bounce and complaint rates are
// per message sent and count hard (Permanent) bounces only: the rates Amazon
// SES's reputation metrics show and the reputation guard judges (SES reviews
// an account at 5 % bounces or 0.1 % complaints,
// https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html).
// A rate whose denominator is 0 is unknown (nullopt, JSON null), never 0.

#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/store/engagement.hpp"

namespace mailer::service {

struct EngagementRates {
  std::optional<double> open_rate;  // in [0, 1] as long as DELIVERY events arrive for what is opened
  std::optional<double> click_rate;
  std::optional<double> bounce_rate;
  std::optional<double> complaint_rate;
};

/// The four rates of `counts` as defined above. Pure. A numerator may exceed
/// its denominator when SES publishes opens but not deliveries (the event
/// destination lacks DELIVERY); the rate is then above 1, shown as it is.
EngagementRates engagement_rates(const store::EngagementCounts& counts);

/// The API's `engagement` object, printed the same by mailerctl: {sent,
/// delivered, opens, unique_opens, clicks, unique_clicks, bounces,
/// hard_bounces, complaints, open_rate, click_rate, bounce_rate,
/// complaint_rate}, each rate a number or null.
nlohmann::json engagement_json(const store::EngagementCounts& counts);
/// The same plus "top_links": [{link, clicks, unique_clicks}] in the order given.
nlohmann::json engagement_json(const store::EngagementCounts& counts, const std::vector<store::LinkClicks>& top_links);

}  // namespace mailer::service
