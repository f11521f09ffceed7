#include <catch2/catch.hpp>

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/core/log.hpp"
#include "mailer/jobs/circuit_breaker.hpp"
#include "mailer/jobs/engine.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using mailer::Error;
using mailer::ErrorCode;
using mailer::Result;
using mailer::jobs::AccountQuota;
using mailer::jobs::Engine;
using mailer::jobs::SendRequest;
using mailer::test::BatchRow;
using mailer::test::MessageRow;
namespace test = mailer::test;
using namespace std::chrono_literals;

namespace {

// What every FakeSender of one test shares: the requests SES "accepted",
// scripted failures per recipient, and a gate that can hold sends in flight.
struct FakeSes {
  std::mutex mutex;
  std::condition_variable gate_cv;
  bool gate_open = true;
  int waiting_at_gate = 0;
  std::vector<SendRequest> accepted;
  std::map<std::string, std::deque<Error>> failures;  // by recipient, used in order
  std::set<std::string> throw_for;                    // recipients whose send throws
  AccountQuota quota{-1, 1000, 0, true, true};
  int account_calls = 0;
  int send_calls = 0;
  std::optional<Error> outage;  // every call fails with it (SES down)
  bool account_throws = false;

  void close_gate() {
    std::scoped_lock lock(mutex);
    gate_open = false;
  }
  void open_gate() {
    {
      std::scoped_lock lock(mutex);
      gate_open = true;
    }
    gate_cv.notify_all();
  }
  int held() {
    std::scoped_lock lock(mutex);
    return waiting_at_gate;
  }
  int account_count() {
    std::scoped_lock lock(mutex);
    return account_calls;
  }
  std::size_t accepted_count() {
    std::scoped_lock lock(mutex);
    return accepted.size();
  }
  int send_count() {
    std::scoped_lock lock(mutex);
    return send_calls;
  }
  void set_outage(std::optional<Error> e) {
    std::scoped_lock lock(mutex);
    outage = std::move(e);
  }
};

// Stands in for aws::SesClient (the network) in engine tests.
class FakeSender final : public mailer::jobs::Sender {
 public:
  explicit FakeSender(FakeSes& ses) : m_ses(ses) {}
  Result<std::string> send(const SendRequest& request) override {
    std::unique_lock lock(m_ses.mutex);
    ++m_ses.waiting_at_gate;
    m_ses.gate_cv.wait(lock, [&] { return m_ses.gate_open; });
    --m_ses.waiting_at_gate;
    ++m_ses.send_calls;
    if (m_ses.outage) return *m_ses.outage;
    const auto& to = request.to.at(0);
    if (m_ses.throw_for.count(to)) throw std::runtime_error("boom");
    if (auto it = m_ses.failures.find(to); it != m_ses.failures.end() && !it->second.empty()) {
      Error e = it->second.front();
      it->second.pop_front();
      return e;
    }
    m_ses.accepted.push_back(request);
    return "ses-" + std::to_string(m_ses.accepted.size());
  }
  Result<AccountQuota> account() override {
    std::scoped_lock lock(m_ses.mutex);
    ++m_ses.account_calls;
    if (m_ses.account_throws) throw std::runtime_error("GetAccount blew up");
    if (m_ses.outage) return *m_ses.outage;
    return m_ses.quota;
  }

 private:
  FakeSes& m_ses;
};

bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(2ms);  // polling a state, not synchronising on time
  }
  return condition();
}

mailer::Config test_config(int concurrency) {
  mailer::Config config;
  config.worker.concurrency = concurrency;
  config.worker.attempts = 3;
  config.worker.backoff_base = 1000ms;
  config.ses.max_send_rate = 1e6;
  config.unsubscribe.secret = "test-secret";
  config.server.public_url = "https://mail.example.com";
  return config;
}

struct EngineFixture {
  test::TestDb t;
  FakeSes ses;
  mailer::Config config;
  std::unique_ptr<Engine> engine;

