#include "mailer/service/api_json.hpp"

#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"
#include "mailer/service/engagement.hpp"
#include "mailer/service/events.hpp"
#include "mailer/store/metrics_queries.hpp"

namespace mailer::service {

namespace {

using nlohmann::json;

template <typename T>
json optional_value(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

// SES list management (SendEmail's ListManagementOptions), or null.
json list_management_json(const store::Batch& b) {
  if (!b.contact_list_name) return nullptr;
  return {{"contact_list_name", *b.contact_list_name}, {"topic_name", optional_value(b.topic_name)}};
}

}  // namespace

json to_json(const store::TemplateVersion& v) {
  return {{"template_id", v.template_id},
          {"version", v.version},
          {"subject", v.content.subject},
          {"html", optional_value(v.content.html)},
          {"text", optional_value(v.content.text)},
          {"variables", v.content.variables},
          {"created_at", format_rfc3339(v.created_at_ms)}};
}

json to_json(const store::Template& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"version", t.current_version},
          {"subject", t.current.content.subject},
          {"html", optional_value(t.current.content.html)},
          {"text", optional_value(t.current.content.text)},
          {"variables", t.current.content.variables},
          {"created_at", format_rfc3339(t.created_at_ms)},
          {"updated_at", format_rfc3339(t.updated_at_ms)}};
}

json to_json(const render::RenderedMessage& m) {
  return {{"subject", m.subject}, {"html", optional_value(m.html)}, {"text", optional_value(m.text)}};
}

json to_json(const BatchAccepted& accepted) {
  auto invalid_list = json::array();
  for (const auto& item : accepted.invalid) {
    invalid_list.push_back({{"index", item.index}, {"address", item.address}, {"reason", item.reason}});
  }
  return {{"id", accepted.id},
          {"status", store::to_string(accepted.status)},
          {"counts",
           {{"accepted", accepted.accepted},
            {"duplicate", accepted.duplicate},
            {"suppressed", accepted.suppressed},
            {"invalid", accepted.invalid.size()}}},
          {"invalid", std::move(invalid_list)}};
}

json to_json(const store::Batch& b) {
  json content = nullptr;
  if (!b.template_id) {
    content = {
        {"subject", optional_value(b.subject)}, {"html", optional_value(b.html)}, {"text", optional_value(b.text)}};
  }
  return {{"id", b.id},
          {"status", store::to_string(b.status)},
          {"template_id", optional_value(b.template_id)},
          {"template_version", optional_value(b.template_version)},
          {"content", std::move(content)},
          {"from", b.from_address},
          {"reply_to", stored_json_or_empty(b.reply_to_json)},
          {"variables", stored_json_or_empty(b.variables_json)},
          {"metadata", stored_json_or_empty(b.metadata_json)},
          {"tags", stored_json_or_empty(b.tags_json)},
          {"configuration_set", optional_value(b.configuration_set)},
          {"list_management", list_management_json(b)},
          {"send_at", json_time(b.send_at_ms)},
          {"send_before", json_time(b.send_before_ms)},
          {"pause_reason", optional_value(b.pause_reason)},
          {"counts",
           {{"accepted", b.accepted_count},
            {"duplicate", b.duplicate_count},
            {"suppressed", b.suppressed_count},
            {"invalid", b.invalid_count}}},
          {"invalid", stored_json_or_empty(b.invalid_json)},
          {"states", b.state_counts},
          {"events", b.event_counts},
          {"engagement", engagement_json(b.engagement, b.top_links)},
          {"api_key_id", optional_value(b.api_key_id)},
          {"created_at", format_rfc3339(b.created_at_ms)},
          {"updated_at", format_rfc3339(b.updated_at_ms)},
          {"completed_at", json_time(b.completed_at_ms)}};
}

