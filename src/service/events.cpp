#include "mailer/service/events.hpp"

#include "mailer/core/clock.hpp"
#include "mailer/core/text.hpp"
#include "mailer/render/address.hpp"
#include "service/validation.hpp"

namespace mailer::service {

namespace {
std::string type_list() {
  std::vector<std::string> names(store::event_types().begin(), store::event_types().end());
  return text::join(names, ", ");
}
}  // namespace

std::string event_public_id(std::int64_t id) { return "evt_" + std::to_string(id); }

Result<ListPage<store::Event>> EventService::list(const EventQuery& q) {
  detail::Errors errors;
  store::EventFilter filter;
  if (q.type && !store::is_event_type(*q.type)) errors.push_back({"type", "must be one of " + type_list()});
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
  for (auto [text, field, out] :
       {std::tuple{&q.since, "since", &filter.since_ms}, std::tuple{&q.until, "until", &filter.until_ms}}) {
    if (!*text) continue;
    std::int64_t ms = 0;
    if (parse_rfc3339(**text, ms)) *out = ms;
    else errors.push_back({field, "must be an RFC 3339 timestamp such as 2026-12-01T09:00:00Z"});
  }
  if (filter.since_ms && filter.until_ms && *filter.until_ms <= *filter.since_ms)
    errors.push_back({"until", "must be after since"});
  auto page = to_page_query(q.page);
  if (!page)
    for (const auto& f : page.error().fields) errors.push_back(f);
  if (!errors.empty()) return detail::invalid("invalid event query", std::move(errors));
  auto found = store::EventRepo(m_db).list(filter, *page);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

}  // namespace mailer::service