  explicit EngineFixture(int concurrency = 4) : config(test_config(concurrency)) {}
  ~EngineFixture() {
    ses.open_gate();
    if (engine) engine->stop(0ms);
    CHECK(test::batch_counts_table(t.db()) == test::batch_counts_actual(t.db()));
  }
  void start() {
    engine = std::make_unique<Engine>(config, t.path().string(), t.clock(),
                                      [this] { return std::make_unique<FakeSender>(ses); });
    REQUIRE(engine->start());
    engine->notify();
  }
  std::string batch(BatchRow row = {}) { return test::insert_batch(t.db(), std::move(row), now()); }
  std::string message(MessageRow row) {
    if (row.run_at_ms == 0) row.run_at_ms = now();
    return test::insert_message(t.db(), std::move(row), now());
  }
  std::int64_t now() { return t.clock().now_ms(); }
  std::string state(const std::string& id) { return test::message_state(t.db(), id); }
  std::int64_t count_state(const std::string& state) {
    SQLite::Statement q(t.db().sql(), "SELECT count(*) FROM messages WHERE state = ?");
    q.bind(1, state);
    q.executeStep();
    return q.getColumn(0).getInt64();
  }
  std::string text_column(const std::string& id, const char* column) {
    SQLite::Statement q(t.db().sql(), std::string("SELECT ") + column + " FROM messages WHERE id = ?");
    q.bind(1, id);
    return q.executeStep() && !q.getColumn(0).isNull() ? q.getColumn(0).getString() : "";
  }
  // Moves the fake clock on and wakes the dispatcher until `condition` holds.
  bool advance_until(const std::function<bool()>& condition, std::chrono::milliseconds step) {
    for (int i = 0; i < 50; ++i) {
      if (eventually(condition, 200ms)) return true;
      t.clock().advance(step);
      engine->notify();
    }
    return condition();
  }
};

std::string header(const SendRequest& r, const std::string& name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return "";
}

Error ses_error(ErrorCode code, std::string detail, std::string upstream) {
  return Error{code, std::move(detail), {}, std::move(upstream)};
}

// Stands in for a full disk: the store refuses to record a send.
void refuse_recording_sends(test::TestDb& t) {
  t.db().sql().exec(
      "CREATE TRIGGER refuse_sent BEFORE UPDATE OF state ON messages WHEN NEW.state = 'sent'"
      " BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END");
}

}  // namespace

TEST_CASE("Engine sends every due message exactly once", "[jobs][engine]") {
  EngineFixture f;
  auto b = f.batch({.variables_json = R"({"name":"batch"})"});
  std::set<std::string> ids;
  for (int i = 0; i < 40; ++i) {
    auto vars = i == 0 ? std::string(R"({"name":"Ana"})") : std::string("{}");
    ids.insert(f.message({.batch_id = b, .email = "r" + std::to_string(i) + "@example.com", .variables_json = vars}));
  }
  auto tx = f.message({.email = "tx@example.com", .variables_json = R"({"code":"123"})"});
  ids.insert(tx);
  f.start();

  REQUIRE(eventually([&] { return f.count_state("sent") == 41; }));
  REQUIRE(eventually([&] { return f.engine->stats().in_flight == 0; }));
  CHECK(f.ses.accepted_count() == 41);
  std::set<std::string> sent_ids;
  for (const auto& r : f.ses.accepted) sent_ids.insert(header(r, "X-Mailer-Message-Id"));
  CHECK(sent_ids == ids);
  CHECK(f.engine->stats().sent == 41);

  for (const auto& r : f.ses.accepted) {
    if (r.to.at(0) == "tx@example.com") {
      CHECK(r.subject == "Reset for tx@example.com");
      CHECK(r.text == "Code 123");
      CHECK(r.from == "app@example.com");
      CHECK(header(r, "List-Unsubscribe").empty());
    } else {
      CHECK_THAT(header(r, "List-Unsubscribe"), Catch::StartsWith("<https://mail.example.com/u/"));
      CHECK(header(r, "List-Unsubscribe-Post") == "List-Unsubscribe=One-Click");
      CHECK(r.from == "news@example.com");
      CHECK(r.subject == (r.to.at(0) == "r0@example.com" ? "Hello Ana" : "Hello batch"));
    }
  }
  CHECK(f.text_column(tx, "ses_message_id").rfind("ses-", 0) == 0);
  SECTION("the reaper completes the batch") {
    REQUIRE(eventually(
        [&] {
          SQLite::Statement q(f.t.db().sql(), "SELECT status FROM batches WHERE id = ?");
          q.bind(1, b);
          return q.executeStep() && q.getColumn(0).getString() == "completed";
        },
        5s));
  }
}

