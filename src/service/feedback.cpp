#include "mailer/service/feedback.hpp"

#include <nlohmann/json.hpp>

#include "mailer/core/log.hpp"
#include "mailer/render/address.hpp"
#include "mailer/render/unsubscribe.hpp"
#include "mailer/service/guard.hpp"

namespace mailer::service {

namespace {

// The key an address from SES is compared on. SES echoes the address we sent,
// so it normally normalizes; a malformed one is still recorded, lowercased.
std::string address_key(const std::string& email) {
  auto normalized = render::normalize_address(email);
  if (normalized) return render::suppression_key(*normalized);
  return render::suppression_key(email);
}

store::FeedbackEffect effect_of(sns::FeedbackAction action) {
  switch (action) {
    case sns::FeedbackAction::suppress_bounce: return store::FeedbackEffect::suppress_bounce;
    case sns::FeedbackAction::suppress_complaint: return store::FeedbackEffect::suppress_complaint;
    case sns::FeedbackAction::soft_bounce: return store::FeedbackEffect::soft_bounce;
    case sns::FeedbackAction::record_only: return store::FeedbackEffect::record;
  }
  return store::FeedbackEffect::record;
}

store::FeedbackNotification to_store(const std::string& sns_message_id, const std::string& topic_arn,
                                     const sns::SesNotification& record, const SuppressionConfig& rules) {
  store::FeedbackNotification n;
  n.sns_message_id = sns_message_id;
  n.topic_arn = topic_arn;
  n.event_type = std::string(sns::event_type(record.kind));
  n.ses_message_id = record.ses_message_id;
  n.mailer_message_id = record.mailer_message_id;
  n.soft_bounce_limit = rules.soft_bounce_limit;
  n.soft_bounce_window_ms = std::chrono::duration_cast<std::chrono::milliseconds>(rules.soft_bounce_window).count();
  auto effect = effect_of(sns::classify(record));
  bool permanent = record.kind == sns::SesEventKind::bounce && record.bounce_type == "Permanent";
  for (const auto& r : record.recipients) {
    n.recipients.push_back({address_key(r.email), feedback_detail_json(record, r, sns_message_id), effect, permanent});
  }
  return n;
}

// A hard bounce or a complaint can push a batch over a limit; nothing else can.
bool may_trip_guard(const sns::SesNotification& record) {
  return (record.kind == sns::SesEventKind::bounce && record.bounce_type == "Permanent") ||
         record.kind == sns::SesEventKind::complaint;
}

}  // namespace

std::string feedback_detail_json(const sns::SesNotification& record, const sns::SesRecipient& recipient,
                                 const std::string& sns_message_id) {
  nlohmann::json detail = nlohmann::json::object();
  auto put = [&detail](const char* name, const std::string& value) {
    if (!value.empty()) detail[name] = value;
  };
  put("bounce_type", record.bounce_type);
  put("bounce_subtype", record.bounce_subtype);
  put("diagnostic_code", recipient.diagnostic_code);
  put("status", recipient.status);
  put("action", recipient.action);
  put("feedback_type", record.complaint_feedback_type);
  put("complaint_subtype", record.complaint_subtype);
  put("ses_message_id", record.ses_message_id);
  put("sns_message_id", sns_message_id);
  return detail.dump();
}

Result<FeedbackOutcome> FeedbackService::apply(const std::string& sns_message_id, const std::string& topic_arn,
                                               const sns::SesNotification& record) {
  store::FeedbackRepo repo(m_db, m_clock);
  FeedbackOutcome outcome;
  if (record.kind == sns::SesEventKind::other) {
    auto recorded = repo.record_sns_message(sns_message_id, topic_arn, "Notification");
    if (!recorded) return std::move(recorded).error();
    outcome.stored.duplicate = !*recorded;
    return outcome;
  }
  auto stored = repo.apply_notification(to_store(sns_message_id, topic_arn, record, m_config.suppression));
  if (!stored) return std::move(stored).error();
  outcome.stored = std::move(*stored);
  if (!outcome.stored.duplicate && outcome.stored.batch_id && may_trip_guard(record)) {
    auto paused = check_batch_reputation(m_db, m_clock, m_config.guard, *outcome.stored.batch_id);
    // NOTE: the feedback is stored; a guard that cannot read now looks again
    // on the next bounce, so its failure must not make SNS redeliver.
    if (!paused) log::error("reputation guard failed", {{"batch_id", *outcome.stored.batch_id},
                                                       {"detail", paused.error().detail}});
    else outcome.paused = *paused;
  }
  return outcome;
}

Result<UnsubscribeOutcome> FeedbackService::unsubscribe(const std::string& token) {
  auto message_id = render::verify_unsubscribe_token(m_config.unsubscribe.secret, token);
  if (!message_id) return make_error(ErrorCode::not_found, "this unsubscribe link is not valid");
  store::FeedbackRepo repo(m_db, m_clock);
  auto target = repo.unsubscribe_target(*message_id);
  if (!target) {
    if (target.error().code == ErrorCode::not_found) {
      return make_error(ErrorCode::not_found, "this unsubscribe link is not valid");
    }
    return std::move(target).error();
  }
  auto done = repo.unsubscribe(*target, render::suppression_key(target->email));
  if (!done) return std::move(done).error();
  return UnsubscribeOutcome{target->message_id, done->already};
}

}  // namespace mailer::service
