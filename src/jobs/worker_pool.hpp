#pragma once
// The worker pool: worker.concurrency threads that turn a claimed message
// into an outcome.
//
// Owns: each worker's connection (Sync::deferred), MessageRepo, Composer,
// Sender (its own keep-alive connection to SES), random source and HandOff
// mailbox; the RetryPolicy.
// Threads: one per worker. A worker takes a message from the HandOff (or
// finds it in its mailbox), composes it, checks suppression and send_before,
// reserves a daily-quota slot, waits for a SendRate token, sends, tells the
// SendingHold how SES answered, decides retry or DLQ on failure, then submits
// the outcome and WAITS for its round to commit before taking more work.
// May not touch: the message rows, except giving back (release) a claim it
// never sent; outcomes are written by the dispatcher only.
// Guarantees:
// - At most one sent-but-unrecorded message per worker, so kill -9 sends at
//   most worker.concurrency messages twice.
// - A quota slot is returned on every path but an accepted send, throws
//   included (DailyQuota::Reservation).
// - A message claimed before stop() or a sending hold began is given back
//   unsent, its attempt uncounted; so is one whose send found no credentials
//   because stopping cancelled their fetch (aws::is_cancelled).
// - An exception while handling a message is recorded on it as `internal`;
//   one outside that is logged and the claim left to expire. None leaves the
//   thread.

#include <memory>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "jobs/hand_off.hpp"
#include "jobs/sending_hold.hpp"
#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/jobs/composer.hpp"
#include "mailer/jobs/retry_policy.hpp"
#include "mailer/jobs/send_rate.hpp"
#include "mailer/jobs/sender.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::jobs {

class WorkerPool {
 public:
  /// Every reference must outlive the pool; `config` is read for worker.*
  /// and by the Composer.
  WorkerPool(const Config& config, const Clock& clock, SendRate& rate, DailyQuota& quota, SendingHold& hold,
             HandOff& hand_off);

  /// Opens worker.concurrency connections to `db_path` and asks `make_sender`
  /// for a sender each. Errors: storage_unavailable, internal (no sender).
  Status open(const std::string& db_path, const SenderFactory& make_sender);
  void start();
  /// Stops and joins every worker. A worker waiting for its round's commit
  /// goes on waiting: the dispatcher must still run (HandOff::abandon() first).
  void stop();

 private:
  struct Worker {
    std::unique_ptr<store::Database> db;
    std::unique_ptr<store::MessageRepo> repo;
    std::unique_ptr<Composer> composer;
    std::unique_ptr<Sender> sender;
    std::mt19937_64 random{std::random_device{}()};
    Rng rng = [this] { return std::uniform_real_distribution<double>(0.0, 1.0)(random); };
    HandOff::Mailbox mailbox;
  };

  void loop(std::stop_token stop, Worker& worker);
  std::optional<store::ClaimedMessage> next_message(std::stop_token stop, Worker& worker);
  void handle(std::stop_token stop, Worker& worker, const store::ClaimedMessage& message);
  std::optional<store::Outcome> process(std::stop_token stop, Worker& worker, const store::ClaimedMessage& message);
  store::Outcome failure_outcome(Worker& worker, const store::ClaimedMessage& message, const Error& error);
  void give_back(Worker& worker, const store::ClaimedMessage& message);

  const Config& m_config;
  const Clock& m_clock;
  RetryPolicy m_policy;
  SendRate& m_rate;
  DailyQuota& m_quota;
  SendingHold& m_hold;
  HandOff& m_hand_off;
  std::vector<std::unique_ptr<Worker>> m_workers;
  std::vector<std::jthread> m_threads;
};

}  // namespace mailer::jobs
