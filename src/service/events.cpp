#include "mailer/service/events.hpp"

#include "mailer/core/clock.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/text.hpp"
#include "mailer/render/address.hpp"
#include "mailer/service/api_json.hpp"
#include "mailer/store/event_archive.hpp"
#include "service/validation.hpp"

namespace mailer::service {

namespace {
std::string type_list() {
  std::vector<std::string> names(store::event_types().begin(), store::event_types().end());
  return text::join(names, ", ");
}

void check_type(const std::optional<std::string>& type, detail::Errors& errors) {
  if (type && !store::is_event_type(*type)) errors.push_back({"type", "must be one of " + type_list()});
}

// since/until as ms; until must follow since when both are known.
void check_time_range(const std::optional<std::string>& since, const std::optional<std::string>& until,
                      std::optional<std::int64_t>& since_ms, std::optional<std::int64_t>& until_ms,
                      detail::Errors& errors) {
  for (auto [text, field, out] : {std::tuple{&since, "since", &since_ms}, std::tuple{&until, "until", &until_ms}}) {
    if (!*text) continue;
    std::int64_t ms = 0;
    if (parse_rfc3339(**text, ms)) *out = ms;
    else errors.push_back({field, "must be an RFC 3339 timestamp such as 2026-12-01T09:00:00Z"});
  }
  if (since_ms && until_ms && *until_ms <= *since_ms) errors.push_back({"until", "must be after since"});
}
}  // namespace

std::string event_public_id(std::int64_t id) { return "evt_" + std::to_string(id); }

Result<ListPage<store::Event>> EventService::list(const EventQuery& q) {
  detail::Errors errors;
  store::EventFilter filter;
  check_type(q.type, errors);
  filter.type = q.type;
  filter.batch_id = q.batch_id;
  filter.message_id = q.message_id;
  // SES MessageIds are about 60 bytes; anything much longer is not one.
  if (q.ses_message_id && q.ses_message_id->size() > 256) errors.push_back({"ses_message_id", "at most 256 bytes"});
  filter.ses_message_id = q.ses_message_id;
  if (q.email) {
    auto email = render::normalize_address(*q.email);
    if (!email) {
      errors.push_back({"email", email.error().detail});
    } else {
      filter.email = render::suppression_key(*email);
    }
  }
  check_time_range(q.since, q.until, filter.since_ms, filter.until_ms, errors);
  auto page = to_page_query(q.page);
  if (!page)
    for (const auto& f : page.error().fields) errors.push_back(f);
  if (!errors.empty()) return detail::invalid("invalid event query", std::move(errors));
  auto found = store::EventRepo(m_db).list(filter, *page);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

Result<std::int64_t> EventService::export_lines(const EventExportQuery& q, std::int64_t now_ms,
                                                const std::function<Status(const std::string& line)>& write) {
  detail::Errors errors;
  check_type(q.type, errors);
  std::optional<std::int64_t> since_ms;
  std::optional<std::int64_t> until_ms;
  check_time_range(q.since, q.until, since_ms, until_ms, errors);
  if (since_ms && !until_ms && *since_ms >= now_ms)
    errors.push_back({"since", "must be before now (the default until)"});
  if (!errors.empty()) return detail::invalid("invalid event export", std::move(errors));
  store::EventRange range{since_ms.value_or(0), until_ms.value_or(now_ms), q.type};
  return store::each_event_in_range(m_db, range,
                                    [&](const store::Event& event) { return write(dump_json(to_json(event)) + "\n"); });
}

}  // namespace mailer::service
