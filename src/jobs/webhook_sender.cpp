#include "jobs/webhook_sender.hpp"

#include <random>

#include <fmt/format.h>

#include "jobs/engine_support.hpp"
#include "mailer/core/json.hpp"
#include "mailer/core/log.hpp"
#include "mailer/core/metrics.hpp"
#include "mailer/jobs/webhook_retry.hpp"
#include "mailer/net/http_client.hpp"
#include "mailer/render/webhook.hpp"
#include "mailer/store/webhooks.hpp"

namespace mailer::jobs {
namespace {

constexpr std::chrono::milliseconds k_supervise_interval{1000};
constexpr std::chrono::milliseconds k_tick{100};            // an idle endpoint looks for events this often
constexpr std::chrono::milliseconds k_storage_retry{1000};  // after the database refused a step
constexpr int k_scan_rows = 5000;                           // events read past the cursor per step, at most
constexpr std::size_t k_kept_response_bytes = 256;          // of each answer, in the attempt log
constexpr std::size_t k_read_response_bytes = 4096;         // read at most; the rest is cut off
// Delivered and given-up deliveries (bodies and attempt logs) are kept this
// long for inspection and replay, then deleted a few hundred at a time.
constexpr std::chrono::hours k_delivery_retention{24 * 7};
constexpr int k_prune_rows = 500;
constexpr std::chrono::minutes k_prune_interval{1};

std::string first_bytes(const std::string& body) {
  return body.substr(0, std::min(body.size(), k_kept_response_bytes));
}

// The tag filter: every tag of the endpoint, with the same value, on the message.
bool tags_match(const std::map<std::string, std::string>& wanted, const std::string& tags_json) {
  if (wanted.empty()) return true;
  auto tags = stored_json_or_empty(tags_json);
  for (const auto& [name, value] : wanted) {
    auto it = tags.find(name);
    if (it == tags.end() || !it->is_string() || it->get<std::string>() != value) return false;
  }
  return true;
}

render::WebhookEvent to_render(store::WebhookEventRow row) {
  return render::WebhookEvent{row.id,
                              std::move(row.type),
                              row.occurred_at_ms,
                              std::move(row.message_id),
                              std::move(row.batch_id),
                              std::move(row.email),
                              std::move(row.tags_json),
                              std::move(row.metadata_json),
                              std::move(row.detail_json)};
}

}  // namespace

// One endpoint's loop (see webhook_sender.hpp).
class EndpointThread {
 public:
  EndpointThread(const Config& config, const std::string& db_path, const Clock& clock, std::string endpoint_id,
                 std::atomic<bool>& wrote)
      : m_config(config),
        m_db_path(db_path),
        m_clock(clock),
        m_endpoint_id(std::move(endpoint_id)),
        m_wrote(wrote),
        m_random(std::random_device{}()) {}
  ~EndpointThread() { stop(); }

  void start() {
    m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
  }
  void request_stop() { m_thread.request_stop(); }
  void stop() {
    m_thread.request_stop();
    if (m_thread.joinable()) m_thread.join();
  }
  bool finished() const { return m_finished.load(); }

 private:
  void loop(std::stop_token stop);
  std::chrono::milliseconds step(const std::stop_token& stop);
  std::chrono::milliseconds attempt(const store::WebhookEndpoint& endpoint, const store::WebhookDelivery& delivery,
                                    const std::stop_token& stop);
  // What to do with the events after the cursor: a delivery to write with
  // the cursor moved to cursor_to, a move over filtered-out events alone
  // (cursor_to past the cursor), or nothing yet (come back after `wait`).
  struct Plan {
    std::optional<store::WebhookRepo::NewDelivery> delivery;
    std::int64_t cursor_to = 0;
    std::chrono::milliseconds wait{0};
    bool failed = false;  // the database refused the read
  };
  // `wait_for_age`: a delivery that is not full waits for max_batch_age;
  // `full_only`: only a full delivery, nothing else (planned with a record).
  enum class Batching { wait_for_age, full_only };
  Plan plan(const store::WebhookEndpoint& endpoint, Batching batching);
  std::chrono::milliseconds gather(const store::WebhookEndpoint& endpoint);
  std::int64_t now_ms() const { return to_ms(m_clock.now()); }

