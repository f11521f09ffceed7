#include "jobs/account_thread.hpp"

#include "jobs/engine_support.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"

namespace mailer::jobs {
namespace {
constexpr std::chrono::seconds k_account_retry{5};
constexpr std::chrono::milliseconds k_account_tick{250};
}  // namespace

void AccountThread::start() {
  m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
}

void AccountThread::stop() {
  m_thread.request_stop();
  if (m_thread.joinable()) m_thread.join();
}

void AccountThread::loop(std::stop_token stop) {
  auto next_refresh = SteadyClock::now();
  while (!stop.stop_requested()) {
    if (!guarded("account", [&] { step(next_refresh); })) next_refresh = SteadyClock::now() + k_account_retry;
    wait_or_stop(stop, k_account_tick);
  }
}

void AccountThread::step(SteadyClock::time_point& next_refresh) {
  const bool probe = m_hold.probe_due();
  if (!probe && SteadyClock::now() < next_refresh) return;
  auto answer = refresh_account();
  next_refresh = SteadyClock::now() + (answer ? std::chrono::seconds(m_refresh) : k_account_retry);
  if (probe) {
    if (m_hold.on_probe(answer)) m_hand_off.wake();
    return;
  }
  if (!answer) {
    log::warn("GetAccount failed; keeping the current send rate and quota", {{"error", answer.error().detail}});
  }
}

Status AccountThread::refresh_account() {
  auto asked = SteadyClock::now();
  auto account = m_sender->account();
  metrics::observe_ses_request("GetAccount", account ? nullptr : &account.error(), SteadyClock::now() - asked);
  if (!account) return std::move(account).error();
  if (!m_config.ses.max_send_rate) m_rate.set_ceiling(SendRate::ceiling_from_account(account->max_send_rate));
  m_quota.refresh(account->max_24_hour_send, account->sent_last_24_hours);
  return {};
}

}  // namespace mailer::jobs
