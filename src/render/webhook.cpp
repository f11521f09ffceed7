#include "mailer/render/webhook.hpp"

#include <charconv>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::render {
namespace {

constexpr std::string_view k_secret_prefix = "whsec_";
constexpr std::size_t k_secret_bytes = 32;

nlohmann::ordered_json optional_text(const std::optional<std::string>& text) {
  return text ? nlohmann::ordered_json(*text) : nlohmann::ordered_json(nullptr);
}

// Stored JSON re-read (bounded parser, at most 64 levels) so the body embeds
// it as JSON, not as a string.
nlohmann::ordered_json stored(std::string_view text) { return nlohmann::ordered_json(stored_json_or_empty(text)); }

// Parsed stored JSON by its text: the events of one body mostly share their
// batch's tags and metadata, which are then read once, not once per event.
using ParsedByText = std::unordered_map<std::string_view, nlohmann::ordered_json>;

const nlohmann::ordered_json& stored_cached(std::string_view text, ParsedByText& cache) {
  auto it = cache.find(text);
  if (it == cache.end()) it = cache.emplace(text, stored(text)).first;
  return it->second;
}

nlohmann::ordered_json event_json(const WebhookEvent& e, ParsedByText& cache) {
  nlohmann::ordered_json out;
  out["id"] = "evt_" + std::to_string(e.id);
  out["type"] = e.type;
  out["occurred_at"] = format_rfc3339(e.occurred_at_ms);
  out["message_id"] = optional_text(e.message_id);
  out["batch_id"] = optional_text(e.batch_id);
  out["email"] = e.email;
  out["tags"] = stored_cached(e.tags_json, cache);
  out["metadata"] = e.metadata_json ? stored_cached(*e.metadata_json, cache) : nlohmann::ordered_json(nullptr);
  out["detail"] = stored(e.detail_json);
  return out;
}

nlohmann::ordered_json envelope(std::string_view type, std::int64_t now_ms) {
  nlohmann::ordered_json out;
  out["type"] = type;
  out["version"] = k_webhook_payload_version;
  out["timestamp"] = format_rfc3339(now_ms);
  out["data"] = nlohmann::ordered_json::array();
  return out;
}

}  // namespace

std::string webhook_events_body(const std::vector<WebhookEvent>& events, std::int64_t now_ms) {
  auto body = envelope("mailer.events", now_ms);
  ParsedByText cache;  // keys view into `events`, which outlive it
  for (const auto& e : events) body["data"].push_back(event_json(e, cache));
  return dump_json(body);
}

std::string webhook_test_body(std::string_view endpoint_id, std::int64_t now_ms) {
  auto body = envelope("mailer.test", now_ms);
  body["endpoint_id"] = endpoint_id;
  return dump_json(body);
}

std::string make_webhook_secret() {
  std::string random = crypto::random_bytes(k_secret_bytes);
  std::string secret = std::string(k_secret_prefix) + crypto::base64_encode(random);
  crypto::wipe(random);
  return secret;
}

Result<std::string> webhook_signature(std::string_view secret, std::string_view id, std::int64_t timestamp_seconds,
                                      std::string_view body) {
  if (secret.starts_with(k_secret_prefix)) secret.remove_prefix(k_secret_prefix.size());
  std::string key;
  if (!crypto::base64_decode(secret, key) || key.empty())
    return make_error(ErrorCode::invalid_input, "webhook secret is not whsec_ followed by base64");
  std::string content;
  content.reserve(id.size() + body.size() + 24);
  content.append(id).append(".").append(std::to_string(timestamp_seconds)).append(".").append(body);
  auto mac = crypto::hmac_sha256(key, content);
  crypto::wipe(key);
  return "v1," + crypto::base64_encode(crypto::as_bytes(mac));
}

std::string webhook_delivery_id(std::int64_t id) { return "whd_" + std::to_string(id); }

std::optional<std::int64_t> parse_webhook_delivery_id(std::string_view text) {
  if (!text.starts_with("whd_")) return std::nullopt;
  text.remove_prefix(4);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace mailer::render
