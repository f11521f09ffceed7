// GET /v1/admin/metrics (SPEC §3 Admin): event counts, bounce and complaint
// rates, engagement figures (service::engagement_rates) and sent-per-hour
// buckets over `period` (24h, 7d, 30d) or `from`/`to` (RFC 3339), plus the
// account's last 24 h rates beside the thresholds at which SES reviews an
// account. Everything comes from event_counts_hourly, which a
// trigger keeps per hour and type, so the answer never counts event rows.
//
// Ranges are widened to whole UTC hours (the aggregates' grain): `from` down
// to its hour, `to` up to the next hour start; the answer says which range it used.
#include <httplib.h>

#include <optional>

#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/engagement.hpp"
#include "mailer/store/metrics_queries.hpp"

namespace mailer::http {

namespace {

using store::k_hour_ms;

// Amazon SES puts an account under review at a 5 % bounce rate or a 0.1 %
// complaint rate: https://docs.aws.amazon.com/ses/latest/dg/faqs-enforcement.html
constexpr double k_ses_bounce_review_rate = 0.05;
constexpr double k_ses_complaint_review_rate = 0.001;
constexpr std::int64_t k_max_range_hours = 24 * 366;

struct Range {
  std::int64_t from_ms = 0;  // hour starts
  std::int64_t to_ms = 0;
  std::optional<std::string> period;
};

std::int64_t floor_hour(std::int64_t ms) { return ms - (((ms % k_hour_ms) + k_hour_ms) % k_hour_ms); }
std::int64_t ceil_hour(std::int64_t ms) { return floor_hour(ms) == ms ? ms : floor_hour(ms) + k_hour_ms; }

Error field_error(const std::string& field, const std::string& message) {
  Error error = make_error(ErrorCode::invalid_input, field + ": " + message);
  error.fields.push_back({field, message});
  return error;
}

Result<Range> period_range(const std::string& period, std::int64_t now_ms) {
  static const std::map<std::string, std::int64_t> k_hours{{"24h", 24}, {"7d", 24 * 7}, {"30d", 24 * 30}};
  auto found = k_hours.find(period);
  if (found == k_hours.end()) return field_error("period", "must be one of 24h, 7d, 30d");
  // The current hour counts as the last bucket, so "24h" ends at the next hour start.
  auto to = floor_hour(now_ms) + k_hour_ms;
  return Range{to - found->second * k_hour_ms, to, period};
}

Result<std::int64_t> parse_time(const httplib::Request& req, const std::string& field) {
  std::int64_t ms = 0;
  if (!parse_rfc3339(req.get_param_value(field.c_str()), ms)) {
    return field_error(field, "must be an RFC 3339 time such as 2026-12-01T09:00:00Z");
  }
  return ms;
}

Result<Range> explicit_range(const httplib::Request& req, std::int64_t now_ms) {
  if (!req.has_param("from")) return field_error("from", "is required with to");
  auto from = parse_time(req, "from");
  if (!from) return from.error();
  std::int64_t to_ms = now_ms;
  if (req.has_param("to")) {
    auto to = parse_time(req, "to");
    if (!to) return to.error();
    to_ms = *to;
  }
  if (*from >= to_ms) return field_error("to", "must be after from");
  Range range{floor_hour(*from), ceil_hour(to_ms), std::nullopt};
  if (range.to_ms - range.from_ms > k_max_range_hours * k_hour_ms) {
    return field_error("to", "the range may span at most 366 days");
  }
  return range;
}

Result<Range> requested_range(const httplib::Request& req, std::int64_t now_ms) {
  bool has_period = req.has_param("period");
  if (has_period && (req.has_param("from") || req.has_param("to"))) {
    return field_error("period", "give either period or from/to, not both");
  }
  if (req.has_param("from") || req.has_param("to")) return explicit_range(req, now_ms);
  return period_range(has_period ? req.get_param_value("period") : "24h", now_ms);
}

nlohmann::json rate_json(const std::optional<double>& rate) {
  return rate ? nlohmann::json(*rate) : nlohmann::json(nullptr);
}

nlohmann::json summary_json(const store::EventSummary& summary) {
  auto rates = service::engagement_rates(summary.engagement);
  nlohmann::json hours = nlohmann::json::array();
  for (const auto& hour : summary.sent_per_hour) {
    hours.push_back({{"hour", format_rfc3339(hour.hour_ms)}, {"sent", hour.count}});
  }
  return {{"counts", summary.counts},
          {"bounce_rate", rate_json(rates.bounce_rate)},
          {"complaint_rate", rate_json(rates.complaint_rate)},
          {"engagement", service::engagement_json(summary.engagement)},
          {"sent_per_hour", hours}};
}

nlohmann::json account_json(const store::EventSummary& last_day, const GuardConfig& guard) {
  auto rates = service::engagement_rates(last_day.engagement);
  auto status = [](const std::optional<double>& value, double threshold) {
    return value && *value >= threshold ? "over" : "ok";
  };
  return {{"window", "24h"},
          {"sent", last_day.engagement.sent},
          {"bounce_rate", rate_json(rates.bounce_rate)},
          {"complaint_rate", rate_json(rates.complaint_rate)},
          {"ses_bounce_review_rate", k_ses_bounce_review_rate},
          {"ses_complaint_review_rate", k_ses_complaint_review_rate},
          {"guard_bounce_rate", guard.max_bounce_rate},
          {"guard_complaint_rate", guard.max_complaint_rate},
          {"bounce_status", status(rates.bounce_rate, k_ses_bounce_review_rate)},
          {"complaint_status", status(rates.complaint_rate, k_ses_complaint_review_rate)}};
}

void get_admin_metrics(const httplib::Request& req, httplib::Response& res, Context& context) {
  auto now_ms = to_ms(context.deps.clock.now());
  auto range = requested_range(req, now_ms);
  if (!range) return write_problem(res, range.error());
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  auto summary = store::event_summary(**db, range->from_ms, range->to_ms);
  if (!summary) return write_problem(res, summary.error());
  auto day = period_range("24h", now_ms);
  auto last_day = store::event_summary(**db, day->from_ms, day->to_ms);
  if (!last_day) return write_problem(res, last_day.error());
  auto body = summary_json(*summary);
  body["from"] = format_rfc3339(range->from_ms);
  body["to"] = format_rfc3339(range->to_ms);
  body["period"] = range->period ? nlohmann::json(*range->period) : nlohmann::json(nullptr);
  body["account"] = account_json(*last_day, context.deps.config.guard);
  write_json(res, 200, body);
}

}  // namespace

void register_admin_metrics_routes(Router& router) {
  router.add({"GET", "/v1/admin/metrics", Access::admin, BodyKind::none, get_admin_metrics});
}

}  // namespace mailer::http