  const Config& m_config;
  const std::string& m_db_path;
  const Clock& m_clock;
  const std::string m_endpoint_id;
  std::atomic<bool>& m_wrote;
  std::unique_ptr<store::Database> m_db;
  std::unique_ptr<net::HttpClient> m_client;
  std::optional<SteadyClock::time_point> m_waiting_since;  // when events first waited for a fuller delivery
  std::mt19937_64 m_random;
  std::atomic<bool> m_finished{false};
  std::jthread m_thread;
};

void EndpointThread::loop(std::stop_token stop) {
  net::HttpClientOptions options;
  options.connect_timeout = m_config.webhooks.connect_timeout;
  options.total_timeout = m_config.webhooks.timeout;
  options.user_agent = "mailerd-webhooks";
  options.max_response_bytes = k_read_response_bytes;
  options.public_addresses_only = !m_config.webhooks.allow_private_targets;
  options.cancelled = [&stop] { return stop.stop_requested(); };
  m_client = std::make_unique<net::HttpClient>(options);
  while (!stop.stop_requested() && !m_finished) {
    auto wait = k_storage_retry;
    guarded("webhooks", [&] { wait = step(stop); });
    if (wait.count() > 0) wait_or_stop(stop, wait);
  }
}

std::chrono::milliseconds EndpointThread::step(const std::stop_token& stop) {
  if (!m_db) {
    auto db = store::Database::open(m_db_path, store::OpenMode::existing, store::Sync::deferred);
    if (!db) {
      log::warn("webhook endpoint cannot open the database",
                {{"endpoint", m_endpoint_id}, {"error", db.error().detail}});
      return k_storage_retry;
    }
    m_db = std::move(*db);
  }
  store::WebhookRepo repo(*m_db);
  auto endpoint = repo.get(m_endpoint_id);
  if (!endpoint) {
    if (endpoint.error().code == ErrorCode::not_found) m_finished = true;
    return k_storage_retry;
  }
  if (!endpoint->enabled) {
    m_finished = true;
    return k_tick;
  }
  auto pending = repo.next_pending(m_endpoint_id);
  if (!pending) return k_storage_retry;
  if (*pending) {
    const auto due_in = (*pending)->next_attempt_at_ms - now_ms();
    if (due_in > 0) return std::min(k_tick, std::chrono::milliseconds(due_in));
    return attempt(*endpoint, **pending, stop);
  }
  return gather(*endpoint);
}

EndpointThread::Plan EndpointThread::plan(const store::WebhookEndpoint& endpoint, Batching batching) {
  Plan out;
  const int limit = m_config.webhooks.max_events_per_delivery;
  auto scan = store::WebhookRepo(*m_db).events_after(endpoint, limit, k_scan_rows);
  if (!scan) {
    out.failed = true;
    return out;
  }
  const bool full = static_cast<int>(scan->events.size()) >= limit;
  if (batching == Batching::full_only && !full) return out;
  std::vector<render::WebhookEvent> kept;
  for (auto& row : scan->events)
    if (tags_match(endpoint.tags, row.tags_json)) kept.push_back(to_render(std::move(row)));
  out.cursor_to = scan->scanned_to;
  if (kept.empty()) {
    if (batching == Batching::full_only) out.cursor_to = endpoint.last_event_id;  // left to gather()
    else m_waiting_since.reset();
    out.wait = scan->reached_end ? k_tick : std::chrono::milliseconds(0);
    return out;
  }
  if (batching == Batching::wait_for_age && !full && scan->reached_end) {
    const auto now = SteadyClock::now();
    if (!m_waiting_since) m_waiting_since = now;
    const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - *m_waiting_since);
    if (waited < m_config.webhooks.max_batch_age) {
      out.cursor_to = endpoint.last_event_id;
      out.wait = std::min(k_tick, m_config.webhooks.max_batch_age - waited);
      return out;
    }
  }
  m_waiting_since.reset();
  const auto now = now_ms();
  store::WebhookRepo::NewDelivery delivery;
  delivery.first_event_id = kept.front().id;
  delivery.last_event_id = kept.back().id;
  delivery.event_count = static_cast<std::int64_t>(kept.size());
  delivery.body = render::webhook_events_body(kept, now);
  delivery.now_ms = now;
  delivery.retry_until_ms = now + std::chrono::milliseconds(m_config.webhooks.retry_for).count();
  out.delivery = std::move(delivery);
  return out;
}

