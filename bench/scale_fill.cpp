// Fills a database with the history of a long-running mailerd, for the scale
// benchmark (bench/scale.sh, docs/PERFORMANCE.md "Scale"): MESSAGES bulk
// messages in BATCHES newsletters spread evenly over the last DAYS days, each
// sent to a subscriber list that drifts by 1 % per batch, and the events SES
// feedback would have added: SENT for every message sent, then BOUNCE for the
// 3 % of addresses that bounce (one in three for good, Permanent; the others
// Transient, mailbox full, at every send), DELIVERY for the rest, COMPLAINT
// (0.05 %), UNSUBSCRIBE (0.1 %), OPEN (30 % of the delivered, 1-3 each,
// hours to days later) and CLICK (a fifth of the openers, one of eight
// links). Hard bounces, complaints and unsubscribes add suppressions, so
// later batches skip those subscribers at acceptance as in production.
//
// Everything goes through the store layer, not the HTTP API: batches and
// their messages through BatchRepo::insert_batch (the API's own insert, with
// a clock set to the batch's time), events through EventRepo::insert, so the
// schema's triggers keep batch_counts, event_counts_hourly and batch_links
// as mailerd would. Events are inserted in time order (a heap holds the
// pending ones), so event ids grow with time as in production. No event is
// later than two hours before the start, so "the last hour" holds only what
// the benchmark itself adds.
//
// Usage: mailer_bench_scale_fill DB_PATH [MESSAGES] [BATCHES] [DAYS]
//        (defaults 10,000,000, 100 and 60). The file must not exist.
// Prints one JSON line: rows written by kind, events by type, seconds taken,
// and the ids the benchmark queries (a batch deep in the list, a subscriber
// with history).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <map>
#include <queue>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/ids.hpp"
#include "mailer/store/batches.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/events.hpp"

namespace {

using mailer::store::Event;
constexpr std::int64_t k_minute_ms = 60'000;
constexpr std::int64_t k_hour_ms = 60 * k_minute_ms;
constexpr std::int64_t k_day_ms = 24 * k_hour_ms;
constexpr std::int64_t k_send_interval_ms = 1;  // 1,000 messages a second while a batch drains
constexpr std::size_t k_events_per_flush = 50'000;

struct Options {
  std::string path;
  std::int64_t messages = 10'000'000;
  std::int64_t batches = 100;
  std::int64_t days = 60;
};

// A clock that says what it is told: each batch is stored "at" its send time.
class SetClock final : public mailer::Clock {
 public:
  time_point now() const override { return m_now; }
  void set(std::int64_t ms) { m_now = mailer::from_ms(ms); }

 private:
  time_point m_now;
};

enum class BounceKind { none, hard, soft };

// Whether mail to subscriber `n` bounces: 1 % of addresses for good, 2 %
// with a full mailbox; the same at every send, as real addresses behave.
BounceKind bounce_kind(std::int64_t n) {
  const auto h = static_cast<std::uint64_t>(n) * 2654435761u % 1000;
  return h < 10 ? BounceKind::hard : h < 30 ? BounceKind::soft : BounceKind::none;
}

struct Pending {
  Event event;
  const char* suppress_reason = nullptr;  // "bounce", "complaint", "unsubscribe": also suppress
};

struct LaterFirst {
  bool operator()(const Pending& a, const Pending& b) const { return a.event.occurred_at_ms > b.event.occurred_at_ms; }
};

struct Totals {
  std::int64_t messages = 0;
  std::int64_t suppressed_at_acceptance = 0;
  std::int64_t suppressions = 0;
  std::vector<std::int64_t> sent_by_batch;  // oldest first
  std::map<std::string, std::int64_t> events;
};

class Filler {
 public:
  Filler(mailer::store::Database& db, const Options& options, std::int64_t now_ms)
      : m_db(db),
        m_options(options),
        m_latest_ms(now_ms - 2 * k_hour_ms),
        m_first_ms(now_ms - options.days * k_day_ms),
        m_per_batch(options.messages / options.batches),
        m_drift(std::max<std::int64_t>(1, m_per_batch / 100)) {}

