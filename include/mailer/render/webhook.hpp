#pragma once
// What an outgoing webhook request carries: the JSON body (payload version 1,
// docs/API.md "Webhook payload") and the Standard Webhooks signature headers
// (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
// Pure: no I/O, so the body and the signature are tested byte for byte.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::render {

/// The version field of every payload; bumped only for changes a receiver
/// written for the old shape would misread.
inline constexpr int k_webhook_payload_version = 1;

/// One event as a payload carries it (store::WebhookEventRow, copied by the
/// webhook thread so that render stays apart from the store).
struct WebhookEvent {
  std::int64_t id = 0;  // written "evt_<id>"
  std::string type;
  std::int64_t occurred_at_ms = 0;
  std::optional<std::string> message_id;
  std::optional<std::string> batch_id;
  std::string email;
  std::string tags_json = "{}";              // object of name -> string
  std::optional<std::string> metadata_json;  // the message's metadata, else its batch's; nullopt: null
  std::string detail_json = "{}";
};

/// The body of a delivery of `events`, created at `now_ms`:
/// `{"type":"mailer.events","version":1,"timestamp":RFC3339,"data":[event...]}`,
/// each event `{"id","type","occurred_at","message_id","batch_id","email",
/// "tags","metadata","detail"}` (ids and batch null when absent, tags an
/// object, metadata an object or null, detail an object). Stored JSON that
/// cannot be read shows as {} (core/json.hpp stored_json_or_empty).
std::string webhook_events_body(const std::vector<WebhookEvent>& events, std::int64_t now_ms);

/// The body of a test delivery: `{"type":"mailer.test","version":1,
/// "timestamp":RFC3339,"data":[],"endpoint_id":ID}`.
std::string webhook_test_body(std::string_view endpoint_id, std::int64_t now_ms);

/// A new endpoint secret: "whsec_" + base64 of 32 random bytes (Standard
/// Webhooks "Signature scheme": secrets are base64, 24 to 64 bytes, and may
/// carry the whsec_ prefix).
std::string make_webhook_secret();

/// The value of the `webhook-signature` header: "v1," + base64(HMAC-SHA256
/// of "<id>.<timestamp>.<body>" under the base64-decoded part of `secret`
/// after "whsec_"). `timestamp_seconds`: Unix seconds, as sent in
/// `webhook-timestamp`. Errors: invalid_input when `secret` is not whsec_ +
/// base64. Example (the Standard Webhooks libraries' test vector): secret
/// "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", id
/// "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp 1614265330, body
/// `{"test": 2432232314}` -> "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=".
Result<std::string> webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp_seconds,
                                      std::string_view body);

/// "whd_<id>": a delivery's public id and its webhook-id header.
std::string webhook_delivery_id(std::int64_t id);
/// The number in "whd_<n>", or nullopt.
std::optional<std::int64_t> parse_webhook_delivery_id(std::string_view text);

}  // namespace mailer::render
