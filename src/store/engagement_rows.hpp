#pragma once
// Reading the engagement aggregates inside another repo's statement work
// (internal to src/store; the public reads are in mailer/store/engagement.hpp).

#include <string>
#include <vector>

#include <SQLiteCpp/Database.h>

#include "mailer/store/engagement.hpp"

namespace mailer::store::engagement_rows {

/// The `limit` most clicked links of `batch_id` in top_links()'s order.
/// Throws SQLite::Exception (the caller's sql::guard converts it).
std::vector<LinkClicks> top_links(SQLite::Database& db, const std::string& batch_id, int limit);

/// Adds the figure an aggregate key stands for to `counts`, when it is one of
/// the engagement keys ('state:sent', 'event:DELIVERY', …, 'unique:OPEN').
/// `event_prefix` is "event:" for batch_counts keys and "" for the event types
/// of event_counts_hourly, where `sent` is the SENT events.
void add_count(EngagementCounts& counts, const std::string& key, std::int64_t n, const std::string& event_prefix);

}  // namespace mailer::store::engagement_rows
