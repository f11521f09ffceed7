#include "jobs/worker_pool.hpp"

#include "jobs/engine_support.hpp"
#include "mailer/aws/credentials.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/store/suppressions.hpp"

namespace mailer::jobs {
namespace {

std::string error_code_name(const Error& error) {
  return error.upstream_code.empty() ? std::string(to_string(error.code)) : error.upstream_code;
}

// Sender::send, counted and timed for /metrics (mailer_ses_requests_total and
// mailer_ses_request_duration_seconds).
Result<std::string> timed_send(Sender& sender, const SendRequest& request) {
  auto started = SteadyClock::now();
  auto ses_id = sender.send(request);
  metrics::observe_ses_request("SendEmail", ses_id ? nullptr : &ses_id.error(), SteadyClock::now() - started);
  return ses_id;
}

void log_attempt(const store::ClaimedMessage& message, const store::Outcome& outcome) {
  // Successes go at debug: at thousands per second an info line each costs
  // more than the send (docs/PERFORMANCE.md); every failure stays at info.
  const auto level = outcome.kind == store::Outcome::Kind::sent ? log::Level::debug : log::Level::info;
  if (!log::enabled(level)) return;
  log::write(level, "send attempt",
             {{"message_id", message.id},
              {"batch_id", message.batch_id.value_or("")},
              {"attempt", message.attempts},
              {"outcome", outcome_name(outcome.kind)},
              {"error_code", outcome.error_code}});
}

}  // namespace

WorkerPool::WorkerPool(const Config& config, const Clock& clock, SendRate& rate, DailyQuota& quota, SendingHold& hold,
                       HandOff& hand_off)
    : m_config(config),
      m_clock(clock),
      m_policy(config.worker.attempts, config.worker.backoff_base, config.worker.backoff_max),
      m_rate(rate),
      m_quota(quota),
      m_hold(hold),
      m_hand_off(hand_off) {}

Status WorkerPool::open(const std::string& db_path, const SenderFactory& make_sender) {
  for (int i = 0; i < m_config.worker.concurrency; ++i) {
    auto worker = std::make_unique<Worker>();
    auto db = store::Database::open(db_path, store::OpenMode::create, store::Sync::deferred);
    if (!db) return std::move(db).error();
    worker->db = std::move(*db);
    worker->repo = std::make_unique<store::MessageRepo>(*worker->db, m_clock);
    worker->composer = std::make_unique<Composer>(*worker->db, m_clock, m_config);
    worker->sender = make_sender();
    if (!worker->sender) return make_error(ErrorCode::internal, "the sender factory made no sender");
    m_workers.push_back(std::move(worker));
  }
  return {};
}

void WorkerPool::start() {
  for (auto& worker : m_workers) {
    m_threads.emplace_back([this, w = worker.get()](std::stop_token stop) { loop(stop, *w); });
  }
}

void WorkerPool::stop() {
  for (auto& thread : m_threads) thread.request_stop();
  m_threads.clear();  // joins
}

void WorkerPool::loop(std::stop_token stop, Worker& worker) {
  for (;;) {
    std::optional<store::ClaimedMessage> message;
    bool more = true;
    if (!guarded("worker", [&] {
          message = next_message(stop, worker);
          more = message.has_value();
          if (more) handle(stop, worker, *message);
        })) {
      // Neither recorded nor given back: forget the claim, whose lease expires
      // and the reaper requeues.
      if (message) m_hand_off.finish(*message);
    }
    if (!more) return;
  }
}

// The message handed over by the last commit, else one from the queue;
// nullopt when stopped. One claimed before stop() or a sending hold began is
// given back unstarted, its attempt uncounted.
std::optional<store::ClaimedMessage> WorkerPool::next_message(std::stop_token stop, Worker& worker) {
  for (;;) {
    auto message = worker.mailbox.next ? std::exchange(worker.mailbox.next, std::nullopt) : m_hand_off.take(stop);
    if (!message || (!m_hand_off.draining() && !m_hold.held())) return message;
    give_back(worker, *message);
  }
}

void WorkerPool::handle(std::stop_token stop, Worker& worker, const store::ClaimedMessage& message) {
  std::optional<store::Outcome> outcome;
  // STYLE §4: an exception here is a bug; it is recorded on the message as
  // `internal` (retried, then dead-lettered) instead of killing the thread.
  try {
    outcome = process(stop, worker, message);
  } catch (const std::exception& e) {
    outcome = failure_outcome(worker, message, make_error(ErrorCode::internal, e.what()));
  } catch (...) {
    outcome = failure_outcome(worker, message, make_error(ErrorCode::internal, "unknown exception"));
  }
  if (!outcome) return give_back(worker, message);
  guarded("worker", [&] { log_attempt(message, *outcome); });  // a log failure must not lose the outcome
  const bool accepted = outcome->kind == store::Outcome::Kind::sent;
  // The dispatcher ends the claim. A stale outcome was logged when fenced
  // off; an unsent one left unrecorded only goes back to the queue.
  if (!m_hand_off.submit(worker.mailbox, std::move(*outcome)) && accepted) {
    log::warn("sent, but the outcome was not recorded; the message may be sent again", {{"message_id", message.id}});
  }
}

std::optional<store::Outcome> WorkerPool::process(std::stop_token stop, Worker& worker,
                                                  const store::ClaimedMessage& message) {
  store::Outcome outcome{.message_id = message.id, .lease_token = message.lease_token};
  if (message.suppression_reason) {
    outcome.kind = store::Outcome::Kind::suppressed;
    outcome.error = store::to_string(*message.suppression_reason);
    return outcome;
  }
  auto composed = worker.composer->compose(message);
  if (!composed) return failure_outcome(worker, message, composed.error());
  if (composed->send_before_ms && to_ms(m_clock.now()) > *composed->send_before_ms) {
    outcome.kind = store::Outcome::Kind::cancelled;
    outcome.error_code = "send_before_passed";
    outcome.error = "not sent before the batch's send_before";
    return outcome;
  }
  auto traffic = message.kind == store::MessageKind::transactional ? Traffic::transactional : Traffic::bulk;
  // Returned to the quota on every path but an accepted send, throws included.
  const int recipients = composed->request.recipient_count();
  auto slot = m_quota.reserve(recipients, traffic);
  if (!slot) {
    return failure_outcome(worker, message, make_error(ErrorCode::upstream_throttled, "Daily message quota exceeded"));
  }
  // Stopping, or sending went on hold while this worker waited for a token:
  // give the claim back unsent.
  if (!m_rate.acquire(recipients, stop) || m_hold.held()) return std::nullopt;
  auto ses_id = timed_send(*worker.sender, composed->request);
  // Stopping gave up the credential fetch before anything left: unsent, so
  // the claim goes back uncounted, and SES said nothing the hold should see.
  if (!ses_id && aws::is_cancelled(ses_id.error())) return std::nullopt;
  m_hold.observe_send(ses_id);
  if (!ses_id) return failure_outcome(worker, message, ses_id.error());
  slot->keep();
  m_rate.on_success();
  outcome.kind = store::Outcome::Kind::sent;
  outcome.ses_message_id = *ses_id;
  outcome.dropped = message.dropped;
  return outcome;
}

store::Outcome WorkerPool::failure_outcome(Worker& worker, const store::ClaimedMessage& message, const Error& error) {
  int throttle_streak = 1;
  if (error.code == ErrorCode::upstream_throttled && !is_daily_quota_error(error)) {
    throttle_streak = m_rate.on_throttled();
  }
  if (is_daily_quota_error(error)) m_quota.on_quota_exceeded();
  auto decision = m_policy.decide(message.attempts, error, m_clock.now(), worker.rng, throttle_streak);
  store::Outcome outcome{.message_id = message.id, .lease_token = message.lease_token};
  outcome.error_code = error_code_name(error);
  outcome.error = error.detail;
  switch (decision.kind) {
    case Decision::Kind::retry:
    case Decision::Kind::quota_pause:
      outcome.kind = store::Outcome::Kind::retry;
      outcome.run_at_ms = to_ms(decision.retry_at);
      outcome.attempt_consumed =
          decision.kind == Decision::Kind::retry && decision.consumes_attempt == ConsumesAttempt::yes;
      break;
    case Decision::Kind::dead_letter: outcome.kind = store::Outcome::Kind::dead_letter; break;
  }
  return outcome;
}

// Returns an unsent claim to the queue, attempt uncounted, and ends it.
void WorkerPool::give_back(Worker& worker, const store::ClaimedMessage& message) {
  release_claims(*worker.repo, {{message.id, message.lease_token}});
  m_hand_off.finish(message);
}

}  // namespace mailer::jobs