TEST_CASE("Engine retries transient errors without spending attempts, then sends", "[jobs][engine]") {
  EngineFixture f;
  auto e = ses_error(ErrorCode::upstream_transient, "Service unavailable", "ServiceUnavailable");
  f.ses.failures["a@example.com"] = {e, e};
  auto id = f.message({.email = "a@example.com"});
  f.start();
  REQUIRE(f.advance_until([&] { return f.state(id) == "sent"; }, 10s));
  CHECK(test::message_int(f.t.db(), id, "attempts") == 1);
  CHECK(f.t.count_rows("events WHERE type = 'DEFERRED'") == 2);
  CHECK(f.ses.accepted_count() == 1);
}

TEST_CASE("Engine dead-letters a permanent error with its SES code", "[jobs][engine]") {
  EngineFixture f;
  f.ses.failures["bad@example.com"] = {
      ses_error(ErrorCode::upstream_permanent, "Email address is not verified.", "MessageRejected")};
  auto id = f.message({.email = "bad@example.com"});
  f.start();
  REQUIRE(eventually([&] { return f.state(id) == "failed"; }));
  CHECK(f.text_column(id, "last_error_code") == "MessageRejected");
  CHECK(f.text_column(id, "last_error") == "Email address is not verified.");
  CHECK(test::message_int(f.t.db(), id, "attempts") == 1);
  CHECK(f.t.count_rows("events WHERE type = 'FAILED'") == 1);
  CHECK(f.ses.accepted_count() == 0);
}

TEST_CASE("Engine puts sending on hold while SES is down and dead-letters nothing", "[jobs][engine]") {
  EngineFixture f(2);
  for (int i = 0; i < 10; ++i) f.message({.email = "h" + std::to_string(i) + "@example.com"});
  f.ses.set_outage(ses_error(ErrorCode::upstream_transient, "POST /v2/email/outbound-emails: connection refused", ""));
  f.start();
  REQUIRE(eventually([&] { return f.engine->stats().sending_on_hold; }));
  auto held = f.engine->stats();
  CHECK_THAT(held.hold_reason, Catch::StartsWith("ses_unavailable: ") && Catch::Contains("connection refused"));
  // Claimed-but-unsent messages go back, no attempt spent, and nothing more is tried.
  REQUIRE(eventually([&] { return f.engine->stats().in_flight == 0 && f.count_state("queued") == 10; }));
  const int tried = f.ses.send_count();
  CHECK(tried >= mailer::jobs::CircuitBreaker::k_trip_after);
  CHECK(tried <= mailer::jobs::CircuitBreaker::k_trip_after + 2);  // the workers' sends in flight
  std::this_thread::sleep_for(600ms);                              // dispatcher polls and account ticks
  CHECK(f.ses.send_count() == tried);
  CHECK(f.t.count_rows("messages WHERE attempts <> 0") == 0);

  SECTION("a probe that fails keeps the hold") {
    f.t.clock().advance(1s);
    REQUIRE(eventually([&] { return f.ses.account_count() >= 2; }));  // start-up + the probe
    std::this_thread::sleep_for(300ms);
    CHECK(f.engine->stats().sending_on_hold);
    CHECK(f.ses.send_count() == tried);
  }
  SECTION("a probe that answers resumes, and everything is sent once") {
    f.ses.set_outage(std::nullopt);
    f.t.clock().advance(1s);  // the first probe is due
    // The messages whose send failed wait out their retry delay (1-1.2 s).
    REQUIRE(f.advance_until([&] { return f.count_state("sent") == 10; }, 1s));
    CHECK_FALSE(f.engine->stats().sending_on_hold);
    CHECK(f.count_state("failed") == 0);
    CHECK(f.ses.accepted_count() == 10);
    CHECK(f.t.count_rows("messages WHERE attempts <> 1") == 0);
  }
}

