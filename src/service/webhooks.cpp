#include "mailer/service/webhooks.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "mailer/core/ids.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/net/address_guard.hpp"
#include "mailer/net/url.hpp"
#include "mailer/render/webhook.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/events.hpp"

namespace mailer::service {
namespace {

constexpr std::size_t k_max_url_length = 2048;
constexpr std::size_t k_max_description_length = 500;
constexpr std::size_t k_max_tags = 10;
constexpr std::size_t k_max_tag_length = 256;

void check_url(const std::string& url, const WebhooksConfig& config, FieldErrors& errors) {
  if (url.size() > k_max_url_length) return errors.push_back({"url", "must be at most 2048 characters"});
  auto parts = net::parse_url(url);
  if (!parts) return errors.push_back({"url", parts.error().detail});
  if (parts->scheme != "https" && !(parts->scheme == "http" && config.allow_http)) {
    return errors.push_back({"url", config.allow_http ? "must be an http:// or https:// URL"
                                                      : "must be an https:// URL (http:// needs webhooks.allow_http)"});
  }
  if (!parts->user.empty()) return errors.push_back({"url", "must not carry a user name or password"});
  if (!parts->fragment.empty()) return errors.push_back({"url", "must not have a #fragment"});
  if (parts->host.empty()) return errors.push_back({"url", "has no host"});
  // Resolving and connecting both take the ASCII (IDNA) form of a name.
  if (std::any_of(parts->host.begin(), parts->host.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
    return errors.push_back({"url",
                             "host must be ASCII: write an internationalised domain name in its IDNA form "
                             "(xn--...)"});
  if (config.allow_private_targets) return;
  if (auto checked = net::check_public_host(parts->host); !checked) errors.push_back({"url", checked.error().detail});
}

void check_event_types(const std::vector<std::string>& types, FieldErrors& errors) {
  std::set<std::string> seen;
  for (std::size_t i = 0; i < types.size(); ++i) {
    const auto field = fmt::format("event_types[{}]", i);
    if (!store::is_event_type(types[i])) {
      std::vector<std::string> known;
      for (auto t : store::event_types()) known.emplace_back(t);
      errors.push_back(
          {field, "unknown event type " + text::quote_outside(types[i]) + "; one of " + text::join(known, ", ")});
    } else if (!seen.insert(types[i]).second) {
      errors.push_back({field, "repeats " + types[i]});
    }
  }
}

void check_tags(const std::map<std::string, std::string>& tags, FieldErrors& errors) {
  if (tags.size() > k_max_tags) return errors.push_back({"tags", "at most 10 tags"});
  for (const auto& [name, value] : tags) {
    if (auto problem = text::name_problem(name, k_max_tag_length))
      errors.push_back({"tags." + text::shorten(name), "name " + *problem});
    else if (auto value_problem = text::name_problem(value, k_max_tag_length))
      errors.push_back({"tags." + name, "value " + *value_problem});
  }
}

Result<std::int64_t> delivery_number(const std::string& endpoint_id, const std::string& delivery_id) {
  auto number = render::parse_webhook_delivery_id(delivery_id);
  if (!number)
    return make_error(ErrorCode::not_found, fmt::format("delivery {} of webhook endpoint {} not found",
                                                        text::quote_outside(delivery_id), endpoint_id));
  return *number;
}

}  // namespace

Status WebhookService::check(const WebhookInput& input, bool creating) {
  FieldErrors errors;
  if (input.url) check_url(*input.url, m_config, errors);
  else if (creating) errors.push_back({"url", "required: an https:// URL"});
  if (input.description && !input.description->empty()) {  // "" is allowed: no description
    if (text::utf8_length(*input.description).value_or(0) > k_max_description_length)
      errors.push_back({"description", fmt::format("must be at most {} characters", k_max_description_length)});
    else if (auto problem = text::name_problem(*input.description, k_max_description_length))
      errors.push_back({"description", *problem});
  }
  if (input.event_types) check_event_types(*input.event_types, errors);
  if (input.batch_id && *input.batch_id && !ids::valid(**input.batch_id, ids::k_batch))
    errors.push_back({"batch_id", "must be a batch id (bat_...)"});
  if (input.tags) check_tags(*input.tags, errors);
  if (errors.empty() && input.batch_id && *input.batch_id) {  // a filter that matches nothing is a mistake
    auto batch = store::BatchRepo(m_db, m_clock).get(**input.batch_id);
    if (!batch && batch.error().code != ErrorCode::not_found) return std::move(batch).error();
    if (!batch) errors.push_back({"batch_id", "no batch " + **input.batch_id});
  }
  if (!errors.empty())
    return Error{ErrorCode::invalid_input, creating ? "invalid webhook endpoint" : "invalid webhook change",
                 std::move(errors)};
  return {};
}

Result<EndpointWithSecret> WebhookService::create(const WebhookInput& input) {
  if (auto valid = check(input, true); !valid) return std::move(valid).error();
  store::WebhookRepo repo(m_db);
  auto count = repo.count();
  if (!count) return std::move(count).error();
  if (*count >= k_max_webhook_endpoints)
    return make_error(ErrorCode::conflict,
                      fmt::format("at most {} webhook endpoints; delete one first", k_max_webhook_endpoints));
  store::NewWebhookEndpoint endpoint;
  endpoint.url = *input.url;
  endpoint.description = input.description.value_or("");
  endpoint.event_types = input.event_types.value_or(std::vector<std::string>{});
  endpoint.batch_id = input.batch_id.value_or(std::nullopt);
  endpoint.tags = input.tags.value_or(std::map<std::string, std::string>{});
  endpoint.enabled = input.enabled.value_or(true);
  endpoint.secret = render::make_webhook_secret();
  auto created = repo.create(endpoint, to_ms(m_clock.now()));
  if (!created) return std::move(created).error();
  return EndpointWithSecret{std::move(*created), endpoint.secret};
}

Result<std::vector<store::WebhookEndpoint>> WebhookService::list() { return store::WebhookRepo(m_db).list(); }

Result<ListPage<store::WebhookEndpoint>> WebhookService::list(const PageParams& paging) {
  auto page = to_page_query(paging, ids::k_webhook);
  if (!page) return std::move(page).error();
  auto found = store::WebhookRepo(m_db).list(*page);
  if (!found) return std::move(found).error();
  return to_list_page(std::move(*found));
}

Result<store::WebhookEndpoint> WebhookService::get(const std::string& id) { return store::WebhookRepo(m_db).get(id); }

Result<EndpointWithSecret> WebhookService::update(const std::string& id, const WebhookInput& input) {
  if (auto valid = check(input, false); !valid) return std::move(valid).error();
  store::WebhookEndpointChange change;
  change.url = input.url;
  change.description = input.description;
  change.event_types = input.event_types;
  change.batch_id = input.batch_id;
  change.tags = input.tags;
  change.enabled = input.enabled;
  if (input.rotate_secret) change.secret = render::make_webhook_secret();
  auto updated = store::WebhookRepo(m_db).update(id, change, to_ms(m_clock.now()));
  if (!updated) return std::move(updated).error();
  return EndpointWithSecret{std::move(*updated), change.secret.value_or("")};
}

Status WebhookService::remove(const std::string& id) { return store::WebhookRepo(m_db).remove(id); }

Status WebhookService::require_enabled(const std::string& id) {
  auto endpoint = store::WebhookRepo(m_db).get(id);
  if (!endpoint) return std::move(endpoint).error();
  if (!endpoint->enabled)
    return make_error(ErrorCode::conflict, fmt::format("webhook endpoint {} is disabled; enable it first", id));
  return {};
}

Result<store::WebhookDelivery> WebhookService::test(const std::string& id) {
  if (auto enabled = require_enabled(id); !enabled) return std::move(enabled).error();
  store::WebhookRepo repo(m_db);
  const auto now = to_ms(m_clock.now());
  store::WebhookRepo::NewDelivery delivery;
  delivery.kind = "test";
  delivery.body = render::webhook_test_body(id, now);
  delivery.now_ms = now;
  delivery.retry_until_ms = now + std::chrono::milliseconds(m_config.retry_for).count();
  return repo.add_test_delivery(id, delivery);
}

Result<ListPage<store::WebhookDelivery>> WebhookService::deliveries(const std::string& id,
                                                                    const std::optional<std::string>& status,
                                                                    const PageParams& paging) {
  std::optional<store::DeliveryStatus> wanted;
  if (status) {
    wanted = store::parse_delivery_status(*status);
    if (!wanted)
      return Error{
          ErrorCode::invalid_input,
          "invalid delivery filter",
          {{"status", "unknown status " + text::quote_outside(*status) + "; one of pending, delivered, failed"}}};
  }
  auto page = to_page_query(paging);
  if (!page) return std::move(page).error();
  auto found = store::WebhookRepo(m_db).deliveries(id, wanted, *page);
  if (!found) return std::move(found).error();
  return to_list_page(std::move(*found));
}

Result<std::pair<store::WebhookDelivery, std::vector<store::WebhookAttempt>>> WebhookService::delivery(
    const std::string& id, const std::string& delivery_id) {
  auto number = delivery_number(id, delivery_id);
  if (!number) return std::move(number).error();
  return store::WebhookRepo(m_db).delivery(id, *number);
}

Result<store::WebhookDelivery> WebhookService::replay(const std::string& id, const std::string& delivery_id) {
  auto number = delivery_number(id, delivery_id);
  if (!number) return std::move(number).error();
  // A disabled endpoint sends nothing: a replay would wait unseen.
  if (auto enabled = require_enabled(id); !enabled) return std::move(enabled).error();
  const auto now = to_ms(m_clock.now());
  return store::WebhookRepo(m_db).replay(id, *number, now, now + std::chrono::milliseconds(m_config.retry_for).count());
}

nlohmann::json to_json(const store::WebhookEndpoint& e) {
  return {{"id", e.id},
          {"url", e.url},
          {"description", e.description},
          {"event_types", e.event_types},
          {"batch_id", e.batch_id ? nlohmann::json(*e.batch_id) : nlohmann::json(nullptr)},
          {"tags", e.tags},
          {"enabled", e.enabled},
          {"disabled_reason", e.disabled_reason ? nlohmann::json(*e.disabled_reason) : nlohmann::json(nullptr)},
          {"disabled_at", json_time(e.disabled_at_ms)},
          {"failing_since", json_time(e.failing_since_ms)},
          {"last_success_at", json_time(e.last_success_at_ms)},
          {"created_at", format_rfc3339(e.created_at_ms)},
          {"updated_at", format_rfc3339(e.updated_at_ms)}};
}

nlohmann::json to_json(const store::WebhookDelivery& d) {
  auto event_id = [](const std::optional<std::int64_t>& id) {
    return id ? nlohmann::json("evt_" + std::to_string(*id)) : nlohmann::json(nullptr);
  };
  auto optional_int = [](const std::optional<std::int64_t>& n) { return n ? nlohmann::json(*n) : nlohmann::json(); };
  nlohmann::json out = {{"id", render::webhook_delivery_id(d.id)},
                        {"endpoint_id", d.endpoint_id},
                        {"kind", d.kind},
                        {"status", store::to_string(d.status)},
                        {"event_count", d.event_count},
                        {"first_event_id", event_id(d.first_event_id)},
                        {"last_event_id", event_id(d.last_event_id)},
                        {"attempts", d.attempts},
                        {"next_attempt_at", d.status == store::DeliveryStatus::pending ? json_time(d.next_attempt_at_ms)
                                                                                       : nlohmann::json(nullptr)},
                        {"retry_until", format_rfc3339(d.retry_until_ms)},
                        {"last_status_code", optional_int(d.last_status_code)},
                        {"last_error", d.last_error ? nlohmann::json(*d.last_error) : nlohmann::json(nullptr)},
                        {"last_latency_ms", optional_int(d.last_latency_ms)},
                        {"created_at", format_rfc3339(d.created_at_ms)},
                        {"delivered_at", json_time(d.delivered_at_ms)}};
  if (!d.body.empty()) out["body"] = d.body;
  return out;
}

nlohmann::json to_json(const store::WebhookAttempt& a) {
  return {{"at", format_rfc3339(a.attempted_at_ms)},
          {"status_code", a.status_code ? nlohmann::json(*a.status_code) : nlohmann::json(nullptr)},
          {"error", a.error ? nlohmann::json(*a.error) : nlohmann::json(nullptr)},
          {"latency_ms", a.latency_ms},
          {"response", a.response}};
}

}  // namespace mailer::service
