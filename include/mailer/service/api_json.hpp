#pragma once
// The API's JSON objects, written once for every reader: the /v1 routes and
// `mailerctl --json` call the same function for the same object, so a field
// renamed here changes both (one owner per shape). The shapes are those of
// docs/openapi.yaml: snake_case members, RFC 3339 UTC times, stored JSON
// columns inlined as JSON, absent values as null.
//
// DLQ entries, keys, suppressions and webhook endpoints have their writers
// beside their services (dlq.hpp, keys.hpp, suppressions.hpp, webhooks.hpp).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/render/template.hpp"
#include "mailer/service/batches.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"
#include "mailer/store/messages.hpp"
#include "mailer/store/templates.hpp"

namespace mailer::service {

/// Template: {id, name, version, subject, html, text, variables, created_at, updated_at}.
nlohmann::json to_json(const store::Template& t);
/// TemplateVersion: {template_id, version, subject, html, text, variables, created_at}.
nlohmann::json to_json(const store::TemplateVersion& v);
/// A render preview: {subject, html, text}.
nlohmann::json to_json(const render::RenderedMessage& m);
/// The 202 of POST /v1/batches: {id, status, counts{accepted, duplicate,
/// suppressed, invalid}, invalid[{index, address, reason}]}.
nlohmann::json to_json(const BatchAccepted& accepted);
/// Batch: {id, status, ..., counts, states (state -> count), events (type ->
/// count), engagement, created_at, updated_at, completed_at}.
nlohmann::json to_json(const store::Batch& batch);
/// One recipient of GET /v1/batches/{id}/recipients.
nlohmann::json to_json(const store::Recipient& recipient);
/// Event: {id ("evt_<n>"), type, batch_id, message_id, email, metadata,
/// detail, occurred_at}. Also one line of `mailerctl events export`.
nlohmann::json to_json(const store::Event& event);
/// Message of GET /v1/messages/{id}, its events included.
nlohmann::json to_json(const store::Message& message);

/// GET /v1/admin/queue: what waits and what the engine does now.
struct QueueStatus {
  std::map<std::string, std::int64_t> depth;  // "scheduled", "queued", "sending" -> messages
  std::optional<std::int64_t> in_flight;      // claimed and not yet recorded
  std::optional<double> send_rate_per_second;
  std::int64_t sent_24h = 0;               // SENT events in the rolling SES quota window
  std::optional<double> max_24_hour_send;  // SES GetAccount's quota; nullopt before it answered
  std::optional<double> max_send_rate;
  nlohmann::json engine = nullptr;  // the running engine's own figures (mailerd only)
};
/// {depth, in_flight, send_rate_per_second, quota{sent_24h, max_24_hour_send,
/// max_send_rate}, engine}; unknown values are null.
nlohmann::json to_json(const QueueStatus& queue);
/// The database's part of QueueStatus: depth by state and sent_24h (other
/// members left empty), from trigger-kept counters, so it stays cheap on a
/// queue of millions. Errors: storage_unavailable.
Result<QueueStatus> read_queue_status(store::Database& db, const Clock& clock);

/// One list page: {"data": data, "next_cursor": null, or the cursor when
/// `next_cursor` is not empty}.
nlohmann::json page_json(nlohmann::json data, const std::string& next_cursor);

}  // namespace mailer::service