TEST_CASE("Engine holds sending when SES refuses the credentials", "[jobs][engine]") {
  EngineFixture f(1);
  auto id = f.message({.email = "a@example.com"});
  for (int i = 0; i < 2; ++i) f.message({.email = "b" + std::to_string(i) + "@example.com"});
  f.ses.set_outage(
      ses_error(ErrorCode::upstream_permanent, "The security token is invalid.", "UnrecognizedClientException"));
  f.start();
  REQUIRE(eventually([&] { return f.engine->stats().sending_on_hold; }));
  CHECK_THAT(f.engine->stats().hold_reason, Catch::StartsWith("ses_credentials: UnrecognizedClientException"));
  REQUIRE(eventually([&] { return f.engine->stats().in_flight == 0; }));
  CHECK(f.state(id) == "queued");
  CHECK(f.count_state("failed") == 0);
  CHECK(f.t.count_rows("messages WHERE attempts <> 0") == 0);
}

TEST_CASE("Engine survives GetAccount throwing", "[jobs][engine]") {
  EngineFixture f;
  f.ses.account_throws = true;
  f.config.ses.max_send_rate.reset();  // "auto": GetAccount at start
  f.start();
  REQUIRE(eventually([&] { return f.ses.account_count() >= 1; }));
  auto id = f.message({.email = "a@example.com"});
  f.engine->notify();
  REQUIRE(eventually([&] { return f.state(id) == "sent"; }));
  CHECK(f.engine->stats().alive);
}

TEST_CASE("Engine keeps an outcome the database refuses and never sends it twice", "[jobs][engine]") {
  EngineFixture f(1);
  refuse_recording_sends(f.t);
  auto id = f.message({.email = "once@example.com"});
  f.start();
  REQUIRE(eventually([&] { return !f.engine->stats().storage_problem.empty(); }));
  CHECK_THAT(f.engine->stats().storage_problem,
             Catch::StartsWith("database not writable: ") && Catch::Contains("1 outcomes held in memory"));
  // Well past the lease: the reaper must not hand the message out again.
  f.t.clock().advance(f.config.worker.lease + 10s);
  auto ticks = f.engine->stats().reaper_ticks;
  REQUIRE(eventually([&] { return f.engine->stats().reaper_ticks >= ticks + 2; }));
  CHECK(f.state(id) == "sending");
  CHECK(f.ses.accepted_count() == 1);

  f.t.db().sql().exec("DROP TRIGGER refuse_sent");
  REQUIRE(eventually([&] { return f.state(id) == "sent" && f.engine->stats().sent == 1; }));
  CHECK(f.engine->stats().storage_problem.empty());
  CHECK(f.ses.accepted_count() == 1);
}

TEST_CASE("Engine::stop logs a send whose outcome the database still refuses", "[jobs][engine]") {
  struct CapturedLog {
    std::ostringstream out;
    CapturedLog() { mailer::log::set_output(&out); }
    ~CapturedLog() { mailer::log::set_output(nullptr); }
  } log;
  EngineFixture f(1);
  refuse_recording_sends(f.t);
  auto id = f.message({.email = "once@example.com"});
  f.start();
  REQUIRE(eventually([&] { return !f.engine->stats().storage_problem.empty(); }));
  f.engine->stop(0ms);
  CHECK_THAT(log.out.str(), Catch::Contains("sent, but the outcome was not recorded") && Catch::Contains(id));
  CHECK(f.state(id) == "queued");
  CHECK(f.ses.accepted_count() == 1);
}

TEST_CASE("Engine returns the daily quota slot of a send that throws", "[jobs][engine]") {
  EngineFixture f(1);
  f.config.worker.attempts = 1;
  f.ses.quota.max_24_hour_send = 1;  // room for one transactional message
  f.ses.quota.sent_last_24_hours = 0;
  f.ses.throw_for.insert("boom@example.com");
  f.start();
  REQUIRE(eventually([&] { return f.engine->stats().bulk_held; }));  // the quota is in force
  auto boom = f.message({.email = "boom@example.com"});
  f.engine->notify();
  REQUIRE(eventually([&] { return f.state(boom) == "failed"; }));
  auto ok = f.message({.email = "ok@example.com"});
  f.engine->notify();
  REQUIRE(eventually([&] { return f.state(ok) == "sent"; }));
  CHECK(f.ses.accepted_count() == 1);
}