std::chrono::milliseconds EndpointThread::gather(const store::WebhookEndpoint& endpoint) {
  auto next = plan(endpoint, Batching::wait_for_age);
  if (next.failed) return k_storage_retry;
  store::WebhookRepo repo(*m_db);
  if (next.delivery) {
    if (!repo.create_delivery(m_endpoint_id, endpoint.last_event_id, next.cursor_to, *next.delivery))
      return k_storage_retry;
    m_wrote = true;
  } else if (next.cursor_to > endpoint.last_event_id) {
    if (!repo.advance_cursor(m_endpoint_id, endpoint.last_event_id, next.cursor_to)) return k_storage_retry;
    m_wrote = true;
  }
  return next.wait;
}

std::chrono::milliseconds EndpointThread::attempt(const store::WebhookEndpoint& endpoint,
                                                  const store::WebhookDelivery& delivery, const std::stop_token& stop) {
  const auto started_ms = now_ms();
  const std::string webhook_id = render::webhook_delivery_id(delivery.id);
  const std::int64_t timestamp = started_ms / 1000;
  store::AttemptRecord record;
  record.delivery_id = delivery.id;
  record.attempted_at_ms = started_ms;
  std::optional<std::chrono::milliseconds> retry_after;
  const auto started = SteadyClock::now();
  auto signature = render::webhook_signature(endpoint.secret, webhook_id, timestamp, delivery.body);
  if (!signature) {
    record.error = signature.error().detail;
  } else {
    net::HttpRequest request{"POST",
                             endpoint.url,
                             {{"Content-Type", "application/json"},
                              {"webhook-id", webhook_id},
                              {"webhook-timestamp", std::to_string(timestamp)},
                              {"webhook-signature", *signature}},
                             delivery.body};
    auto response = m_client->perform(request);
    if (stop.stop_requested()) return std::chrono::milliseconds(0);  // abandoned: still pending, sent again later
    if (!response) {
      record.error = response.error().detail;
    } else {
      record.status_code = response->status;
      record.response = first_bytes(response->body);
      record.delivered = response->status >= 200 && response->status < 300;
      if (!record.delivered) {
        record.error = fmt::format("HTTP {}", response->status);
        if (auto header = response->header("Retry-After")) retry_after = parse_retry_after(*header, m_clock.now());
      }
    }
  }
  const auto elapsed = SteadyClock::now() - started;
  record.latency_ms = std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count();
  const auto finished_ms = now_ms();
  if (!record.delivered && finished_ms < delivery.retry_until_ms) {
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    auto wait = webhook_retry_delay(static_cast<int>(delivery.attempts) + 1, m_config.webhooks.backoff_base,
                                    m_config.webhooks.backoff_max, retry_after, uniform(m_random));
    record.next_attempt_at_ms = finished_ms + wait.count();
  }
  record.disable_if_failing_since_ms = finished_ms - std::chrono::milliseconds(m_config.webhooks.disable_after).count();
  const char* outcome = record.delivered ? "delivered" : (record.next_attempt_at_ms ? "retry" : "failed");
  metrics::count_webhook_attempt(m_endpoint_id, outcome, elapsed);
  // While events stream, the next full delivery is written with this record.
  std::optional<store::WebhookRepo::NextDelivery> next;
  if (record.delivered && delivery.kind == "events") {
    auto planned = plan(endpoint, Batching::full_only);
    if (planned.delivery)
      next = store::WebhookRepo::NextDelivery{endpoint.last_event_id, planned.cursor_to, std::move(*planned.delivery)};
  }
  auto effect = store::WebhookRepo(*m_db).record_attempt(m_endpoint_id, record, next ? &*next : nullptr);
  if (!effect) {
    // Not recorded: the delivery stays pending and goes again (at-least-once).
    log::warn("webhook attempt not recorded",
              {{"endpoint", m_endpoint_id}, {"delivery", webhook_id}, {"error", effect.error().detail}});
    return k_storage_retry;
  }
  m_wrote = true;
  if (!record.delivered) {
    log::warn("webhook delivery failed", {{"endpoint", m_endpoint_id},
                                          {"delivery", webhook_id},
                                          {"attempt", delivery.attempts + 1},
                                          {"error", record.error.value_or("")},
                                          {"outcome", outcome}});
  } else {
    log::debug("webhook delivered", {{"endpoint", m_endpoint_id}, {"delivery", webhook_id}});
  }
  if (effect->endpoint_disabled) {
    metrics::count_webhook_endpoint_disabled(m_endpoint_id);
    log::warn("webhook endpoint disabled: every attempt failed",
              {{"endpoint", m_endpoint_id},
               {"disable_after_hours", std::chrono::hours(m_config.webhooks.disable_after).count()}});
    m_finished = true;
  }
  return std::chrono::milliseconds(0);
}

