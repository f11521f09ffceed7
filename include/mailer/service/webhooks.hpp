#pragma once
// Webhook endpoints and deliveries as the admin API and `mailerctl webhooks`
// manage them: validation (URL scheme and SSRF guard, event types, filters),
// the secret shown once, test deliveries and replays. The sending itself is
// the job engine's (src/jobs/webhook_sender.cpp).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/core/error.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/webhooks.hpp"

namespace mailer::service {

/// Endpoints one database may have: each has a thread and a connection in mailerd.
inline constexpr int k_max_webhook_endpoints = 32;

/// What a create (url required) or an update (only what is set) asks for.
struct WebhookInput {
  std::optional<std::string> url;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> event_types;  // empty: every type
  std::optional<std::optional<std::string>> batch_id;   // inner nullopt: no batch filter
  std::optional<std::map<std::string, std::string>> tags;
  std::optional<bool> enabled;
  bool rotate_secret = false;  // update only
};

/// An endpoint with its secret, right after creation or rotation.
struct EndpointWithSecret {
  store::WebhookEndpoint endpoint;
  std::string secret;
};

class WebhookService {
 public:
  WebhookService(store::Database& db, const Clock& clock, const WebhooksConfig& config)
      : m_db(db), m_clock(clock), m_config(config) {}

  /// Checks `input` and stores the endpoint with a new secret; it receives
  /// events recorded from now on. Errors: invalid_input, one FieldError per
  /// problem: "url" (required; an absolute https:// URL, http:// only with
  /// webhooks.allow_http; no user:password, no fragment; at most 2048
  /// characters; its host must resolve to public addresses unless
  /// webhooks.allow_private_targets), "event_types" / "event_types[i]"
  /// (known types, no repeats), "batch_id" (a bat_ id), "tags" / "tags.<name>"
  /// (at most 10, names and values 1-256 characters), "description" (at most
  /// 500 characters, no control characters); conflict when 32 endpoints
  /// exist; storage_unavailable.
  Result<EndpointWithSecret> create(const WebhookInput& input);
  Result<std::vector<store::WebhookEndpoint>> list();
  /// One page of the endpoints, oldest first; the cursor is the last id of
  /// the page before. Errors: invalid_input naming limit, cursor or offset;
  /// storage_unavailable.
  Result<ListPage<store::WebhookEndpoint>> list(const PageParams& paging);
  /// Errors: not_found.
  Result<store::WebhookEndpoint> get(const std::string& id);
  /// Applies the members set in `input`, checked as in create(); the secret
  /// when rotate_secret (returned once in the answer). Errors: as create(), not_found.
  Result<EndpointWithSecret> update(const std::string& id, const WebhookInput& input);
  /// Errors: not_found.
  Status remove(const std::string& id);
  /// Queues a test delivery ("mailer.test", no events). Errors: not_found;
  /// conflict when the endpoint is disabled.
  Result<store::WebhookDelivery> test(const std::string& id);
  /// Errors: not_found; invalid_input ("status", "limit", "cursor", "offset").
  Result<ListPage<store::WebhookDelivery>> deliveries(const std::string& id, const std::optional<std::string>& status,
                                                      const PageParams& paging);
  /// `delivery_id` is "whd_<n>". Errors: not_found.
  Result<std::pair<store::WebhookDelivery, std::vector<store::WebhookAttempt>>> delivery(
      const std::string& id, const std::string& delivery_id);
  /// Sends a delivered or failed delivery again: same webhook-id and body
  /// (receivers that deduplicate by webhook-id keep one), retried like a new
  /// one. Errors: not_found; conflict when it is pending or the endpoint is
  /// disabled.
  Result<store::WebhookDelivery> replay(const std::string& id, const std::string& delivery_id);

 private:
  Status check(const WebhookInput& input, bool creating);
  /// not_found, or conflict when the endpoint is disabled.
  Status require_enabled(const std::string& id);

  store::Database& m_db;
  const Clock& m_clock;
  const WebhooksConfig& m_config;
};

/// An endpoint as the API and `mailerctl --json` show it, never its secret:
/// id, url, description, event_types, batch_id, tags, enabled,
/// disabled_reason, disabled_at, failing_since, last_success_at, created_at,
/// updated_at.
nlohmann::json to_json(const store::WebhookEndpoint& endpoint);
/// A delivery: id ("whd_<n>"), endpoint_id, kind, status, event_count,
/// first_event_id / last_event_id ("evt_<n>" or null), attempts,
/// next_attempt_at (null unless pending), retry_until, last_status_code,
/// last_error, last_latency_ms, created_at, delivered_at; with `body` when
/// not empty (the exact JSON text sent).
nlohmann::json to_json(const store::WebhookDelivery& delivery);
/// An attempt: at, status_code (null: no answer), error, latency_ms, response.
nlohmann::json to_json(const store::WebhookAttempt& attempt);

}  // namespace mailer::service
