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
    case sns::FeedbackAction::unsubscribe_bulk: return store::FeedbackEffect::unsubscribe_bulk;
    case sns::FeedbackAction::record_only: return store::FeedbackEffect::record;
  }
  return store::FeedbackEffect::record;
}

store::FeedbackNotification to_store(const std::string& sns_message_id, const std::string& topic_arn,
                                     const sns::SesNotification& record, const Config& config) {
  const auto& rules = config.suppression;
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
    n.recipients.push_back(
        {address_key(r.email), feedback_detail_json(record, r, sns_message_id, config.events), effect, permanent});
  }
  return n;
}

// A hard bounce or a complaint can push a batch over a limit; nothing else can.
bool may_trip_guard(const sns::SesNotification& record) {
  return (record.kind == sns::SesEventKind::bounce && record.bounce_type == "Permanent") ||
         record.kind == sns::SesEventKind::complaint;
}

}  // namespace

Result<FeedbackOutcome> FeedbackService::apply(const std::string& sns_message_id, const std::string& topic_arn,
                                               const sns::SesNotification& record) {
  store::FeedbackRepo repo(m_db, m_clock);
  FeedbackOutcome outcome;
  // Checked before anything is written: answering "recorded" must mean an
  // event was stored, and marking the MessageId seen would make a redelivery
  // a duplicate.
  if (record.recipients.empty())
    return make_error(ErrorCode::invalid_input, "the " + record.type_name + " record names no recipient");
  auto stored = repo.apply_notification(to_store(sns_message_id, topic_arn, record, m_config));
  if (!stored) return std::move(stored).error();
  outcome.stored = std::move(*stored);
  if (!outcome.stored.duplicate && outcome.stored.batch_id && may_trip_guard(record)) {
    auto paused = check_batch_reputation(m_db, m_clock, m_config.guard, *outcome.stored.batch_id);
    // NOTE: the feedback is stored; a guard that cannot read now looks again
    // on the next bounce, so its failure must not make SNS redeliver.
    if (!paused)
      log::error("reputation guard failed",
                 {{"batch_id", *outcome.stored.batch_id}, {"detail", paused.error().detail}});
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
