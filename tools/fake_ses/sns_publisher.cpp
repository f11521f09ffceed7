// SNS's HTTP delivery, scaled down: one thread takes envelopes off a bounded
// queue when they are due, signs them (SignatureVersion 2 over
// sns::string_to_sign, mailerd's own definition) and POSTs them with the
// headers SNS sends. SNS retries a failed HTTP delivery (by default three more
// times, 20 s apart: https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html);
// the fake retries sooner so tests stay fast, and gives up at once on a 4xx
// other than 429, which a retry would only repeat.
#include <cstdio>

#include "fake_ses.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/sns/verify.hpp"

namespace mailer::fake_ses {

namespace {

using nlohmann::json;
using namespace std::chrono_literals;

constexpr int k_attempts = 4;  // the first and three retries, as SNS's default policy
constexpr auto k_first_backoff = 100ms;
constexpr int k_logged_failures = 20;  // then every 1000th, so a wrong endpoint cannot flood the log

std::string uuid() {
  std::string r = crypto::hex(crypto::random_bytes(16));
  return r.substr(0, 8) + "-" + r.substr(8, 4) + "-" + r.substr(12, 4) + "-" + r.substr(16, 4) + "-" + r.substr(20);
}

// "http://host:port/path" -> {"http://host:port", "/path"}.
std::pair<std::string, std::string> split_url(const std::string& url) {
  auto slash = url.find('/', url.find("://") + 3);
  if (slash == std::string::npos) return {url, "/"};
  return {url.substr(0, slash), url.substr(slash)};
}

// SubscribeURL query values: the topic ARN's ':' are kept, as SNS does.
std::string subscribe_url(const std::string& self_url, const std::string& topic_arn, const std::string& token) {
  return self_url + "/_fake/sns-confirm?Action=ConfirmSubscription&TopicArn=" + topic_arn + "&Token=" + token;
}

}  // namespace

SnsPublisher::SnsPublisher(std::size_t queue_limit) : m_queue_limit(queue_limit) {}

SnsPublisher::~SnsPublisher() { stop(); }

void SnsPublisher::start(std::string self_url) {
  m_self_url = std::move(self_url);
  m_thread = std::jthread([this](std::stop_token stop) { run(stop); });
}

void SnsPublisher::stop() {
  if (!m_thread.joinable()) return;
  m_thread.request_stop();
  m_thread.join();
  std::scoped_lock lock(m_mutex);
  if (!m_queue.empty()) {
    log_line({{"msg", "SNS notifications not sent at shutdown"}, {"count", m_queue.size()}});
    m_dropped += m_queue.size();
    m_queue.clear();
  }
}

const SnsSigner& SnsPublisher::signer() {
  std::call_once(m_signer_once, [this] { m_signer = std::make_unique<SnsSigner>(); });
  return *m_signer;
}

bool SnsPublisher::enqueue(Item item) {
  {
    std::scoped_lock lock(m_mutex);
    if (m_queue.size() >= m_queue_limit) {
      ++m_dropped;
      return false;
    }
    m_queue.push_back(std::move(item));
  }
  m_wake.notify_one();
  return true;
}

void SnsPublisher::publish(std::vector<FeedbackRecord> records, const SnsOptions& options) {
  auto due = std::chrono::steady_clock::now() + std::chrono::milliseconds(options.delay_ms);
  for (auto& r : records) {
    enqueue({false, due, options.endpoint, options.topic_arn, r.type, r.record.dump()});
  }
}

void SnsPublisher::subscribe(const SnsOptions& options) {
  {
    std::scoped_lock lock(m_mutex);
    m_token = crypto::hex(crypto::random_bytes(32));
    m_subscription = "pending";
  }
  enqueue(
      {true, std::chrono::steady_clock::now(), options.endpoint, options.topic_arn, "SubscriptionConfirmation", ""});
}

bool SnsPublisher::confirm(const std::string& token) {
  std::scoped_lock lock(m_mutex);
  if (m_token.empty() || !crypto::constant_time_equal(token, m_token)) return false;
  m_subscription = "confirmed";
  return true;
}

SnsPublisher::Stats SnsPublisher::stats() {
  std::scoped_lock lock(m_mutex);
  return {
      m_published.load(), m_failed.load(), m_dropped.load(), m_retried.load(), m_queue.size() + (m_in_flight ? 1 : 0),
      m_subscription};
}

// Items are queued in due order (one delay for all), so the front is the next due.
void SnsPublisher::run(std::stop_token stop) {
  while (!stop.stop_requested()) {
    Item item;
    {
      std::unique_lock lock(m_mutex);
      m_in_flight = false;
      if (!m_wake.wait(lock, stop, [this] { return !m_queue.empty(); })) return;
      if (auto due = m_queue.front().due; due > std::chrono::steady_clock::now()) {
        m_wake.wait_until(lock, stop, due, [] { return false; });
        continue;
      }
      item = std::move(m_queue.front());
      m_queue.pop_front();
      m_in_flight = true;
    }
    try {
      deliver(item, stop);
    } catch (const std::exception& e) {
      ++m_failed;
      log_line({{"msg", "SNS publish failed"}, {"type", item.type}, {"error", e.what()}});
    }
  }
}

std::string SnsPublisher::envelope_of(const Item& item) {
  sns::Envelope e;
  e.type = item.confirmation ? sns::MessageType::subscription_confirmation : sns::MessageType::notification;
  e.type_name = item.confirmation ? "SubscriptionConfirmation" : "Notification";
  e.message_id = uuid();
  e.topic_arn = item.topic_arn;
  e.timestamp = iso_time(std::chrono::system_clock::now());
  e.signature_version = "2";
  e.signing_cert_url = m_self_url + "/_fake/sns-cert.pem";
  if (item.confirmation) {
    {
      std::scoped_lock lock(m_mutex);
      e.token = m_token;
    }
    e.message = "You have chosen to subscribe to the topic " + item.topic_arn +
                ".\nTo confirm the subscription, visit the SubscribeURL included in this message.";
    e.subscribe_url = subscribe_url(m_self_url, item.topic_arn, e.token);
  } else {
    e.message = item.message;
  }
  e.signature = signer().sign(sns::string_to_sign(e));
  json body = {{"Type", e.type_name},      {"MessageId", e.message_id},
               {"TopicArn", e.topic_arn},  {"Message", e.message},
               {"Timestamp", e.timestamp}, {"SignatureVersion", e.signature_version},
               {"Signature", e.signature}, {"SigningCertURL", e.signing_cert_url}};
  if (item.confirmation) {
    body["Token"] = e.token;
    body["SubscribeURL"] = e.subscribe_url;
  } else {
    // Never served: mailerd must not fetch it, and does not.
    body["UnsubscribeURL"] = m_self_url + "/_fake/sns-unsubscribe?SubscriptionArn=" + item.topic_arn;
  }
  return body.dump();
}

// The client for the current endpoint; only the delivery thread calls this.
// NOTE: one connection per POST. Over keep-alive every
// answer from mailerd's server (headers and body written apart) met Nagle and
// the delayed ACK: 54 ms per notification against 2 ms with new connections,
// whose first segments Linux acknowledges at once (measured with make demo).
httplib::Client& SnsPublisher::client_for(const std::string& origin) {
  if (!m_client || m_client_origin != origin) {
    m_client = std::make_unique<httplib::Client>(origin);
    m_client->set_keep_alive(false);
    m_client->set_tcp_nodelay(true);
    m_client->set_connection_timeout(1, 0);
    m_client->set_read_timeout(5, 0);
    m_client->set_write_timeout(5, 0);
    m_client_origin = origin;
  }
  return *m_client;
}

void SnsPublisher::deliver(const Item& item, std::stop_token stop) {
  const std::string body = envelope_of(item);
  const std::string message_id = json::parse(body)["MessageId"];
  auto [origin, path] = split_url(item.endpoint);
  httplib::Client& client = client_for(origin);
  httplib::Headers headers = {
      {"x-amz-sns-message-type", item.confirmation ? "SubscriptionConfirmation" : "Notification"},
      {"x-amz-sns-message-id", message_id},
      {"x-amz-sns-topic-arn", item.topic_arn},
      {"User-Agent", "Amazon Simple Notification Service Agent"}};
  if (!item.confirmation) headers.emplace("x-amz-sns-subscription-arn", item.topic_arn + ":mailer-fake-ses");
  std::string why;
  auto backoff = std::chrono::milliseconds(k_first_backoff);
  for (int attempt = 1; attempt <= k_attempts; ++attempt) {
    if (attempt > 1) {
      std::unique_lock lock(m_mutex);
      if (m_wake.wait_for(lock, stop, backoff, [] { return false; }) || stop.stop_requested()) break;
      backoff *= 2;
      ++m_retried;
    }
    auto res = client.Post(path.c_str(), headers, body, "text/plain; charset=UTF-8");
    if (res && res->status >= 200 && res->status < 300) {
      if (!item.confirmation) ++m_published;
      return;
    }
    why = res ? "HTTP " + std::to_string(res->status) : "no answer: " + httplib::to_string(res.error());
    if (res && res->status >= 400 && res->status < 500 && res->status != 429) break;
  }
  std::uint64_t failures = item.confirmation ? m_failed.load() : ++m_failed;
  if (failures <= k_logged_failures || failures % 1000 == 0) {
    log_line({{"msg", "SNS publish failed"},
              {"type", item.type},
              {"sns_message_id", message_id},
              {"error", why},
              {"failures", failures}});
  }
}

}  // namespace mailer::fake_ses