  void run();
  const Totals& totals() const { return m_totals; }
  const std::vector<std::string>& batch_ids() const { return m_batch_ids; }
  // A subscriber on every batch's list (the newest batch's list, less the
  // drift of all before it) whose address never bounces.
  std::string subscriber_with_history() const {
    auto n = (m_options.batches - 1) * m_drift;
    while (bounce_kind(n) != BounceKind::none) ++n;
    return subscriber(n);
  }

 private:
  static std::string subscriber(std::int64_t n) { return fmt::format("sub{}@example.net", n); }
  std::int64_t batch_time(std::int64_t b) const {
    return m_first_ms + b * (m_options.days * k_day_ms) / m_options.batches;
  }
  void store_batch(std::int64_t b);
  void send_batch(std::int64_t b, const std::string& batch_id, std::int64_t at_ms);
  void add_feedback(std::int64_t subscriber_n, const std::string& batch_id, const std::string& message_id,
                    const std::string& email, const std::string& ses_id, std::int64_t sent_ms);
  void push(const char* type, const std::string& batch_id, const std::string& message_id, const std::string& email,
            std::string detail, std::int64_t at_ms, const char* suppress = nullptr);
  void flush_until(std::int64_t before_ms);
  std::string hex(int digits);
  double uniform() { return std::uniform_real_distribution<double>(0, 1)(m_rng); }

  mailer::store::Database& m_db;
  const Options& m_options;
  const std::int64_t m_latest_ms;
  const std::int64_t m_first_ms;
  const std::int64_t m_per_batch;
  const std::int64_t m_drift;
  SetClock m_clock;
  std::mt19937_64 m_rng{20261206};
  std::priority_queue<Pending, std::vector<Pending>, LaterFirst> m_pending;
  std::vector<std::string> m_batch_ids;
  Totals m_totals;
};

constexpr const char* k_first_names[] = {"Ana", "Bruno", "Carla", "David", "Eva", "Filipe", "Grace", "Hugo"};
constexpr const char* k_cities[] = {"Lisbon", "Porto", "Madrid", "Paris", "Berlin", "Dublin", "Rome", "Vienna"};
constexpr const char* k_plans[] = {"free", "basic", "pro", "team"};
constexpr const char* k_user_agents[] = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Mobile "
    "Safari/537.36"};

std::string recipient_variables(std::int64_t n) {
  return nlohmann::json{{"first_name", k_first_names[n % 8]},
                        {"last_name", fmt::format("Surname{}", n)},
                        {"city", k_cities[(n / 8) % 8]},
                        {"plan", k_plans[(n / 64) % 4]},
                        {"customer_id", fmt::format("cus_{:08d}", n)},
                        {"coupon", fmt::format("WINTER{:05d}", (n * 7919) % 100000)}}
      .dump();
}

mailer::store::Batch newsletter(std::int64_t b) {
  mailer::store::Batch batch;
  batch.id = mailer::ids::make(mailer::ids::k_batch);
  batch.from_address = "Example Shop <news@example.net>";
  batch.subject = fmt::format("Issue {}: news for you, {{{{first_name}}}}", b + 1);
  std::string body;
  for (int i = 0; i < 8; ++i)
    body += fmt::format(
        "<p>Section {} for {{{{first_name}}}} in {{{{city}}}}: <a href=\"https://example.net/{}/{}\">"
        "read more</a></p>\n",
        i, b, i);
  batch.html = "<html><body><h1>Hello {{first_name}}</h1>\n" + body +
               "<p>Your code: {{coupon}}</p><a href=\"{{unsubscribe_url}}\">unsubscribe</a></body></html>";
  batch.text = "Hello {{first_name}}, read issue " + std::to_string(b + 1) + " at https://example.net/" +
               std::to_string(b) + "\n{{unsubscribe_url}}";
  batch.metadata_json = nlohmann::json{{"campaign", fmt::format("newsletter-{}", b + 1)}}.dump();
  batch.tags_json = R"({"campaign":"newsletter"})";
  return batch;
}

