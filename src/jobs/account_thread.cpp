#include "jobs/account_thread.hpp"

#include "jobs/engine_support.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"

namespace mailer::jobs {
namespace {
constexpr std::chrono::seconds k_account_retry{5};
constexpr std::chrono::milliseconds k_account_tick{250};

std::vector<log::Field> rate_fields(const AccountHealth::Snapshot& state) {
  return {{"send_rate", state.rate}, {"why", state.why}};
}

void log_change(AccountHealth::Change change, const AccountHealth::Snapshot& state) {
  using Change = AccountHealth::Change;
  auto fields = rate_fields(state);
  switch (change) {
    case Change::none: return;
    case Change::first_success: return log::info("GetAccount answered; send rate set", fields);
    case Change::recovered: return log::info("GetAccount answers again; send rate and quota refreshed", fields);
    case Change::first_failure:
      fields.push_back({"error", state.last_error});
      return log::warn("GetAccount failed; keeping the current send rate and quota", fields);
    case Change::still_failing:
      fields.push_back({"error", state.last_error});
      fields.push_back({"failures", state.consecutive_failures});
      fields.push_back({"failing_since", format_rfc3339(to_ms(state.failing_since.value_or(Clock::time_point{})))});
      return log::warn("GetAccount still failing; keeping the current send rate and quota", fields);
  }
}
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
    if (!guarded("account", [&] { step(next_refresh); })) {
      next_refresh = SteadyClock::now() + k_account_retry;
      guarded("account", [&] { record_failure("internal error in the account thread (see the log)"); });
    }
    wait_or_stop(stop, k_account_tick);
  }
}

void AccountThread::step(SteadyClock::time_point& next_refresh) {
  const bool probe = m_hold.probe_due();
  if (!probe && SteadyClock::now() < next_refresh) return;
  auto answer = refresh_account();
  next_refresh = SteadyClock::now() + (answer ? std::chrono::seconds(m_refresh) : k_account_retry);
  if (probe && m_hold.on_probe(answer)) m_hand_off.wake();
}

Status AccountThread::refresh_account() {
  auto asked = SteadyClock::now();
  auto account = m_sender->account();
  metrics::observe_ses_request("GetAccount", account ? nullptr : &account.error(), SteadyClock::now() - asked);
  if (!account) {
    record_failure(error_text(account.error()));
    return std::move(account).error();
  }
  if (!m_config.ses.max_send_rate) m_rate.set_ceiling(SendRate::ceiling_from_account(account->max_send_rate));
  m_quota.refresh(account->max_24_hour_send, account->sent_last_24_hours);
  auto change = m_health.on_success(m_clock.now(), account->max_send_rate, account->max_24_hour_send);
  log_change(change, m_health.snapshot());
  return {};
}

void AccountThread::record_failure(std::string_view detail) {
  auto change = m_health.on_failure(m_clock.now(), SteadyClock::now(), detail);
  log_change(change, m_health.snapshot());
}

}  // namespace mailer::jobs
