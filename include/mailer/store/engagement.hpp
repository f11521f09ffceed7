#pragma once
// Engagement figures of a batch or of a span of hours: what was sent and
// delivered, opened and clicked (in total and once per message), bounced and
// complained about, and which links of a batch were clicked most. Every figure
// is an aggregate the schema's triggers keep in the transaction that inserts
// the event (schema/0005_engagement.sql: batch_counts, event_counts_hourly,
// batch_links), so reading one never counts event rows and survives pruning.
// The rates built from these figures are service::engagement_rates().

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::store {

class Database;

/// Counts behind the engagement rates; all >= 0.
struct EngagementCounts {
  std::int64_t sent = 0;           // batch: messages in state sent; hours: SENT events
  std::int64_t delivered = 0;      // DELIVERY events
  std::int64_t opens = 0;          // OPEN events (every open, repeats included)
  std::int64_t unique_opens = 0;   // messages with at least one OPEN ('unique:OPEN')
  std::int64_t clicks = 0;         // CLICK events
  std::int64_t unique_clicks = 0;  // messages with at least one CLICK ('unique:CLICK')
  std::int64_t bounces = 0;        // BOUNCE events, hard and soft
  std::int64_t hard_bounces = 0;   // BOUNCE events of bounce_type Permanent ('feedback:bounce_permanent')
  std::int64_t complaints = 0;     // COMPLAINT events
};

/// The aggregate keys (batch_counts.key, event_counts_hourly.type) the
/// engagement triggers write besides 'event:<TYPE>' / <TYPE>.
inline constexpr const char* k_count_unique_open = "unique:OPEN";
inline constexpr const char* k_count_unique_click = "unique:CLICK";

/// One link clicked in a batch's messages.
struct LinkClicks {
  std::string link;                // as SES reported it, at most k_max_link_chars characters
  std::int64_t clicks = 0;         // CLICK events on it
  std::int64_t unique_clicks = 0;  // messages that clicked it at least once
};

/// Characters of a link kept in batch_links (the event detail keeps at most
/// 2048 bytes of it already).
inline constexpr std::size_t k_max_link_chars = 2048;
/// Links a batch view shows.
inline constexpr int k_top_links = 10;

/// The `limit` (1..100) most clicked links of batch `batch_id`: most unique
/// clicks first, then most clicks, then by link (byte order) — a stable
/// order. One seek on the batch_links_top index: O(limit), whatever the number
/// of links or events. An unknown batch has none. Errors: invalid_input for a
/// limit out of range; storage_unavailable.
Result<std::vector<LinkClicks>> top_links(Database& db, const std::string& batch_id, int limit = k_top_links);

}  // namespace mailer::store