void Filler::run() {
  for (std::int64_t b = 0; b < m_options.batches; ++b) {
    flush_until(batch_time(b));
    store_batch(b);
    if (b % 10 == 9)
      std::fprintf(stderr, "scale_fill: %s\n", fmt::format("{} of {} batches", b + 1, m_options.batches).c_str());
  }
  flush_until(std::numeric_limits<std::int64_t>::max());
}

void Filler::store_batch(std::int64_t b) {
  const auto at_ms = batch_time(b);
  std::vector<mailer::store::NewRecipient> recipients;
  recipients.reserve(static_cast<std::size_t>(m_per_batch));
  for (std::int64_t i = 0; i < m_per_batch; ++i) {
    const auto n = b * m_drift + i;
    recipients.push_back({static_cast<int>(i), subscriber(n), subscriber(n), recipient_variables(n)});
  }
  auto batch = newsletter(b);
  m_clock.set(at_ms);
  if (auto stored = mailer::store::BatchRepo(m_db, m_clock).insert_batch(batch, recipients); !stored)
    throw std::runtime_error("insert_batch: " + stored.error().detail);
  m_batch_ids.push_back(batch.id);
  m_totals.messages += m_per_batch;
  m_totals.suppressed_at_acceptance += batch.suppressed_count;
  m_totals.events["SUPPRESSED"] += batch.suppressed_count;
  send_batch(b, batch.id, at_ms);
}

// Marks the batch's queued messages sent, as the job engine would have, with
// their SENT event and the feedback that follows.
void Filler::send_batch(std::int64_t b, const std::string& batch_id, std::int64_t at_ms) {
  auto& sql = m_db.sql();
  SQLite::Transaction tx(sql);
  SQLite::Statement queued(sql,
                           "SELECT id, email, recipient_index FROM messages WHERE batch_id = ? AND state = 'queued'"
                           " ORDER BY id");
  queued.bind(1, batch_id);
  SQLite::Statement sent(sql,
                         "UPDATE messages SET state = 'sent', attempts = 1, ses_message_id = ?, sent_at_ms = ?,"
                         " updated_at_ms = ? WHERE id = ?");
  std::int64_t sent_ms = at_ms;
  std::int64_t count = 0;
  while (queued.executeStep()) {
    ++count;
    const std::string id = queued.getColumn(0).getString();
    const std::string email = queued.getColumn(1).getString();
    const std::string ses_id = "0100018c" + hex(8) + "-" + hex(8) + "-" + hex(4) + "-" + hex(4) + "-000000";
    sent_ms += k_send_interval_ms;
    sent.bind(1, ses_id);
    sent.bind(2, sent_ms);
    sent.bind(3, sent_ms);
    sent.bind(4, id);
    sent.exec();
    sent.reset();
    push("SENT", batch_id, id, email, nlohmann::json{{"ses_message_id", ses_id}}.dump(), sent_ms);
    add_feedback(b * m_drift + queued.getColumn(2).getInt64(), batch_id, id, email, ses_id, sent_ms);
  }
  SQLite::Statement finish(sql,
                           "UPDATE batches SET status = 'completed', updated_at_ms = ?1, completed_at_ms = ?1"
                           " WHERE id = ?2");
  finish.bind(1, sent_ms);
  finish.bind(2, batch_id);
  finish.exec();
  tx.commit();
  m_totals.sent_by_batch.push_back(count);
}

