#pragma once
// The webhook sender: delivers events to the operator's endpoints as signed
// Standard Webhooks requests, durably, without touching the sending of mail.
//
// Owns: one supervisor thread, and one thread per enabled endpoint, each
// with its own SQLite connection (`deferred` commits, like the dispatcher)
// and its own keep-alive HttpClient.
// Supervisor: every second (or at once on notify()) reads the endpoints,
// starts a thread for each enabled one and stops the threads of endpoints
// disabled or deleted; it also runs a passive WAL checkpoint each second the
// endpoint threads wrote, so their commits reach the disk while no mail is
// sent (the dispatcher's checkpoints cover the rest), and once a minute
// deletes deliveries delivered or given up more than 7 days ago.
// Endpoint thread, in a loop:
//   1. the oldest pending delivery of the endpoint, when due, is signed and
//      POSTed; its attempt is recorded (status, latency, first 256 bytes of
//      the answer) and it is delivered (2xx), retried later (backoff with
//      jitter, Retry-After honoured) or, past webhooks.retry_for_hours,
//      given up. The endpoint is disabled once every attempt failed for
//      webhooks.disable_after_hours.
//   2. with nothing pending, the events after the endpoint's cursor that
//      pass its filters become one delivery (up to
//      webhooks.max_events_per_delivery events, or fewer once the first of
//      them waited webhooks.max_batch_age_ms), written with the cursor's
//      move in one transaction, then sent as in 1.
// One delivery in flight per endpoint keeps its events in order and bounds
// what a kill -9 can send twice to one delivery per endpoint (same
// webhook-id, same body). A hanging or failing endpoint holds only its own
// thread; mail and other endpoints go on.
// May not touch: messages, the job engine's threads; it reads events,
// messages and batches, and writes only webhook_* tables.
// Guarantees: at-least-once per endpoint for every event after its cursor;
// no exception leaves a thread (each step is guarded and logged).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>

#include "mailer/core/clock.hpp"
#include "mailer/core/config.hpp"
#include "mailer/store/database.hpp"

namespace mailer::jobs {

class EndpointThread;

class WebhookSender {
 public:
  /// `config` and `clock` must outlive the sender.
  WebhookSender(const Config& config, std::string db_path, const Clock& clock);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  /// Opens the supervisor's connection and starts it. Errors: storage_unavailable.
  Status start();
  /// Re-reads the endpoints now (after one was created, changed or replayed).
  void notify();
  /// Stops every thread; a request in progress is abandoned (its delivery
  /// stays pending and is sent again after a restart). Idempotent.
  void stop();

 private:
  void loop(std::stop_token stop);
  void supervise();
  void prune();

  const Config& m_config;
  const std::string m_db_path;
  const Clock& m_clock;
  std::unique_ptr<store::Database> m_db;
  std::map<std::string, std::unique_ptr<EndpointThread>> m_endpoints;
  std::atomic<bool> m_wrote{false};
  std::mutex m_mutex;
  std::condition_variable_any m_wake;
  bool m_notified = false;
  std::jthread m_thread;
};

}  // namespace mailer::jobs
