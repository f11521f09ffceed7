#pragma once
// Outgoing webhooks (schema/0006_webhooks.sql): endpoints, their deliveries
// and each delivery's attempts. The webhook thread (src/jobs/webhooks.cpp)
// reads events through an endpoint's cursor and writes deliveries; the API
// and mailerctl manage endpoints and replay deliveries.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/page.hpp"

namespace mailer::store {

struct WebhookEndpoint {
  std::string id;  // "whk_…"
  std::string url;
  std::string description;
  std::string secret;                       // "whsec_…"; never shown but at creation and rotation
  std::vector<std::string> event_types;     // empty: every type
  std::optional<std::string> batch_id;      // only this batch's events
  std::map<std::string, std::string> tags;  // only events whose message carries all these tags
  bool enabled = true;
  std::optional<std::string> disabled_reason;
  std::optional<std::int64_t> disabled_at_ms;
  std::int64_t last_event_id = 0;  // the cursor over events
  std::optional<std::int64_t> failing_since_ms;
  std::optional<std::int64_t> last_success_at_ms;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

/// What an endpoint is made from (validated by the service).
struct NewWebhookEndpoint {
  std::string url;
  std::string description;
  std::vector<std::string> event_types;
  std::optional<std::string> batch_id;
  std::map<std::string, std::string> tags;
  bool enabled = true;
  std::string secret;
};

/// The members a PATCH changes; unset ones stay. `batch_id` set to nullopt
/// inside clears the filter. `secret` set rotates it. `enabled` true on a
/// disabled endpoint also clears its disabled reason and failure clock.
struct WebhookEndpointChange {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> event_types;
  std::optional<std::optional<std::string>> batch_id;
  std::optional<std::map<std::string, std::string>> tags;
  std::optional<bool> enabled;
  std::optional<std::string> secret;
};

enum class DeliveryStatus { pending, delivered, failed };
const char* to_string(DeliveryStatus status);
std::optional<DeliveryStatus> parse_delivery_status(std::string_view text);

struct WebhookDelivery {
  std::int64_t id = 0;  // shown as "whd_<id>", also the webhook-id header
  std::string endpoint_id;
  std::string kind;  // "events" | "test"
  std::optional<std::int64_t> first_event_id;
  std::optional<std::int64_t> last_event_id;
  std::int64_t event_count = 0;
  std::string body;  // empty in lists (WebhookRepo::deliveries)
  DeliveryStatus status = DeliveryStatus::pending;
  std::int64_t attempts = 0;
  std::int64_t next_attempt_at_ms = 0;
  std::int64_t retry_until_ms = 0;
  std::optional<std::int64_t> last_status_code;
  std::optional<std::string> last_error;
  std::optional<std::int64_t> last_latency_ms;
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
  std::optional<std::int64_t> delivered_at_ms;
};

struct WebhookAttempt {
  std::int64_t id = 0;
  std::int64_t delivery_id = 0;
  std::int64_t attempted_at_ms = 0;
  std::optional<std::int64_t> status_code;  // nullopt: no HTTP answer
  std::optional<std::string> error;
  std::int64_t latency_ms = 0;
  std::string response;  // first bytes of the answer
};

/// An event as a webhook carries it: the row plus its message's tags (the
/// message's own, else its batch's) and its metadata (likewise).
struct WebhookEventRow {
  std::int64_t id = 0;
  std::string type;
  std::optional<std::string> batch_id;
  std::optional<std::string> message_id;
  std::string email;
  std::string detail_json = "{}";
  std::int64_t occurred_at_ms = 0;
  std::string tags_json = "{}";
  std::optional<std::string> metadata_json;  // the message's, else its batch's; nullopt: neither
};

/// Events after an endpoint's cursor that pass its type and batch filters.
struct EventScan {
  std::vector<WebhookEventRow> events;  // oldest first
  /// The id the cursor may move to when every event in `events` is taken:
  /// the last event read, or the newest event id when the scan reached the
  /// end (so events the filter skipped are not read again).
  std::int64_t scanned_to = 0;
  bool reached_end = false;  // no event after scanned_to (as of this read)
};

/// The outcome of one attempt, as the webhook thread records it.
struct AttemptRecord {
  std::int64_t delivery_id = 0;
  std::int64_t attempted_at_ms = 0;
  std::optional<std::int64_t> status_code;
  std::optional<std::string> error;
  std::int64_t latency_ms = 0;
  std::string response;
  bool delivered = false;
  /// When not delivered: the next attempt's time, or nullopt to give up.
  std::optional<std::int64_t> next_attempt_at_ms;
  /// When not delivered: disable the endpoint when it has been failing since
  /// this time or earlier (now - webhooks.disable_after_hours).
  std::int64_t disable_if_failing_since_ms = 0;
};

/// What record_attempt changed on the endpoint.
struct AttemptEffect {
  bool endpoint_disabled = false;  // this failure disabled the endpoint
};

/// Per endpoint, for /metrics.
struct WebhookFigures {
  std::string endpoint_id;
  bool enabled = true;
  std::int64_t pending_deliveries = 0;
  std::int64_t events_after_cursor = 0;  // before the endpoint's filters
  /// When the oldest undelivered work began: the oldest pending delivery's
  /// creation or the first event after the cursor, whichever is older.
  std::optional<std::int64_t> oldest_pending_ms;
};

class WebhookRepo {
 public:
  explicit WebhookRepo(Database& db) : m_db(db) {}