void Filler::add_feedback(std::int64_t subscriber_n, const std::string& batch_id, const std::string& message_id,
                          const std::string& email, const std::string& ses_id, std::int64_t sent_ms) {
  auto detail = [&](nlohmann::json fields) {
    fields["ses_message_id"] = ses_id;
    fields["sns_message_id"] = hex(8) + "-" + hex(4) + "-" + hex(4) + "-" + hex(4) + "-" + hex(12);
    return fields.dump();
  };
  if (const auto bounce = bounce_kind(subscriber_n); bounce != BounceKind::none) {
    const bool hard = bounce == BounceKind::hard;
    push("BOUNCE", batch_id, message_id, email,
         detail({{"bounce_type", hard ? "Permanent" : "Transient"},
                 {"bounce_subtype", hard ? "General" : "MailboxFull"},
                 {"diagnostic_code", hard ? "smtp; 550 5.1.1 user unknown" : "smtp; 452 4.2.2 mailbox full"},
                 {"status", hard ? "5.1.1" : "4.2.2"},
                 {"action", "failed"}}),
         sent_ms + 2'000 + static_cast<std::int64_t>(uniform() * 60'000), hard ? "bounce" : nullptr);
    return;
  }
  push("DELIVERY", batch_id, message_id, email, detail({}),
       sent_ms + 1'000 + static_cast<std::int64_t>(uniform() * 4'000));
  if (uniform() < 0.0005) {
    push("COMPLAINT", batch_id, message_id, email, detail({{"feedback_type", "abuse"}}),
         sent_ms + static_cast<std::int64_t>(uniform() * k_day_ms), "complaint");
  }
  if (uniform() < 0.001) {
    push("UNSUBSCRIBE", batch_id, message_id, email, R"({"source":"one-click"})",
         sent_ms + static_cast<std::int64_t>(uniform() * k_day_ms), "unsubscribe");
  }
  if (uniform() >= 0.3) return;
  // Opens: the first after an exponential wait (mean 6 h), the others later still.
  std::int64_t at =
      sent_ms + static_cast<std::int64_t>(std::exponential_distribution<double>(1.0 / 6)(m_rng) * k_hour_ms);
  const int opens = 1 + static_cast<int>(uniform() * 3);
  const char* agent = k_user_agents[m_rng() % 4];
  for (int i = 0; i < opens; ++i, at += static_cast<std::int64_t>(uniform() * 12 * k_hour_ms)) {
    push("OPEN", batch_id, message_id, email, detail({{"user_agent", agent}, {"ip_address", "192.0.2.17"}}), at);
    if (i == 0 && uniform() < 0.2) {
      const auto link = fmt::format("https://example.net/{}/{}", batch_id, m_rng() % 8);
      push("CLICK", batch_id, message_id, email,
           detail({{"link", link}, {"user_agent", agent}, {"ip_address", "192.0.2.17"}}), at + 30'000);
    }
  }
}

void Filler::push(const char* type, const std::string& batch_id, const std::string& message_id,
                  const std::string& email, std::string detail, std::int64_t at_ms, const char* suppress) {
  Event e{0, type, batch_id, message_id, email, std::move(detail), std::min(at_ms, m_latest_ms)};
  m_pending.push({std::move(e), suppress});
}

// Inserts every pending event before `before_ms`, oldest first, with the
// suppressions they imply, in transactions of k_events_per_flush events.
void Filler::flush_until(std::int64_t before_ms) {
  mailer::store::EventRepo events(m_db);
  SQLite::Statement suppress(m_db.sql(),
                             "INSERT OR IGNORE INTO suppressions(email, reason, scope, detail_json, created_at_ms,"
                             " updated_at_ms) VALUES (?1, ?2, ?3, '{}', ?4, ?4)");
  while (!m_pending.empty() && m_pending.top().event.occurred_at_ms < before_ms) {
    SQLite::Transaction tx(m_db.sql());
    std::vector<Event> chunk;
    while (!m_pending.empty() && m_pending.top().event.occurred_at_ms < before_ms &&
           chunk.size() < k_events_per_flush) {
      const Pending& top = m_pending.top();
      if (top.suppress_reason) {
        suppress.bind(1, top.event.email);
        suppress.bind(2, top.suppress_reason);
        suppress.bind(3, std::string(top.suppress_reason) == "unsubscribe" ? "bulk" : "all");
        suppress.bind(4, top.event.occurred_at_ms);
        m_totals.suppressions += suppress.exec();
        suppress.reset();
      }
      ++m_totals.events[top.event.type];
      chunk.push_back(top.event);
      m_pending.pop();
    }
    if (auto inserted = events.insert(chunk); !inserted)
      throw std::runtime_error("insert events: " + inserted.error().detail);
    tx.commit();
  }
}

