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
// DailyQuota::refresh, SendingHold::on_probe, HandOff::wake, AccountHealth
// (every GetAccount answer, probes included). No database.
// Guarantees: a step that throws is logged, counted as a failed GetAccount
// and retried 5 s later. A failing GetAccount is logged on its first failure,
// at most once a minute while it goes on, and once on recovery.

#include <chrono>
#include <memory>
#include <stop_token>
#include <thread>

#include "jobs/account_health.hpp"
#include "jobs/hand_off.hpp"
#include "jobs/sending_hold.hpp"
#include "mailer/core/config.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/jobs/sender.hpp"

namespace mailer::jobs {

class AccountThread {
 public:
  /// The state the thread writes and others read.
  struct Shared {
    SendRate& rate;
    DailyQuota& quota;
    SendingHold& hold;
    HandOff& hand_off;
    AccountHealth& health;
  };

  /// Every reference must outlive the thread; `config` is read for
  /// ses.max_send_rate only; `clock` stamps AccountHealth's times.
  AccountThread(const Config& config, const Clock& clock, std::unique_ptr<Sender> sender, std::chrono::seconds refresh,
                Shared shared)
      : m_config(config),
        m_clock(clock),
        m_sender(std::move(sender)),
        m_refresh(refresh),
        m_rate(shared.rate),
        m_quota(shared.quota),
        m_hold(shared.hold),
        m_hand_off(shared.hand_off),
        m_health(shared.health) {}

  void start();
  void stop();

 private:
  void loop(std::stop_token stop);
  void step(SteadyClock::time_point& next_refresh);
  Status refresh_account();
  void record_failure(std::string_view detail);

  const Config& m_config;
  const Clock& m_clock;
  std::unique_ptr<Sender> m_sender;
  const std::chrono::seconds m_refresh;
  SendRate& m_rate;
  DailyQuota& m_quota;
  SendingHold& m_hold;
  HandOff& m_hand_off;
  AccountHealth& m_health;
  std::jthread m_thread;
};

}  // namespace mailer::jobs
