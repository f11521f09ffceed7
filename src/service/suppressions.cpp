#include "mailer/service/suppressions.hpp"

#include <set>

#include <fmt/format.h>

#include "mailer/core/json.hpp"
#include "mailer/render/address.hpp"
#include "service/validation.hpp"

namespace mailer::service {
namespace {

std::optional<store::Suppression> to_row(const SuppressionInput& input, const std::string& prefix,
                                         detail::Errors& errors) {
  std::size_t before = errors.size();
  auto key = detail::check_suppression_key(input.email, prefix + "email", errors);
  auto reason = store::parse_suppression_reason(input.reason.value_or("manual"));
  if (!reason)
    errors.push_back({prefix + "reason", "must be one of bounce, complaint, unsubscribe, manual, soft_bounce"});
  std::optional<store::SuppressionScope> scope;
  if (input.scope) {
    scope = store::parse_suppression_scope(*input.scope);
    if (!scope) errors.push_back({prefix + "scope", "must be all or bulk"});
  }
  if (input.detail_json.size() > k_max_suppression_detail_bytes) {
    errors.push_back({prefix + "detail", fmt::format("must be at most {} bytes as compact JSON (is {})",
                                                     k_max_suppression_detail_bytes, input.detail_json.size())});
  }
  if (errors.size() != before) return std::nullopt;
  return store::Suppression{*key,
                            *reason,
                            scope.value_or(store::default_scope(*reason)),
                            input.detail_json.empty() ? "{}" : input.detail_json,
                            0,
                            0};
}

}  // namespace

Result<ListPage<store::Suppression>> SuppressionService::list(const PageParams& page,
                                                              const std::optional<std::string>& reason) {
  auto query = to_page_query(page);
  if (!query) return query.error();
  std::optional<store::SuppressionReason> parsed;
  if (reason) {
    parsed = store::parse_suppression_reason(*reason);
    if (!parsed)
      return detail::invalid("invalid filter",
                             {{"reason", "must be one of bounce, complaint, unsubscribe, manual, soft_bounce"}});
  }
  auto found = store::SuppressionRepo(m_db, m_clock).list(*query, parsed);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

Result<store::Suppression> SuppressionService::get(const std::string& email) {
  detail::Errors errors;
  auto key = detail::check_suppression_key(email, "email", errors);
  if (!key) return detail::invalid("invalid address", std::move(errors));
  return store::SuppressionRepo(m_db, m_clock).get(*key);
}

Result<store::Suppression> SuppressionService::add(const SuppressionInput& input) {
  detail::Errors errors;
  auto row = to_row(input, "", errors);
  if (!row) return detail::invalid("suppression is invalid", std::move(errors));
  return store::SuppressionRepo(m_db, m_clock).add(*row);
}

Status SuppressionService::remove(const std::string& email) {
  detail::Errors errors;
  auto key = detail::check_suppression_key(email, "email", errors);
  if (!key) return detail::invalid("invalid address", std::move(errors));
  return store::SuppressionRepo(m_db, m_clock).remove(*key);
}

Result<bool> SuppressionService::is_suppressed(const std::string& email, store::MessageKind kind) {
  auto normalized = render::normalize_address(email);
  if (!normalized) return false;
  return store::SuppressionRepo(m_db, m_clock).is_suppressed(render::suppression_key(*normalized), kind);
}

Result<ImportCounts> SuppressionService::import(const std::vector<SuppressionInput>& rows) {
  detail::Errors errors;
  std::vector<store::Suppression> valid;
  valid.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    auto row = to_row(rows[i], fmt::format("rows[{}].", i), errors);
    if (row) valid.push_back(std::move(*row));
  }
  if (!errors.empty()) return detail::invalid("import rejected: invalid rows", std::move(errors));
  // Counted on the normalized key, the table's primary key: the store upserts
  // each row, so a repeated address is one row however it was spelt.
  std::set<std::string> addresses;
  for (const auto& row : valid) addresses.insert(row.email);
  auto written = store::SuppressionRepo(m_db, m_clock).import(valid);
  if (!written) return std::move(written).error();
  auto stored = static_cast<std::int64_t>(addresses.size());
  return ImportCounts{stored, static_cast<std::int64_t>(valid.size()) - stored};
}

Result<std::vector<store::Suppression>> SuppressionService::export_all() {
  return store::SuppressionRepo(m_db, m_clock).export_all();
}

nlohmann::json to_json(const store::Suppression& s) {
  return {{"email", s.email},
          {"reason", store::to_string(s.reason)},
          {"scope", store::to_string(s.scope)},
          {"detail", stored_json_or_empty(s.detail_json)},
          {"created_at", format_rfc3339(s.created_at_ms)},
          {"updated_at", format_rfc3339(s.updated_at_ms)}};
}

}  // namespace mailer::service