std::string Filler::hex(int digits) {
  static constexpr char k_digits[] = "0123456789abcdef";
  std::string out(static_cast<std::size_t>(digits), '0');
  auto bits = m_rng();
  for (auto& c : out) {
    c = k_digits[bits & 15];
    bits >>= 4;
    if (bits == 0) bits = m_rng();
  }
  return out;
}

std::int64_t positive_arg(const char* text, const char* name) {
  char* end = nullptr;
  const auto value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || value < 1)
    throw std::invalid_argument(fmt::format("{}: must be a whole number >= 1", name));
  return value;
}

Options parse_options(int argc, char** argv) {
  if (argc < 2 || argc > 5)
    throw std::invalid_argument("usage: mailer_bench_scale_fill DB_PATH [MESSAGES] [BATCHES] [DAYS]");
  Options options;
  options.path = argv[1];
  if (argc > 2) options.messages = positive_arg(argv[2], "MESSAGES");
  if (argc > 3) options.batches = positive_arg(argv[3], "BATCHES");
  if (argc > 4) options.days = positive_arg(argv[4], "DAYS");
  if (options.messages < options.batches) throw std::invalid_argument("MESSAGES: must be at least BATCHES");
  if (std::filesystem::exists(options.path)) throw std::invalid_argument(options.path + ": exists; give a new file");
  return options;
}

int fill(const Options& options) {
  auto db = mailer::store::Database::open(options.path);
  if (!db) return std::fprintf(stderr, "open: %s\n", db.error().detail.c_str()), 1;
  if (auto migrated = mailer::store::migrate(**db); !migrated)
    return std::fprintf(stderr, "migrate: %s\n", migrated.error().detail.c_str()), 1;
  // A generator's file can be rebuilt: no fsync, and room for the indexes in memory.
  (*db)->sql().exec("PRAGMA synchronous = OFF");
  (*db)->sql().exec("PRAGMA cache_size = -524288");
  const auto started = std::chrono::steady_clock::now();
  Filler filler(**db, options, mailer::to_ms(std::chrono::system_clock::now()));
  filler.run();
  if (auto done = (*db)->checkpoint(mailer::store::Database::CheckpointMode::truncate); !done)
    return std::fprintf(stderr, "checkpoint: %s\n", done.error().detail.c_str()), 1;
  const auto& totals = filler.totals();
  std::int64_t events = 0;
  for (const auto& [type, n] : totals.events) events += n;
  const auto& ids = filler.batch_ids();
  nlohmann::json out = {
      {"messages", totals.messages},
      {"batches", options.batches},
      {"days", options.days},
      {"suppressed_at_acceptance", totals.suppressed_at_acceptance},
      {"suppressions", totals.suppressions},
      {"events", events},
      {"events_by_type", totals.events},
      {"fill_seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
      {"file_bytes", std::filesystem::file_size(options.path)},
      {"deep_batch_id", ids[std::min<std::size_t>(ids.size() - 1, 10)]},
      {"oldest_batch_id", ids.front()},
      {"first_batch_sent", totals.sent_by_batch.front()},
      {"subscriber", filler.subscriber_with_history()},
  };
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return fill(parse_options(argc, argv));
  } catch (const std::invalid_argument& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "scale_fill: %s\n", e.what());
    return 1;
  }
}