// ---- WebhookSender ---------------------------------------------------------------

WebhookSender::WebhookSender(const Config& config, std::string db_path, const Clock& clock)
    : m_config(config), m_db_path(std::move(db_path)), m_clock(clock) {}

WebhookSender::~WebhookSender() { stop(); }

Status WebhookSender::start() {
  auto db = store::Database::open(m_db_path, store::OpenMode::create, store::Sync::deferred);
  if (!db) return std::move(db).error();
  m_db = std::move(*db);
  m_thread = std::jthread([this](std::stop_token stop) { loop(stop); });
  return {};
}

void WebhookSender::notify() {
  {
    std::scoped_lock lock(m_mutex);
    m_notified = true;
  }
  m_wake.notify_one();
}

void WebhookSender::stop() {
  m_thread.request_stop();
  m_wake.notify_one();
  if (m_thread.joinable()) m_thread.join();
  m_endpoints.clear();
}

void WebhookSender::loop(std::stop_token stop) {
  auto last_checkpoint = SteadyClock::now();
  auto next_prune = SteadyClock::now() + k_prune_interval;
  while (!stop.stop_requested()) {
    guarded("webhooks", [&] { supervise(); });
    if (SteadyClock::now() >= next_prune) {
      next_prune = SteadyClock::now() + k_prune_interval;
      guarded("webhooks", [&] { prune(); });
    }
    if (m_wrote && SteadyClock::now() - last_checkpoint >= k_supervise_interval) {
      m_wrote = false;
      last_checkpoint = SteadyClock::now();
      if (auto done = m_db->checkpoint(store::Database::CheckpointMode::passive); !done)
        log::warn("webhook checkpoint failed", {{"error", done.error().detail}});
    }
    std::unique_lock lock(m_mutex);
    m_wake.wait_for(lock, stop, k_supervise_interval, [this] { return m_notified; });
    m_notified = false;
  }
  // Each thread's stop cancels its request in progress; ask them all first.
  for (auto& [id, endpoint] : m_endpoints) endpoint->request_stop();
  for (auto& [id, endpoint] : m_endpoints) endpoint->stop();
}

void WebhookSender::prune() {
  const auto before = to_ms(m_clock.now()) - std::chrono::milliseconds(k_delivery_retention).count();
  auto pruned = store::WebhookRepo(*m_db).prune(before, k_prune_rows);
  if (!pruned) {
    log::warn("webhook delivery pruning failed", {{"error", pruned.error().detail}});
    return;
  }
  if (*pruned > 0) {
    m_wrote = true;
    log::info("pruned old webhook deliveries", {{"count", *pruned}});
  }
}

void WebhookSender::supervise() {
  auto endpoints = store::WebhookRepo(*m_db).list();
  if (!endpoints) return;
  std::map<std::string, bool> enabled;
  for (const auto& e : *endpoints) {
    enabled[e.id] = e.enabled;
    metrics::declare_webhook_endpoint(e.id);
  }
  for (auto it = m_endpoints.begin(); it != m_endpoints.end();) {
    auto found = enabled.find(it->first);
    if (found == enabled.end() || !found->second || it->second->finished()) {
      it->second->stop();
      it = m_endpoints.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, on] : enabled) {
    if (!on || m_endpoints.count(id)) continue;
    auto thread = std::make_unique<EndpointThread>(m_config, m_db_path, m_clock, id, m_wrote);
    thread->start();
    m_endpoints.emplace(id, std::move(thread));
  }
}

}  // namespace mailer::jobs
