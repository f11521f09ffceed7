// The event-publishing kinds beyond bounce, complaint and delivery, with the
// field names of https://docs.aws.amazon.com/ses/latest/dg/event-publishing-retrieving-sns-contents.html.
// Liberal: unknown members are ignored, a missing (or null) member is empty;
// a member of the wrong type is refused naming it, so a changed SES format is
// noticed instead of silently stored as nothing.
#include <string>

#include "sns/parse_fields.hpp"

namespace mailer::sns::fields {
namespace {

std::string path_of(std::string_view path, std::string_view name) {
  return std::string(path) + "." + std::string(name);
}

Status wrong_type(std::string_view path, std::string_view name, const char* kind) {
  return make_error(ErrorCode::invalid_input, path_of(path, name) + " must be " + kind);
}

// `object[name]` when present and not null, else nullptr.
const json* member(const json& object, const char* name) {
  auto found = object.find(name);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

Status read_string(const json& object, std::string_view path, const char* name, std::string& out) {
  const json* value = member(object, name);
  if (!value) return {};
  if (!value->is_string()) return wrong_type(path, name, "a string");
  out = value->get<std::string>();
  return {};
}

Status read_bool(const json& object, std::string_view path, const char* name, bool& out) {
  const json* value = member(object, name);
  if (!value) return {};
  if (!value->is_boolean()) return wrong_type(path, name, "a boolean");
  out = value->get<bool>();
  return {};
}

// Reads each {name, path} string member of `object` in turn; stops at the first error.
Status read_strings(const json& object, std::string_view path,
                    std::initializer_list<std::pair<const char*, std::string*>> members) {
  for (auto [name, out] : members) {
    if (auto read = read_string(object, path, name, *out); !read) return read;
  }
  return {};
}

// `record[name]` as an object: nullptr when absent (the kind's fields are all
// optional), an error when it is something else.
Result<const json*> kind_object(const json& record, const char* name) {
  const json* value = member(record, name);
  if (value && !value->is_object())
    return make_error(ErrorCode::invalid_input, std::string(name) + " must be an object");
  return value;
}

// click.linkTags: {"name": ["value", ...]}.
Status read_link_tags(const json& click, std::map<std::string, std::vector<std::string>>& out) {
  const json* tags = member(click, "linkTags");
  if (!tags) return {};
  if (!tags->is_object()) return wrong_type("click", "linkTags", "an object");
  for (const auto& [name, values] : tags->items()) {
    auto& list = out[name];
    if (values.is_string()) {
      list.push_back(values.get<std::string>());
      continue;
    }
    if (!values.is_array()) return wrong_type("click.linkTags", name, "an array of strings");
    for (const auto& v : values) {
      if (!v.is_string()) return wrong_type("click.linkTags", name, "an array of strings");
      list.push_back(v.get<std::string>());
    }
  }
  return {};
}

Status read_topics(const json& preferences, std::vector<SesTopicPreference>& out) {
  const char* path = "subscription.newTopicPreferences.topicSubscriptionStatus";
  const json* topics = member(preferences, "topicSubscriptionStatus");
  if (!topics) return {};
  if (!topics->is_array()) return make_error(ErrorCode::invalid_input, std::string(path) + " must be an array");
  for (const auto& entry : *topics) {
    if (!entry.is_object())
      return make_error(ErrorCode::invalid_input, std::string(path) + " has an entry that is not an object");
    SesTopicPreference topic;
    if (auto read = read_strings(
            entry, path, {{"topicName", &topic.topic_name}, {"subscriptionStatus", &topic.subscription_status}});
        !read)
      return read;
    out.push_back(std::move(topic));
  }
  return {};
}

Status read_subscription(const json& subscription, SesEventFields& out) {
  if (auto read =
          read_strings(subscription, "subscription",
                       {{"contactList", &out.contact_list}, {"timestamp", &out.timestamp}, {"source", &out.source}});
      !read)
    return read;
  // Only the new preferences count: they are what the reader chose now.
  const json* preferences = member(subscription, "newTopicPreferences");
  if (!preferences) return {};
  if (!preferences->is_object()) return wrong_type("subscription", "newTopicPreferences", "an object");
  if (auto read = read_bool(*preferences, "subscription.newTopicPreferences", "unsubscribeAll", out.unsubscribe_all);
      !read)
    return read;
  return read_topics(*preferences, out.topics);
}

Status read_kind_fields(const json& object, SesEventKind kind, SesEventFields& out) {
  switch (kind) {
    case SesEventKind::reject: return read_strings(object, "reject", {{"reason", &out.reason}});
    case SesEventKind::open:
      return read_strings(
          object, "open",
          {{"ipAddress", &out.ip_address}, {"userAgent", &out.user_agent}, {"timestamp", &out.timestamp}});
    case SesEventKind::click: {
      auto read = read_strings(object, "click",
                               {{"ipAddress", &out.ip_address},
                                {"userAgent", &out.user_agent},
                                {"timestamp", &out.timestamp},
                                {"link", &out.link}});
      if (!read) return read;
      return read_link_tags(object, out.link_tags);
    }
    case SesEventKind::delivery_delay:
      return read_strings(object, "deliveryDelay",
                          {{"delayType", &out.delay_type},
                           {"expirationTime", &out.expiration_time},
                           {"reportingMTA", &out.reporting_mta},
                           {"timestamp", &out.timestamp}});
    case SesEventKind::rendering_failure:
      return read_strings(object, "failure",
                          {{"errorMessage", &out.error_message}, {"templateName", &out.template_name}});
    case SesEventKind::subscription: return read_subscription(object, out);
    default: return {};
  }
}

// The member holding a kind's fields; nullptr for kinds without one.
const char* object_name(SesEventKind kind) {
  switch (kind) {
    case SesEventKind::send: return "send";
    case SesEventKind::reject: return "reject";
    case SesEventKind::open: return "open";
    case SesEventKind::click: return "click";
    case SesEventKind::delivery_delay: return "deliveryDelay";
    case SesEventKind::rendering_failure: return "failure";
    case SesEventKind::subscription: return "subscription";
    default: return nullptr;
  }
}

}  // namespace

Status read_publishing_event(const json& record, const json& mail, SesNotification& out) {
  const json* object = nullptr;
  if (const char* name = object_name(out.kind)) {
    auto found = kind_object(record, name);
    if (!found) return std::move(found).error();
    object = *found;
  }
  if (out.kind == SesEventKind::delivery_delay) {
    // Like a bounce, a delay names the recipients it is about.
    if (!object) return make_error(ErrorCode::invalid_input, "deliveryDelay object is missing");
    if (auto read = read_recipients(*object, "deliveryDelay", "delayedRecipients", out.recipients); !read) return read;
  } else if (auto read = read_recipients(mail, "mail", "destination", out.recipients); !read) {
    return read;
  }
  if (!object) return {};
  return read_kind_fields(*object, out.kind, out.event);
}

}  // namespace mailer::sns::fields