TEST_CASE("Engine does not use attempts on throttling and slows down", "[jobs][engine]") {
  EngineFixture f;
  auto e = ses_error(ErrorCode::upstream_throttled, "Maximum sending rate exceeded.", "TooManyRequestsException");
  f.ses.failures["a@example.com"] = {e, e, e, e};  // more than worker.attempts
  auto id = f.message({.email = "a@example.com"});
  f.start();
  REQUIRE(eventually([&] { return f.t.count_rows("events WHERE type = 'DEFERRED'") == 1; }));
  CHECK(f.engine->stats().send_rate == Approx(5e5));  // halved
  CHECK(test::message_int(f.t.db(), id, "attempts") == 0);
  REQUIRE(f.advance_until([&] { return f.state(id) == "sent"; }, 61s));
  CHECK(test::message_int(f.t.db(), id, "attempts") == 1);
  CHECK(f.t.count_rows("events WHERE type = 'DEFERRED'") == 4);
}

TEST_CASE("Engine records a worker exception as internal", "[jobs][engine]") {
  EngineFixture f;
  f.config.worker.attempts = 1;
  f.ses.throw_for.insert("boom@example.com");
  auto id = f.message({.email = "boom@example.com"});
  auto ok = f.message({.email = "ok@example.com"});
  f.start();
  REQUIRE(eventually([&] { return f.state(id) == "failed" && f.state(ok) == "sent"; }));
  CHECK(f.text_column(id, "last_error_code") == "internal");
  CHECK(f.text_column(id, "last_error") == "boom");
}

TEST_CASE("Engine suppresses at send time and cancels past send_before", "[jobs][engine]") {
  EngineFixture f;
  test::insert_suppression(f.t.db(), "gone@example.com", "bounce", "all", f.now());
  auto b = f.batch();
  auto gone = f.message({.batch_id = b, .email = "gone@example.com"});
  auto late_batch = f.batch({.send_before_ms = f.now() + 10});
  f.t.clock().advance(20ms);  // past send_before; the reaper may beat the worker to it
  auto late = f.message({.batch_id = late_batch, .email = "late@example.com"});
  f.start();
  REQUIRE(eventually([&] { return f.state(gone) == "suppressed" && f.state(late) == "cancelled"; }));
  CHECK(f.ses.accepted_count() == 0);
  CHECK(f.t.count_rows("events WHERE type = 'SUPPRESSED'") == 1);
}

TEST_CASE("Engine dead-letters a message whose template does not render", "[jobs][engine]") {
  EngineFixture f;
  auto id = f.message({.email = "a@example.com", .subject = "{{#open}}"});
  f.start();
  REQUIRE(eventually([&] { return f.state(id) == "failed"; }));
  CHECK(f.text_column(id, "last_error_code") == "invalid_input");
}

TEST_CASE("Engine stops claiming a paused batch", "[jobs][engine]") {
  EngineFixture f(2);
  auto b = f.batch();
  for (int i = 0; i < 10; ++i) f.message({.batch_id = b, .email = "p" + std::to_string(i) + "@example.com"});
  f.ses.close_gate();
  f.start();
  REQUIRE(eventually([&] { return f.ses.held() == 2; }));
  f.t.db().sql().exec("UPDATE messages SET paused = 1 WHERE state = 'queued'");
  f.ses.open_gate();
  REQUIRE(eventually([&] { return f.count_state("sent") == 2 && f.engine->stats().in_flight == 0; }));
  // Let the dispatcher run twice more (notify and its poll) with the pause in place.
  auto rounds = f.engine->stats().claim_rounds;
  f.engine->notify();
  REQUIRE(eventually([&] { return f.engine->stats().claim_rounds >= rounds + 2; }));
  CHECK(f.count_state("sent") == 2);
  CHECK(f.count_state("queued") == 8);
  CHECK(f.ses.accepted_count() == 2);
}

