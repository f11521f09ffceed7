#pragma once
// The account thread: SES GetAccount for the send rate and the daily quota,
// and the sending hold's probes.
//
// Owns: its thread and its own Sender (keep-alive connection).
// Thread: its own. GetAccount every Engine::k_account_refresh (5 s after a
// failure) and, while sending is on hold, whenever the breaker wants a probe.
// A thread of its own because a GetAccount to an unreachable SES can take the
// whole HTTP timeout, which must not stall the reaper (the liveness signal).
// May touch: SendRate's ceiling (only under ses.max_send_rate "auto"),
// DailyQuota::refresh, SendingHold::on_probe, HandOff::wake. No database.
// Guarantees: a step that throws is logged and retried 5 s later.

#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>

#include "jobs/hand_off.hpp"
#include "jobs/sending_hold.hpp"
#include "mailer/core/config.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/jobs/sender.hpp"

namespace mailer::jobs {

class AccountThread {
 public:
  /// Every reference must outlive the thread; `config` is read for
  /// ses.max_send_rate only.
  AccountThread(const Config& config, std::unique_ptr<Sender> sender, std::chrono::seconds refresh,
                SendRate& rate, DailyQuota& quota, SendingHold& hold, HandOff& hand_off)
      : m_config(config), m_sender(std::move(sender)), m_refresh(refresh), m_rate(rate), m_quota(quota),
        m_hold(hold), m_hand_off(hand_off) {}

  void start();
  void stop();

 private:
  void loop(std::stop_token stop);
  void step(SteadyClock::time_point& next_refresh);
  Status refresh_account();

  const Config& m_config;
  std::unique_ptr<Sender> m_sender;
  const std::chrono::seconds m_refresh;
  SendRate& m_rate;
  DailyQuota& m_quota;
  SendingHold& m_hold;
  HandOff& m_hand_off;
  std::jthread m_thread;
};

}  // namespace mailer::jobs
