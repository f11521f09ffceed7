#include "mailer/service/batches.hpp"

#include <unordered_set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "mailer/core/ids.hpp"
#include "mailer/render/address.hpp"
#include "mailer/render/template.hpp"
#include "service/validation.hpp"

// accept_batch validates everything before touching the database and reports
// every problem at once. The per-recipient loop is the hot path (100,000
// recipients well under a second): one normalize_address, one hash-set insert
// and one JSON dump per recipient; the store then reuses two prepared
// statements for all rows.

namespace mailer::service {
namespace {

using detail::Errors;

std::string one_of_message(const std::vector<std::string>& names) {
  return fmt::format("must be one of {}", fmt::join(names, ", "));
}

std::optional<std::int64_t> check_time(const std::optional<std::string>& text, const char* field, Errors& errors) {
  if (!text) return std::nullopt;
  std::int64_t ms = 0;
  if (!parse_rfc3339(*text, ms)) {
    errors.push_back({field, "must be an RFC 3339 timestamp such as 2026-12-01T09:00:00Z"});
    return std::nullopt;
  }
  return ms;
}

void check_schedule(const BatchRequest& r, std::int64_t now_ms, store::Batch& batch, Errors& errors) {
  batch.send_at_ms = check_time(r.send_at, "send_at", errors);
  batch.send_before_ms = check_time(r.send_before, "send_before", errors);
  if (!batch.send_before_ms) return;
  if (batch.send_at_ms && *batch.send_before_ms <= *batch.send_at_ms)
    errors.push_back({"send_before", "must be after send_at"});
  else if (*batch.send_before_ms <= now_ms) errors.push_back({"send_before", "must be in the future"});
}

struct Recipients {
  std::vector<store::NewRecipient> unique;
  std::vector<InvalidRecipient> invalid;
  std::int64_t duplicate = 0;
};

// What every recipient's subject renders with besides its own variables. A subject
// that a recipient's variables make unsendable (a control character, over 989
// bytes) is refused at accept, as the sender would refuse it: through the same
// render code, with only the variables the subject uses (a subject template is at
// most 989 bytes, so this stays cheap per recipient).
//
// NOTE: unsubscribe_url renders empty here (its token needs the message id); a
// subject should not carry it anyway.
using SubjectCheck = std::optional<render::SubjectRenderer>;  // nullopt: nothing to check

void subject_check(SubjectCheck& check, const std::optional<detail::ResolvedContent>& content, const BatchRequest& r,
                   const std::string& batch_id) {
  // Invalid batch variables are reported once, as "variables", not per recipient.
  if (!content || !render::check_variables(r.variables)) return;
  check.emplace(content->compiled, r.variables, render::BuiltIns{"", "", batch_id});
}

std::optional<std::string> subject_problem(SubjectCheck& check, const nlohmann::json& recipient_variables,
                                           const std::string& email) {
  if (!check) return std::nullopt;
  auto subject = check->render(email, recipient_variables);
  if (subject) return std::nullopt;
  return std::move(subject).error().detail;
}

// Normalizes and de-duplicates; invalid addresses are collected (and become
// field errors unless skip_invalid), bad variables (including those that make
// the subject unsendable) always are errors.
//
// Each recipient's variables and address are released once checked (what is
// stored is `unique`), so the request and the rows are never both whole.
Recipients check_recipients(BatchRequest& r, SubjectCheck& subjects, Errors& errors) {
  Recipients out;
  out.unique.reserve(r.recipients.size());
  std::unordered_set<std::string> seen;
  seen.reserve(r.recipients.size() * 2);
  for (std::size_t i = 0; i < r.recipients.size(); ++i) {
    RecipientInput input = std::move(r.recipients[i]);
    auto vars = detail::checked_variables(input.variables);
    if (vars.problem) errors.push_back({fmt::format("recipients[{}].variables", i), std::move(*vars.problem)});
    auto email = render::normalize_address(input.email);
    if (!email) {
      out.invalid.push_back({static_cast<int>(i), input.email, email.error().detail});
      if (!r.skip_invalid) errors.push_back({fmt::format("recipients[{}].email", i), email.error().detail});
      continue;
    }
    std::string key = render::suppression_key(*email);
    if (!seen.insert(key).second) {
      ++out.duplicate;
      continue;
    }
    if (!vars.problem) {
      if (auto problem = subject_problem(subjects, input.variables, *email))
        errors.push_back({fmt::format("recipients[{}].variables", i), std::move(*problem)});
    }
    out.unique.push_back({static_cast<int>(i), std::move(*email), std::move(key), std::move(vars.json)});
  }
  const bool none = r.recipients.empty();
  std::vector<RecipientInput>().swap(r.recipients);
  if (none) errors.push_back({"recipients", "must not be empty"});
  else if (out.unique.empty() && errors.empty())
    errors.push_back({"recipients", fmt::format("no valid recipient ({} invalid)", out.invalid.size())});
  return out;
}

std::string invalid_json(const std::vector<InvalidRecipient>& invalid) {
  auto list = nlohmann::json::array();
  for (const auto& i : invalid) list.push_back({{"index", i.index}, {"address", i.address}, {"reason", i.reason}});
  return list.dump();
}

}  // namespace

Status check_recipient_count(std::size_t count, int max_recipients) {
  if (count <= static_cast<std::size_t>(max_recipients)) return {};
  return Error{ErrorCode::too_large,
               fmt::format("batch has {} recipients; limits.max_recipients is {}", count, max_recipients),
               {{"recipients", fmt::format("at most {} recipients per batch", max_recipients)}}};
}

Result<BatchAccepted> BatchService::accept_batch(BatchRequest r, const AcceptOptions& options) {
  // With SES list management SES writes the unsubscribe links, not mailerd.
  if (!options.unsubscribe_secret_set && !r.list_management)
    return make_error(ErrorCode::conflict,
                      "bulk mail needs unsubscribe.secret to be configured: every bulk message carries a "
                      "signed List-Unsubscribe link (or use list_management, SES's own unsubscribe handling)");
  if (auto fits = check_recipient_count(r.recipients.size(), options.max_recipients); !fits)
    return std::move(fits).error();
  Errors errors;
  store::Batch batch;
  render::MessageSpec spec;
  if (auto from = detail::check_from(r.from, errors)) spec.from = std::move(*from);
  spec.reply_to = detail::check_reply_to(r.reply_to, errors);
  auto content = detail::resolve_content(m_db, m_clock, r.template_id, r.template_version, r.content, errors);
  if (!content) return content.error();
  batch.variables_json = detail::check_variables(r.variables, "variables", errors);
  batch.metadata_json = detail::check_object(r.metadata, "metadata", errors);
  spec.tags = detail::check_tags(r.tags, errors);
  auto attachments = detail::check_attachments(r.attachments, errors);
  if (!attachments) return std::move(attachments).error();
  detail::check_configuration_set(r.configuration_set, errors);
  batch.configuration_set = r.configuration_set;
  detail::check_list_management(r.list_management, errors);
  if (r.list_management) {
    batch.contact_list_name = r.list_management->contact_list_name;
    batch.topic_name = r.list_management->topic_name;
  }
  check_schedule(r, to_ms(m_clock.now()), batch, errors);
  batch.id = ids::make(ids::k_batch);
  SubjectCheck subjects;
  subject_check(subjects, *content, r, batch.id);
  Recipients recipients = check_recipients(r, subjects, errors);
  if (!errors.empty()) return detail::invalid("batch request is invalid", std::move(errors));
  detail::store_spec(spec, batch);

  batch.template_id = (*content)->template_id;
  batch.template_version = (*content)->template_version;
  if (!batch.template_id) {
    batch.subject = (*content)->subject;
    batch.html = (*content)->html;
    batch.text = (*content)->text;
  }
  batch.invalid_count = static_cast<std::int64_t>(recipients.invalid.size());
  batch.invalid_json = invalid_json(recipients.invalid);
  batch.duplicate_count = recipients.duplicate;
  batch.api_key_id = options.api_key_id;
  store::BatchRepo repo(m_db, m_clock);
  if (auto stored = repo.insert_batch(batch, recipients.unique, *attachments); !stored) return stored.error();
  if (m_on_enqueued && batch.accepted_count > 0) m_on_enqueued();
  return BatchAccepted{batch.id,
                       batch.status,
                       batch.accepted_count,
                       batch.duplicate_count,
                       batch.suppressed_count,
                       std::move(recipients.invalid)};
}

Result<store::Batch> BatchService::get(const std::string& id) { return store::BatchRepo(m_db, m_clock).get(id); }

Result<ListPage<store::Batch>> BatchService::list(const PageParams& page, const std::optional<std::string>& status) {
  auto query = to_page_query(page, ids::k_batch);
  if (!query) return query.error();
  auto filter = status ? store::parse_batch_status(*status) : std::nullopt;
  if (status && !filter)
    return detail::invalid("invalid filter", {{"status", one_of_message(store::batch_status_names())}});
  auto found = store::BatchRepo(m_db, m_clock).list(*query, filter);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

Result<ListPage<store::Recipient>> BatchService::recipients(const std::string& id, const PageParams& page,
                                                            const std::optional<std::string>& state) {
  auto query = to_page_query(page, ids::k_message);
  if (!query) return query.error();
  auto filter = state ? store::parse_message_state(*state) : std::nullopt;
  if (state && !filter)
    return detail::invalid("invalid filter", {{"state", one_of_message(store::message_state_names())}});
  auto found = store::BatchRepo(m_db, m_clock).recipients(id, *query, filter);
  if (!found) return found.error();
  return to_list_page(std::move(*found));
}

Result<store::Batch> BatchService::pause(const std::string& id, const std::string& reason) {
  return store::BatchRepo(m_db, m_clock).pause(id, reason.empty() ? "paused by operator" : reason);
}

Result<store::Batch> BatchService::resume(const std::string& id) {
  auto resumed = store::BatchRepo(m_db, m_clock).resume(id);
  if (resumed && m_on_enqueued) m_on_enqueued();
  return resumed;
}

Result<store::Batch> BatchService::cancel(const std::string& id) { return store::BatchRepo(m_db, m_clock).cancel(id); }

}  // namespace mailer::service