json to_json(const store::Recipient& r) {
  return {{"message_id", r.message_id},
          {"index", r.index},
          {"email", r.email},
          {"state", store::to_string(r.state)},
          {"paused", r.paused},
          {"attempts", r.attempts},
          {"last_error_code", optional_value(r.last_error_code)},
          {"last_error", optional_value(r.last_error)},
          {"ses_message_id", optional_value(r.ses_message_id)},
          {"sent_at", json_time(r.sent_at_ms)},
          {"updated_at", format_rfc3339(r.updated_at_ms)}};
}

json to_json(const store::Event& e) {
  return {{"id", event_public_id(e.id)},
          {"type", e.type},
          {"batch_id", optional_value(e.batch_id)},
          {"message_id", optional_value(e.message_id)},
          {"email", e.email},
          {"metadata", e.metadata_json ? stored_json_or_empty(*e.metadata_json) : json(nullptr)},
          {"detail", stored_json_or_empty(e.detail_json)},
          {"occurred_at", format_rfc3339(e.occurred_at_ms)}};
}

json to_json(const store::Message& m) {
  auto events = json::array();
  for (const auto& event : m.events) events.push_back(to_json(event));
  // Rows from before schema 0008, and bulk rows, went to `email` alone.
  json destinations = m.destinations_json ? stored_json_or_empty(*m.destinations_json) : json::object();
  if (!m.destinations_json) destinations["to"] = json::array({m.email});
  auto list = [&](const char* name) {
    auto it = destinations.is_object() ? destinations.find(name) : destinations.end();
    return it != destinations.end() && it->is_array() ? *it : json::array();
  };
  return {{"id", m.id},
          {"batch_id", optional_value(m.batch_id)},
          {"kind", store::to_string(m.kind)},
          {"status", store::to_string(m.state)},
          {"paused", m.paused},
          {"email", m.email},
          {"to", list("to")},
          {"cc", list("cc")},
          {"bcc", list("bcc")},
          {"suppressed", m.suppressed_json ? stored_json_or_empty(*m.suppressed_json) : json::array()},
          {"headers", m.headers_json ? stored_json_or_empty(*m.headers_json) : json::object()},
          {"metadata", m.metadata_json ? stored_json_or_empty(*m.metadata_json) : json::object()},
          {"template_id", optional_value(m.template_id)},
          {"template_version", optional_value(m.template_version)},
          {"attempts", m.attempts},
          {"run_at", format_rfc3339(m.run_at_ms)},
          {"last_error_code", optional_value(m.last_error_code)},
          {"last_error", optional_value(m.last_error)},
          {"ses_message_id", optional_value(m.ses_message_id)},
          {"created_at", format_rfc3339(m.created_at_ms)},
          {"updated_at", format_rfc3339(m.updated_at_ms)},
          {"sent_at", json_time(m.sent_at_ms)},
          {"failed_at", json_time(m.failed_at_ms)},
          {"events", std::move(events)}};
}

json to_json(const QueueStatus& q) {
  return {{"depth", q.depth},
          {"in_flight", optional_value(q.in_flight)},
          {"send_rate_per_second", optional_value(q.send_rate_per_second)},
          {"quota",
           {{"sent_24h", q.sent_24h},
            {"max_24_hour_send", optional_value(q.max_24_hour_send)},
            {"max_send_rate", optional_value(q.max_send_rate)}}},
          {"engine", q.engine}};
}

Result<QueueStatus> read_queue_status(store::Database& db, const Clock& clock) {
  auto depth = store::MessageRepo(db, clock).count_by_state();
  if (!depth) return depth.error();
  auto sent = store::sent_last_24h(db, to_ms(clock.now()));
  if (!sent) return sent.error();
  QueueStatus queue;
  queue.depth = std::move(*depth);
  queue.sent_24h = *sent;
  return queue;
}

json page_json(json data, const std::string& next_cursor) {
  return {{"data", std::move(data)}, {"next_cursor", next_cursor.empty() ? json(nullptr) : json(next_cursor)}};
}

}  // namespace mailer::service
