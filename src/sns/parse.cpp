#include "mailer/sns/parse.hpp"

#include <cctype>

#include <nlohmann/json.hpp>

#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "sns/parse_fields.hpp"

namespace mailer::sns {

namespace {

using nlohmann::json;

constexpr const char* k_message_id_header = "X-Mailer-Message-Id";

std::string string_at(const json& object, const char* name) {
  auto value = object.value(name, json());
  return value.is_string() ? value.get<std::string>() : std::string();
}

SesEventKind kind_of(const std::string& type_name) {
  static const std::map<std::string, SesEventKind, std::less<>> kinds{
      {"Bounce", SesEventKind::bounce},
      {"Complaint", SesEventKind::complaint},
      {"Delivery", SesEventKind::delivery},
      {"Send", SesEventKind::send},
      {"Reject", SesEventKind::reject},
      {"Open", SesEventKind::open},
      {"Click", SesEventKind::click},
      {"DeliveryDelay", SesEventKind::delivery_delay},
      {"Rendering Failure", SesEventKind::rendering_failure},
      {"Subscription", SesEventKind::subscription},
  };
  auto found = kinds.find(type_name);
  return found == kinds.end() ? SesEventKind::other : found->second;
}

void read_mail(const json& mail, SesNotification& out) {
  out.ses_message_id = string_at(mail, "messageId");
  auto headers = mail.value("headers", json::array());
  for (const auto& header : headers) {
    if (header.is_object() && text::ascii_iequals(string_at(header, "name"), k_message_id_header)) {
      out.mailer_message_id = string_at(header, "value");
    }
  }
  auto tags = mail.value("tags", json::object());
  for (const auto& [name, values] : tags.items()) {
    auto& list = out.tags[name];
    if (!values.is_array()) continue;
    for (const auto& v : values) {
      if (v.is_string()) list.push_back(v.get<std::string>());
    }
  }
}

using fields::read_recipients;

Status read_event(const json& record, const json& mail, SesNotification& out) {
  switch (out.kind) {
    case SesEventKind::bounce: {
      auto bounce = record.value("bounce", json());
      if (!bounce.is_object()) return make_error(ErrorCode::invalid_input, "bounce object is missing");
      out.bounce_type = string_at(bounce, "bounceType");
      out.bounce_subtype = string_at(bounce, "bounceSubType");
      return read_recipients(bounce, "bounce", "bouncedRecipients", out.recipients);
    }
    case SesEventKind::complaint: {
      auto complaint = record.value("complaint", json());
      if (!complaint.is_object()) return make_error(ErrorCode::invalid_input, "complaint object is missing");
      out.complaint_feedback_type = string_at(complaint, "complaintFeedbackType");
      out.complaint_subtype = string_at(complaint, "complaintSubType");
      return read_recipients(complaint, "complaint", "complainedRecipients", out.recipients);
    }
    case SesEventKind::delivery: {
      auto delivery = record.value("delivery", json());
      if (!delivery.is_object()) return make_error(ErrorCode::invalid_input, "delivery object is missing");
      return read_recipients(delivery, "delivery", "recipients", out.recipients);
    }
    default: return fields::read_publishing_event(record, mail, out);
  }
}

}  // namespace

namespace fields {

Status read_recipients(const json& event, const char* object_name, const char* list_name,
                       std::vector<SesRecipient>& out) {
  auto list = event.value(list_name, json());
  if (!list.is_array() || list.empty()) {
    return make_error(ErrorCode::invalid_input, std::string(object_name) + "." + list_name + " is missing");
  }
  for (const auto& entry : list) {
    SesRecipient r;
    if (entry.is_string()) {
      r.email = entry.get<std::string>();
    } else if (entry.is_object()) {
      r.email = string_at(entry, "emailAddress");
      r.action = string_at(entry, "action");
      r.status = string_at(entry, "status");
      r.diagnostic_code = string_at(entry, "diagnosticCode");
    }
    if (r.email.empty()) {
      return make_error(ErrorCode::invalid_input,
                        std::string(object_name) + "." + list_name + " has an entry without an address");
    }
    out.push_back(std::move(r));
  }
  return {};
}

}  // namespace fields

Result<SesNotification> parse_ses_notification(std::string_view message) {
  auto parsed = parse_json(message, "Message");
  if (!parsed) return std::move(parsed).error();
  const json& record = *parsed;
  if (!record.is_object()) return make_error(ErrorCode::invalid_input, "Message is not a JSON object");
  SesNotification out;
  if (record.contains("notificationType")) {
    out.flavour = Flavour::notification_type;
    out.type_name = string_at(record, "notificationType");
  } else if (record.contains("eventType")) {
    out.flavour = Flavour::event_type;
    out.type_name = string_at(record, "eventType");
  } else {
    return make_error(ErrorCode::invalid_input, "Message has neither notificationType nor eventType");
  }
  out.kind = kind_of(out.type_name);
  auto mail = record.value("mail", json());
  if (!mail.is_object()) return make_error(ErrorCode::invalid_input, "mail object is missing");
  read_mail(mail, out);
  if (out.ses_message_id.empty()) return make_error(ErrorCode::invalid_input, "mail.messageId is missing");
  if (auto event = read_event(record, mail, out); !event) return std::move(event).error();
  return out;
}

FeedbackAction classify(const SesNotification& n) {
  switch (n.kind) {
    case SesEventKind::bounce:
      // Classify by bounceType, never the SMTP status class: a full mailbox
      // often comes back as 5.2.2 yet is Transient/MailboxFull (reference §6).
      if (n.bounce_type == "Permanent") return FeedbackAction::suppress_bounce;
      if (n.bounce_type == "Transient") return FeedbackAction::soft_bounce;
      return FeedbackAction::record_only;
    case SesEventKind::complaint:
      // RFC 5965 "not-spam": the user says the mail is wanted.
      return n.complaint_feedback_type == "not-spam" ? FeedbackAction::record_only : FeedbackAction::suppress_complaint;
    case SesEventKind::subscription:
      // The reader left every topic of the contact list: as good as a
      // one-click unsubscribe, so bulk mail stops and transactional goes on.
      return n.event.unsubscribe_all ? FeedbackAction::unsubscribe_bulk : FeedbackAction::record_only;
    default: return FeedbackAction::record_only;
  }
}

std::string_view event_type(SesEventKind kind) {
  switch (kind) {
    case SesEventKind::bounce: return "BOUNCE";
    case SesEventKind::complaint: return "COMPLAINT";
    case SesEventKind::delivery: return "DELIVERY";
    case SesEventKind::send: return "SEND";
    case SesEventKind::reject: return "REJECT";
    case SesEventKind::open: return "OPEN";
    case SesEventKind::click: return "CLICK";
    case SesEventKind::delivery_delay: return "DELIVERY_DELAY";
    case SesEventKind::rendering_failure: return "RENDERING_FAILURE";
    case SesEventKind::subscription: return "SUBSCRIPTION";
    case SesEventKind::other: return "OTHER";
  }
  return "OTHER";
}

}  // namespace mailer::sns