  /// Stores a new endpoint (id made here) whose cursor starts at the newest
  /// event: it receives events recorded from now on. Errors:
  /// storage_unavailable.
  Result<WebhookEndpoint> create(const NewWebhookEndpoint& endpoint, std::int64_t now_ms);
  /// Every endpoint, oldest first (at most webhooks' own cap, so no paging).
  Result<std::vector<WebhookEndpoint>> list();
  /// One page of the endpoints in id order (oldest first); `page.after` is
  /// the last id of the page before. Errors: storage_unavailable.
  Result<Page<WebhookEndpoint>> list(const PageQuery& page);
  /// Errors: not_found "webhook endpoint ID not found".
  Result<WebhookEndpoint> get(const std::string& id);
  Result<std::int64_t> count();
  /// Errors: not_found.
  Result<WebhookEndpoint> update(const std::string& id, const WebhookEndpointChange& change, std::int64_t now_ms);
  /// Deletes the endpoint with its deliveries and attempts. Errors: not_found.
  Status remove(const std::string& id);

  /// The oldest pending delivery of `endpoint_id`, body included.
  Result<std::optional<WebhookDelivery>> next_pending(const std::string& endpoint_id);
  /// Up to `limit` events after `endpoint.last_event_id` matching its type
  /// and batch filters, reading at most `scan_limit` rows (the tag filter is
  /// the caller's: tags are JSON). Read in one read transaction.
  Result<EventScan> events_after(const WebhookEndpoint& endpoint, int limit, int scan_limit);
  /// Inserts a pending delivery of `event_count` events
  /// [first_event_id, last_event_id] and moves the cursor from `cursor_was`
  /// to `cursor_to`, in one transaction. nullopt (nothing written) when the
  /// cursor is no longer `cursor_was` (the endpoint changed meanwhile).
  struct NewDelivery {
    std::string kind = "events";
    std::optional<std::int64_t> first_event_id;
    std::optional<std::int64_t> last_event_id;
    std::int64_t event_count = 0;
    std::string body;
    std::int64_t now_ms = 0;
    std::int64_t retry_until_ms = 0;
  };
  Result<std::optional<std::int64_t>> create_delivery(const std::string& endpoint_id, std::int64_t cursor_was,
                                                      std::int64_t cursor_to, const NewDelivery& delivery);
  /// Moves the cursor over events the filters skipped. False when it moved meanwhile.
  Result<bool> advance_cursor(const std::string& endpoint_id, std::int64_t cursor_was, std::int64_t cursor_to);
  /// A test delivery (kind "test"), pending now. Errors: not_found.
  Result<WebhookDelivery> add_test_delivery(const std::string& endpoint_id, const NewDelivery& delivery);
  /// The delivery to create with a successful attempt's record, as
  /// create_delivery() would (cursor compare-and-set included).
  struct NextDelivery {
    std::int64_t cursor_was = 0;
    std::int64_t cursor_to = 0;
    NewDelivery delivery;
  };
  /// Records one attempt: the attempt row, the delivery's new state, and on
  /// the endpoint the failure clock (cleared by a success, started by the
  /// first failure) and, past `disable_if_failing_since_ms`, disabled with a
  /// reason. With `next` and a delivered attempt, also creates the next
  /// delivery: one commit instead of two per delivery while events stream,
  /// which is what the job engine's writer feels. One transaction.
  Result<AttemptEffect> record_attempt(const std::string& endpoint_id, const AttemptRecord& record,
                                       const NextDelivery* next = nullptr);

  /// Deliveries of `endpoint_id`, newest first, optionally of one status;
  /// bodies left out. `page.after` is the decimal id of the last one seen.
  /// Errors: not_found (endpoint), invalid_input (cursor).
  Result<Page<WebhookDelivery>> deliveries(const std::string& endpoint_id, std::optional<DeliveryStatus> status,
                                           const PageQuery& page);
  /// One delivery with its body, and its attempts oldest first. Errors: not_found.
  Result<std::pair<WebhookDelivery, std::vector<WebhookAttempt>>> delivery(const std::string& endpoint_id,
                                                                           std::int64_t delivery_id);
  /// Makes a delivered or failed delivery pending again, due now, same body
  /// and id. Errors: not_found; conflict when it is still pending.
  Result<WebhookDelivery> replay(const std::string& endpoint_id, std::int64_t delivery_id, std::int64_t now_ms,
                                 std::int64_t retry_until_ms);

  /// Deletes up to `limit` delivered or failed deliveries (with their
  /// attempts) last changed before `before_ms`; returns how many.
  Result<std::int64_t> prune(std::int64_t before_ms, int limit);

  /// Figures of every endpoint for /metrics.
  Result<std::vector<WebhookFigures>> figures();

 private:
  Database& m_db;
};

}  // namespace mailer::store
