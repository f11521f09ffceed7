// POST /webhooks/ses: Amazon SNS delivers SES feedback here, every event type
// stored as events (SPEC §6, shared/reference/sns.md §8). No API key: the SNS
// signature and the topic allowlist authenticate the message (sns/verify).
//
// The answer comes quickly: verification (certificates are cached) plus one
// transaction; SNS retries on anything but 2xx, and a MessageId seen before is
// acknowledged without being applied again.
#include <httplib.h>

#include <memory>

#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/core/text.hpp"
#include "mailer/http/context.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/response.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/service/feedback.hpp"
#include "mailer/sns/parse.hpp"
#include "mailer/sns/verify.hpp"

namespace mailer::http {

namespace {

std::string header(const httplib::Request& req, const char* name) { return req.get_header_value(name); }

// Raw message delivery strips the signed envelope, so such a body cannot be
// authenticated at all (reference §7).
bool is_raw_delivery(const httplib::Request& req) {
  return header(req, "x-amz-sns-rawdelivery") == "true" || sns::looks_like_raw_delivery(req.body);
}

void refuse(httplib::Response& res, const sns::Verdict& verdict) {
  metrics::count_sns_notification(verdict.envelope.type_name.empty() ? "unknown" : verdict.envelope.type_name,
                                  "rejected");
  // Anyone can post here: a flood of forgeries must not flood the log too.
  static log::Throttle throttle;
  log::warn_throttled(throttle, "SNS message rejected",
                      {{"stage", std::string(sns::to_string(verdict.stage))},
                       {"reason", verdict.reason},
                       // Unverified sender's values: shortened, as in the reason.
                       {"sns_message_id", text::shorten(verdict.envelope.message_id)},
                       {"topic_arn", text::shorten(verdict.envelope.topic_arn)}});
  switch (verdict.stage) {
    case sns::Stage::parse:
      return write_problem(res, make_error(ErrorCode::invalid_input, "not an SNS message: " + verdict.reason));
    case sns::Stage::certificate:
      // Our fetch failed, not the sender: a 5xx makes SNS deliver again later.
      return write_problem(res, make_error(ErrorCode::upstream_transient, "SNS signing certificate unavailable"));
    default: return write_problem(res, make_error(ErrorCode::forbidden, "SNS message refused: " + verdict.reason));
  }
}

void confirm_subscription(httplib::Response& res, Context& context, sns::CertificateCache& certificates,
                          const sns::Envelope& e) {
  metrics::count_sns_notification(e.type_name, "accepted");
  if (!context.deps.config.sns.auto_confirm) {
    log::warn("SNS subscription confirmation received; sns.auto_confirm is off, confirm by a GET of SubscribeURL",
              {{"topic_arn", e.topic_arn}, {"subscribe_url", e.subscribe_url}});
    return write_json(res, 200, {{"status", "confirmation_pending"}});
  }
  auto answer = certificates.fetcher().get(e.subscribe_url);
  if (!answer || answer->status != 200) {
    auto why = answer ? "HTTP " + std::to_string(answer->status) : answer.error().detail;
    log::error("SNS subscription confirmation failed", {{"topic_arn", e.topic_arn}, {"detail", why}});
    return write_problem(res, make_error(ErrorCode::upstream_transient, "confirming the subscription failed"));
  }
  log::info("SNS subscription confirmed", {{"topic_arn", e.topic_arn}, {"sns_message_id", e.message_id}});
  write_json(res, 200, {{"status", "confirmed"}});
}

void record_notification(httplib::Response& res, Context& context, const sns::Envelope& e) {
  auto record = sns::parse_ses_notification(e.message);
  if (!record) {
    static log::Throttle throttle;
    log::warn_throttled(
        throttle, "SNS notification is not a SES record",
        {{"sns_message_id", e.message_id}, {"topic_arn", e.topic_arn}, {"detail", record.error().detail}});
    return write_problem(res, make_error(ErrorCode::invalid_input, "Message: " + record.error().detail));
  }
  auto db = context.deps.db.acquire();
  if (!db) return write_problem(res, db.error());
  service::FeedbackService feedback(**db, context.deps.clock, context.deps.config);
  auto applied = feedback.apply(e.message_id, e.topic_arn, *record);
  if (!applied) return write_problem(res, applied.error());
  const auto& stored = applied->stored;
  metrics::count_sns_notification(record->type_name, stored.duplicate ? "duplicate" : "accepted");
  for (const auto& entry : stored.suppressed) metrics::count_suppression(store::to_string(entry.reason));
  log::info(stored.duplicate ? "SNS notification already processed" : "SES feedback recorded",
            {{"sns_message_id", e.message_id},
             {"type", record->type_name},
             {"ses_message_id", record->ses_message_id},
             {"message_id", stored.message_id ? nlohmann::json(*stored.message_id) : nlohmann::json()},
             {"batch_id", stored.batch_id ? nlohmann::json(*stored.batch_id) : nlohmann::json()},
             {"suppressed", stored.suppressed.size()},
             {"batch_paused", applied->paused ? nlohmann::json(*applied->paused) : nlohmann::json()}});
  write_json(res, 200, {{"status", stored.duplicate ? "duplicate" : "recorded"}});
}

void receive_sns(const httplib::Request& req, httplib::Response& res, Context& context,
                 sns::CertificateCache& certificates) {
  const auto& config = context.deps.config.sns;
  if (config.topic_arns.empty()) {
    static log::Throttle throttle;
    log::warn_throttled(throttle, "SNS webhook is disabled: set sns.topic_arns to accept SES feedback");
    return write_problem(res,
                         make_error(ErrorCode::not_found, "the SES webhook is disabled (sns.topic_arns is empty)"));
  }
  if (is_raw_delivery(req)) {
    static log::Throttle throttle;
    log::warn_throttled(throttle,
                        "SNS raw message delivery is on: turn RawMessageDelivery off for this subscription; "
                        "raw messages carry no signature and are refused",
                        {{"topic_arn", text::shorten(header(req, "x-amz-sns-topic-arn"))}});
    return write_problem(
        res, make_error(ErrorCode::invalid_input, "raw message delivery is not accepted; disable RawMessageDelivery"));
  }
  sns::DeliveryHeaders headers{header(req, "x-amz-sns-message-type"), header(req, "x-amz-sns-topic-arn")};
  auto verdict = sns::verify_message(req.body, config, certificates, headers);
  if (!verdict.accepted()) return refuse(res, verdict);
  const auto& e = verdict.envelope;
  switch (e.type) {
    case sns::MessageType::subscription_confirmation: return confirm_subscription(res, context, certificates, e);
    case sns::MessageType::unsubscribe_confirmation:
      // Never followed automatically: its SubscribeURL would re-subscribe (reference §5).
      metrics::count_sns_notification(e.type_name, "accepted");
      log::warn("SNS subscription ended (UnsubscribeConfirmation); SES feedback for this topic stops",
                {{"topic_arn", e.topic_arn}, {"sns_message_id", e.message_id}});
      return write_json(res, 200, {{"status", "noted"}});
    case sns::MessageType::notification: return record_notification(res, context, e);
  }
}

// An SNS message is at most 256 KiB (262,144 bytes; "Messages must be UTF-8
// encoded strings and at most 256 KB in size",
// https://docs.aws.amazon.com/sns/latest/api/API_Publish.html). The HTTP
// POST carries it as a JSON string, whose escaping (every quote of an SES
// notification becomes \") can nearly double it, plus the envelope: type,
// ids, topic, signature and certificate URL, under 2 KiB. Anything larger is
// not from SNS, and the route is public, so it is refused unread.
constexpr std::size_t k_max_sns_body_bytes = 512 * 1024;

}  // namespace

void register_webhook_routes(Router& router, std::shared_ptr<sns::CertificateCache> certificates) {
  router.add({"POST", "/webhooks/ses", Access::none, BodyKind::none,
              [certificates](const httplib::Request& req, httplib::Response& res, Context& context) {
                receive_sns(req, res, context, *certificates);
              },
              Idempotency::none, k_max_sns_body_bytes});
}

void register_webhook_routes(Router& router) {
  register_webhook_routes(router, std::make_shared<sns::CertificateCache>(sns::make_curl_fetcher()));
}

}  // namespace mailer::http
