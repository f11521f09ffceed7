#include "mailer/store/engagement.hpp"

#include <fmt/format.h>

#include "mailer/store/feedback.hpp"
#include "store/engagement_rows.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {

namespace engagement_rows {

std::vector<LinkClicks> top_links(SQLite::Database& db, const std::string& batch_id, int limit) {
  // The ORDER BY is the batch_links_top index's order: a seek and `limit` steps.
  SQLite::Statement query(db,
                          "SELECT link, clicks, unique_clicks FROM batch_links WHERE batch_id = ?"
                          " ORDER BY unique_clicks DESC, clicks DESC, link LIMIT ?");
  query.bind(1, batch_id);
  query.bind(2, limit);
  std::vector<LinkClicks> links;
  while (query.executeStep()) {
    links.push_back({query.getColumn(0).getString(), query.getColumn(1).getInt64(), query.getColumn(2).getInt64()});
  }
  return links;
}

void add_count(EngagementCounts& counts, const std::string& key, std::int64_t n, const std::string& event_prefix) {
  const bool batch_keys = !event_prefix.empty();
  if (key == (batch_keys ? "state:sent" : "SENT")) counts.sent += n;
  else if (key == event_prefix + "DELIVERY") counts.delivered += n;
  else if (key == event_prefix + "OPEN") counts.opens += n;
  else if (key == event_prefix + "CLICK") counts.clicks += n;
  else if (key == event_prefix + "BOUNCE") counts.bounces += n;
  else if (key == event_prefix + "COMPLAINT") counts.complaints += n;
  else if (key == k_count_unique_open) counts.unique_opens += n;
  else if (key == k_count_unique_click) counts.unique_clicks += n;
  else if (key == k_count_bounce_permanent) counts.hard_bounces += n;
}

}  // namespace engagement_rows

Result<std::vector<LinkClicks>> top_links(Database& db, const std::string& batch_id, int limit) {
  if (limit < 1 || limit > 100) {
    return make_error(ErrorCode::invalid_input, fmt::format("top links: limit {} is not within 1..100", limit));
  }
  return sql::guard("read top links", [&]() -> Result<std::vector<LinkClicks>> {
    return engagement_rows::top_links(db.sql(), batch_id, limit);
  });
}

}  // namespace mailer::store