TEST_CASE("Engine::stop gives unfinished claims back", "[jobs][engine]") {
  EngineFixture f(2);
  for (int i = 0; i < 5; ++i) f.message({.email = "s" + std::to_string(i) + "@example.com"});
  f.ses.close_gate();
  f.start();
  REQUIRE(eventually([&] { return f.ses.held() == 2; }));

  SECTION("sends still held after the grace are released and fenced off") {
    std::thread stopper([&] { f.engine->stop(20ms); });
    REQUIRE(eventually([&] { return f.count_state("sending") == 0; }));
    f.ses.open_gate();
    stopper.join();
    CHECK(f.count_state("queued") == 5);
    CHECK(f.engine->stats().stale == 2);
    CHECK(f.t.count_rows("messages WHERE attempts <> 0") == 0);
  }
  SECTION("sends finishing within the grace are recorded") {
    std::thread stopper([&] { f.engine->stop(10s); });
    // Open the gate only once stop() began, or the freed workers claim more.
    REQUIRE(eventually([&] { return f.engine->stats().stopping; }));
    f.ses.open_gate();
    stopper.join();
    CHECK(f.count_state("sent") == 2);
    CHECK(f.count_state("queued") == 3);
    CHECK(f.count_state("sending") == 0);
  }
  CHECK_FALSE(f.engine->stats().alive);
}

TEST_CASE("Engine::start returns orphaned claims to the queue", "[jobs][engine]") {
  EngineFixture f;
  auto id = f.message({.state = "sending", .email = "o@example.com"});
  f.t.db().sql().exec("UPDATE messages SET lease_token = 7, lease_expires_ms = " + std::to_string(f.now() + 60000));
  f.start();
  REQUIRE(eventually([&] { return f.state(id) == "sent"; }));
  CHECK(f.engine->stats().alive);
  CHECK(f.engine->start().error().code == ErrorCode::conflict);
}

TEST_CASE("Engine reads the send rate from GetAccount under auto", "[jobs][engine]") {
  EngineFixture f;
  f.config.ses.max_send_rate.reset();
  f.ses.quota.max_send_rate = 200;
  f.start();
  REQUIRE(eventually([&] { return f.engine->stats().send_rate == Approx(190.0); }));
}

TEST_CASE("Engine holds bulk mail when the daily quota is spent", "[jobs][engine]") {
  EngineFixture f;
  f.ses.quota.max_24_hour_send = 100;
  f.ses.quota.sent_last_24_hours = 100;
  f.start();
  REQUIRE(eventually([&] { return f.ses.account_count() > 0 && f.engine->stats().bulk_held; }));
  // A round that chose its scope before the first GetAccount may still be
  // claiming; let two whole rounds pass so every later one sees the hold.
  auto settled = f.engine->stats().claim_rounds;
  f.engine->notify();
  REQUIRE(eventually([&] { return f.engine->stats().claim_rounds >= settled + 2; }));
  auto b = f.batch();
  auto bulk = f.message({.batch_id = b, .email = "bulk@example.com"});
  auto tx = f.message({.email = "tx@example.com"});
  f.engine->notify();
  // Transactional mail is still claimed (only its reserve is left to it, and
  // here not even that), so it is deferred for the quota recheck without
  // using an attempt; bulk mail is not claimed at all.
  REQUIRE(eventually([&] { return f.t.count_rows("events WHERE type = 'DEFERRED'") == 1; }));
  CHECK(f.state(tx) == "queued");
  CHECK(test::message_int(f.t.db(), tx, "attempts") == 0);
  CHECK(test::message_int(f.t.db(), tx, "run_at_ms") == f.now() + 10 * 60 * 1000);
  auto rounds = f.engine->stats().claim_rounds;
  f.engine->notify();
  REQUIRE(eventually([&] { return f.engine->stats().claim_rounds >= rounds + 2; }));
  CHECK(f.state(bulk) == "queued");
  CHECK(test::message_int(f.t.db(), bulk, "attempts") == 0);
  CHECK(f.ses.accepted_count() == 0);
}

TEST_CASE("Engine::start fails without a database", "[jobs][engine]") {
  FakeSes ses;
  test::FakeClock clock;
  Engine engine(test_config(1), "/nonexistent-dir/x/mailer.db", clock,
                [&] { return std::make_unique<FakeSender>(ses); });
  auto started = engine.start();
  REQUIRE_FALSE(started);
  CHECK(started.error().code == ErrorCode::storage_unavailable);
  engine.stop(0ms);
  CHECK_FALSE(engine.stats().alive);
}
