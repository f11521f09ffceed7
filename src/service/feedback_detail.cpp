// The detail JSON of a feedback event: what an operator needs to understand
// it, each string bounded, since everything in a SES record came from outside
// (a click's link and a user agent are chosen by whoever reads the mail).
#include <nlohmann/json.hpp>

#include "mailer/core/text.hpp"
#include "mailer/service/feedback.hpp"

namespace mailer::service {
namespace {

using nlohmann::json;

class Detail {
 public:
  // Sets `name` to `value` cut to `max_bytes`; leaves out an empty value.
  void put(const char* name, const std::string& value, std::size_t max_bytes = k_max_detail_value_bytes) {
    if (!value.empty()) m_json[name] = text::truncate_utf8(value, max_bytes);
  }
  json& operator[](const char* name) { return m_json[name]; }
  std::string dump() const { return m_json.dump(); }

 private:
  json m_json = json::object();
};

json link_tags(const std::map<std::string, std::vector<std::string>>& tags) {
  json out = json::object();
  for (const auto& [name, values] : tags) {
    if (out.size() >= k_max_detail_entries) break;
    json list = json::array();
    for (const auto& v : values) {
      if (list.size() >= k_max_detail_entries) break;
      list.push_back(text::truncate_utf8(v, k_max_detail_value_bytes));
    }
    out[text::truncate_utf8(name, k_max_detail_name_bytes)] = std::move(list);
  }
  return out;
}

json topics(const std::vector<sns::SesTopicPreference>& preferences) {
  json out = json::array();
  for (const auto& p : preferences) {
    if (out.size() >= k_max_detail_entries) break;
    out.push_back({{"topic", text::truncate_utf8(p.topic_name, k_max_detail_value_bytes)},
                   {"status", text::truncate_utf8(p.subscription_status, k_max_detail_name_bytes)}});
  }
  return out;
}

void put_engagement(Detail& d, const sns::SesEventFields& e, const EventsConfig& events) {
  d.put("user_agent", e.user_agent, k_max_detail_user_agent_bytes);
  d.put("timestamp", e.timestamp, k_max_detail_name_bytes);
  if (events.store_client_ip) d.put("ip_address", e.ip_address, k_max_detail_name_bytes);
}

void put_kind_fields(Detail& d, const sns::SesNotification& record, const sns::SesRecipient& recipient,
                     const EventsConfig& events) {
  const auto& e = record.event;
  switch (record.kind) {
    case sns::SesEventKind::reject: return d.put("reason", e.reason, k_max_detail_text_bytes);
    case sns::SesEventKind::open: return put_engagement(d, e, events);
    case sns::SesEventKind::click:
      d.put("link", e.link, k_max_detail_link_bytes);
      if (!e.link_tags.empty()) d["link_tags"] = link_tags(e.link_tags);
      return put_engagement(d, e, events);
    case sns::SesEventKind::delivery_delay:
      d.put("delay_type", e.delay_type, k_max_detail_name_bytes);
      d.put("expiration_time", e.expiration_time, k_max_detail_name_bytes);
      d.put("reporting_mta", e.reporting_mta);
      d.put("status", recipient.status, k_max_detail_name_bytes);
      return d.put("diagnostic_code", recipient.diagnostic_code, k_max_detail_text_bytes);
    case sns::SesEventKind::rendering_failure:
      d.put("error_message", e.error_message, k_max_detail_text_bytes);
      return d.put("template_name", e.template_name);
    case sns::SesEventKind::subscription:
      d.put("contact_list", e.contact_list);
      d.put("source", e.source, k_max_detail_name_bytes);
      d["unsubscribe_all"] = e.unsubscribe_all;
      if (!e.topics.empty()) d["topics"] = topics(e.topics);
      return;
    case sns::SesEventKind::other: return d.put("ses_type", record.type_name, k_max_detail_name_bytes);
    default: return;
  }
}

}  // namespace

std::string feedback_detail_json(const sns::SesNotification& record, const sns::SesRecipient& recipient,
                                 const std::string& sns_message_id, const EventsConfig& events) {
  Detail d;
  if (record.kind == sns::SesEventKind::bounce) {
    d.put("bounce_type", record.bounce_type);
    d.put("bounce_subtype", record.bounce_subtype);
    d.put("diagnostic_code", recipient.diagnostic_code, k_max_detail_text_bytes);
    d.put("status", recipient.status);
    d.put("action", recipient.action);
  }
  d.put("feedback_type", record.complaint_feedback_type);
  d.put("complaint_subtype", record.complaint_subtype);
  put_kind_fields(d, record, recipient, events);
  d.put("ses_message_id", record.ses_message_id);
  d.put("sns_message_id", sns_message_id);
  return d.dump();
}

}  // namespace mailer::service
