#include "mailer/store/erasure.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include "mailer/core/text.hpp"
#include "mailer/store/suppressions.hpp"
#include "support/message_rows.hpp"
#include "support/test_db.hpp"

using namespace mailer::store;
using mailer::ErrorCode;
using mailer::test::TestDb;

namespace {

// Distinctive enough that any of its bytes found in the file are a trace.
constexpr const char* k_address = "erase.me.q7x@trace.example";
constexpr const char* k_spelled = "Erase.Me.Q7X@trace.example";  // as a message row keeps it
constexpr const char* k_local = "erase.me.q7x";                  // in every spelling and escape
constexpr const char* k_other = "keep.me@trace.example";
constexpr std::int64_t k_now_ms = 1'767'225'600'000;

void exec(TestDb& t, const std::string& sql) { t.db().sql().exec(sql); }

std::string bulk_message(TestDb& t, const std::string& batch, const std::string& state, const std::string& email) {
  mailer::test::MessageRow row;
  row.batch_id = batch;
  row.state = state;
  row.email = email;
  row.variables_json = fmt::format(R"({{"email":"{}","name":"Ana"}})", email);
  return mailer::test::insert_message(t.db(), row, k_now_ms);
}

void event(TestDb& t, const std::string& type, const std::string& batch, const std::string& message,
           const std::string& email, const std::string& detail = "{}") {
  SQLite::Statement insert(t.db().sql(),
                           "INSERT INTO events(type, batch_id, message_id, email, detail_json, occurred_at_ms)"
                           " VALUES (?, ?, ?, ?, ?, ?)");
  insert.bind(1, type);
  insert.bind(2, batch);
  insert.bind(3, message);
  insert.bind(4, email);
  insert.bind(5, detail);
  insert.bind(6, k_now_ms);
  insert.exec();
}

void delivery(TestDb& t, const std::string& status, const std::string& body) {
  SQLite::Statement insert(t.db().sql(),
                           "INSERT INTO webhook_deliveries(endpoint_id, kind, first_event_id, last_event_id,"
                           " event_count, body, status, next_attempt_at_ms, retry_until_ms, created_at_ms,"
                           " updated_at_ms) VALUES ('whk_1', 'events', 1, 2, 2, ?, ?, 0, 0, 0, 0)");
  insert.bind(1, body);
  insert.bind(2, status);
  insert.exec();
}

std::string event_json(int id, const std::string& email) {
  return fmt::format(R"({{"id":"evt_{}","type":"SENT","email":"{}","metadata":{{"who":"{}"}}}})", id, email, email);
}

struct Places {
  std::string batch;
  std::string sent;
  std::string queued;
  std::string kept;
  std::string transactional;
};

// The address in every place a recipient's data can be stored.
Places write_everywhere(TestDb& t) {
  Places p;
  p.batch = mailer::test::insert_batch(t.db(), {}, k_now_ms);
  p.sent = bulk_message(t, p.batch, "sent", k_spelled);
  p.queued = bulk_message(t, p.batch, "queued", k_spelled);
  p.kept = bulk_message(t, p.batch, "sent", k_other);
  p.transactional = mailer::test::insert_message(t.db(), {.email = k_other}, k_now_ms);
  exec(t, fmt::format(R"(UPDATE messages SET destinations_json = '{{"to":["{0}"],"cc":["{1}"]}}',)"
                      R"( headers_json = '{{"X-For":"{1}"}}', metadata_json = '{{"who":"{1}"}}',)"
                      R"( html = '<p>{1}</p>' WHERE id = '{2}')",
                      k_other, k_spelled, p.transactional));
  event(t, "SENT", p.batch, p.sent, k_address);
  event(t, "CLICK", p.batch, p.sent, k_address,
        fmt::format(R"({{"link":"https://x.example/u?e=erase.me.q7x%40trace.example"}})"));
  event(t, "SENT", p.batch, p.kept, k_other);
  event(t, "DELIVERY", "", p.transactional, k_other);
  event(t, "BOUNCE", p.batch, p.sent, k_address, fmt::format(R"({{"diagnostic_code":"550 {} unknown"}})", k_spelled));
  // The CLICK above wrote its link into batch_links (schema 0005); another link stays.
  exec(t, fmt::format("INSERT INTO batch_links(batch_id, link, clicks, unique_clicks) VALUES"
                      " ('{}', 'https://x.example/news', 3, 2)",
                      p.batch));
  mailer::test::insert_suppression(t.db(), k_address, "bounce", "all", k_now_ms);
  exec(t, fmt::format("INSERT INTO idempotency_keys VALUES ('key_1', 'k1', 'h', 202, '{{\"to\":\"{}\"}}', {})",
                      k_spelled, k_now_ms));
  exec(t, fmt::format("INSERT INTO webhook_endpoints(id, url, secret, last_event_id, created_at_ms, updated_at_ms)"
                      " VALUES ('whk_1', 'https://hooks.example', 'whsec_AAAA', 0, 0, 0)"));
  delivery(t, "delivered", fmt::format(R"({{"data":[{}]}})", event_json(1, k_address)));
  delivery(t, "pending", fmt::format(R"({{"data":[{},{}]}})", event_json(1, k_address), event_json(3, k_other)));
  exec(t, fmt::format("INSERT INTO webhook_attempts(delivery_id, attempted_at_ms, latency_ms, response)"
                      " VALUES (2, 0, 1, 'no such user {}')",
                      k_address));
  return p;
}

// Every file of the database (the main file, and the WAL when present) as lower-case bytes.
std::string file_bytes_lowered(const std::filesystem::path& db_path) {
  std::string all;
  for (const auto& path : {db_path, std::filesystem::path(db_path.string() + "-wal")}) {
    std::ifstream in(path, std::ios::binary);
    if (!in) continue;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    all += bytes.str();
  }
  return mailer::text::ascii_lower(all);
}

}  // namespace

TEST_CASE("ErasureRepo::erase leaves no trace of the address in the database file", "[store][erasure]") {
  TestDb t;
  // Debian's SQLite zeroes deleted content by default; a connection that does
  // not must still leave nothing behind, and keep its setting.
  exec(t, "PRAGMA secure_delete = 0");
  write_everywhere(t);
  REQUIRE(t.db().checkpoint(Database::CheckpointMode::truncate));
  REQUIRE(file_bytes_lowered(t.path()).find(k_local) != std::string::npos);  // the scan can see it

  auto erased = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::hash, "test");
  REQUIRE(erased);
  CHECK(erased->counts.messages == 3);
  CHECK(erased->counts.cancelled == 2);  // the queued bulk message and the queued transactional one
  CHECK(erased->counts.events == 4);     // its 3, and the transactional message's DELIVERY
  CHECK(erased->counts.idempotency_keys == 1);
  CHECK(erased->counts.webhook_deliveries == 2);
  CHECK(erased->counts.webhook_attempts == 1);
  CHECK(erased->counts.batch_links == 1);
  CHECK(erased->suppression == SuppressionOutcome::hashed);
  CHECK(erased->wal_checkpointed);
  CHECK(t.query_int("PRAGMA secure_delete") == 0);

  const auto bytes = file_bytes_lowered(t.path());
  CHECK(bytes.find(k_local) == std::string::npos);
  CHECK(bytes.find("erase.me") == std::string::npos);
}

TEST_CASE("ErasureRepo::erase keeps what is not the address's", "[store][erasure]") {
  TestDb t;
  auto places = write_everywhere(t);
  const auto counts_before = mailer::test::batch_counts_table(t.db());
  auto erased = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::keep, "key_admin");
  REQUIRE(erased);

  SECTION("the other recipient's rows") {
    CHECK(t.query_int("SELECT count(*) FROM messages WHERE id = '" + places.kept + "'") == 1);
    CHECK(t.query_int("SELECT count(*) FROM events WHERE email = 'keep.me@trace.example'") == 1);
    CHECK(t.query_int("SELECT count(*) FROM batch_links") == 1);
    CHECK(t.query_text("SELECT body FROM webhook_deliveries WHERE status = 'pending'") ==
          R"({"data":[{"email":"keep.me@trace.example","id":"evt_3","metadata":{"who":"keep.me@trace.example"},)"
          R"("type":"SENT"}]})");
    CHECK(t.query_int("SELECT event_count FROM webhook_deliveries WHERE status = 'pending'") == 1);
  }
  SECTION("the batch's counts: the queued message counts as cancelled, the sent ones stay") {
    auto counts = counts_before;
    counts[places.batch + "|state:queued"] -= 1;
    counts[places.batch + "|state:cancelled"] += 1;
    std::erase_if(counts, [](const auto& entry) { return entry.second == 0; });
    CHECK(mailer::test::batch_counts_table(t.db()) == counts);
  }
  SECTION("the newest event is emptied, not deleted, so its id is never given again") {
    CHECK(t.query_text("SELECT email || detail_json FROM events ORDER BY id DESC LIMIT 1") == "{}");
  }
  SECTION("a retried request is still answered from its stored reply") {
    CHECK(t.query_text("SELECT response_body FROM idempotency_keys") == R"({"erased":true})");
  }
  SECTION("the suppression stays as it was, and the audit names the hash only") {
    CHECK(erased->suppression == SuppressionOutcome::kept);
    CHECK(t.query_text("SELECT email FROM suppressions") == k_address);
    CHECK(t.query_text("SELECT actor || ' ' || address_hash FROM erasures") == "key_admin " + erased->address_hash);
    CHECK(t.query_text("SELECT counts_json FROM erasures").find("\"messages\":3") != std::string::npos);
  }
}

TEST_CASE("ErasureRepo::erase with a hashed suppression still blocks the address", "[store][erasure]") {
  TestDb t;
  mailer::test::insert_suppression(t.db(), k_address, "complaint", "all", k_now_ms);
  auto erased = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::hash, "mailerctl");
  REQUIRE(erased);
  REQUIRE(erased->address_hash.starts_with("sha256:"));
  CHECK(is_hashed_suppression_key(erased->address_hash));
  SuppressionRepo suppressions(t.db(), t.clock());

  SECTION("the suppression check finds the hash") {
    CHECK(suppressions.is_suppressed(k_address, MessageKind::transactional).value());
    CHECK_FALSE(suppressions.is_suppressed(k_other, MessageKind::bulk).value());
    auto other_connection = t.open_connection();  // a connection that never read the salt
    CHECK(SuppressionRepo(*other_connection, t.clock()).is_suppressed(k_address, MessageKind::bulk).value());
  }
  SECTION("the row keeps its reason, under the hash") {
    auto row = suppressions.get(k_address);
    REQUIRE(row);
    CHECK(row->email == erased->address_hash);
    CHECK(row->reason == SuppressionReason::complaint);
  }
  SECTION("removing the address lifts the hashed row") {
    REQUIRE(suppressions.remove(k_address));
    CHECK(t.count_rows("suppressions") == 0);
  }
  SECTION("erasing again reports the hashed row and changes nothing else") {
    auto again = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::hash, "mailerctl");
    REQUIRE(again);
    CHECK(again->suppression == SuppressionOutcome::hashed);
    CHECK(again->address_hash == erased->address_hash);
    CHECK(t.count_rows("erasures") == 2);
  }
}

TEST_CASE("ErasureRepo::erase refuses while a message to the address is being sent", "[store][erasure]") {
  TestDb t;
  exec(t, "PRAGMA secure_delete = 0");
  auto batch = mailer::test::insert_batch(t.db(), {}, k_now_ms);
  auto sending = bulk_message(t, batch, "sending", k_spelled);
  bulk_message(t, batch, "sent", k_spelled);

  auto erased = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::keep, "mailerctl");
  REQUIRE_FALSE(erased);
  CHECK(erased.error().code == ErrorCode::conflict);
  CHECK(erased.error().detail ==
        "1 message(s) to this address are being sent (state sending); erase again once they finish, within seconds");
  CHECK(t.count_rows("messages") == 2);
  CHECK(t.count_rows("erasures") == 0);
  CHECK(t.query_int("PRAGMA secure_delete") == 0);  // restored on failure too

  exec(t, "UPDATE messages SET state = 'sent' WHERE id = '" + sending + "'");
  REQUIRE(ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::keep, "mailerctl"));
  CHECK(t.count_rows("messages") == 0);
}

TEST_CASE("ErasureRepo::erase of an address nothing names changes nothing but the audit", "[store][erasure]") {
  TestDb t;
  auto erased = ErasureRepo(t.db(), t.clock()).erase("nobody@trace.example", SuppressionHashing::hash, "mailerctl");
  REQUIRE(erased);
  for (const auto& [name, n] : named_counts(erased->counts)) CHECK(n == 0);
  CHECK(erased->suppression == SuppressionOutcome::none);
  CHECK(t.count_rows("suppressions") == 0);
  CHECK(t.count_rows("erasures") == 1);
}

TEST_CASE("ErasureRepo::erase reports a database it cannot write", "[store][erasure]") {
  TestDb t;
  auto other = t.open_connection();
  other->sql().exec("BEGIN IMMEDIATE");
  other->sql().exec("PRAGMA busy_timeout = 0");
  t.db().sql().exec("PRAGMA busy_timeout = 10");
  auto erased = ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::keep, "mailerctl");
  REQUIRE_FALSE(erased);
  CHECK(erased.error().code == ErrorCode::storage_unavailable);
  CHECK(erased.error().detail.starts_with("erase address: "));
  other->sql().exec("ROLLBACK");
}

TEST_CASE("Each database hashes an address with its own salt", "[store][erasure]") {
  TestDb first;
  TestDb second;
  CHECK(first.query_int("SELECT length(salt) FROM erasure_salt") == 32);
  auto a = ErasureRepo(first.db(), first.clock()).erase(k_address, SuppressionHashing::hash, "mailerctl");
  auto b = ErasureRepo(second.db(), second.clock()).erase(k_address, SuppressionHashing::hash, "mailerctl");
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->address_hash != b->address_hash);
}

TEST_CASE("ErasureRepo::erase deletes the attachments of the address's messages", "[store][erasure]") {
  TestDb t;
  mailer::test::MessageRow row;
  row.state = "sent";
  row.email = k_address;
  const auto erased_id = mailer::test::insert_message(t.db(), row, k_now_ms);
  row.email = k_other;
  const auto kept_id = mailer::test::insert_message(t.db(), row, k_now_ms);
  const auto batch = mailer::test::insert_batch(t.db(), {}, k_now_ms);
  auto attach = [&](const std::string& owner_column, const std::string& owner) {
    exec(t, fmt::format("INSERT INTO attachments({}, position, filename, content_type, disposition, content)"
                        " VALUES ('{}', 0, 'a.pdf', 'application/pdf', 'attachment', x'25504446')",
                        owner_column, owner));
  };
  attach("message_id", erased_id);
  attach("message_id", kept_id);
  attach("batch_id", batch);

  REQUIRE(ErasureRepo(t.db(), t.clock()).erase(k_address, SuppressionHashing::keep, "test"));
  CHECK(t.query_int("SELECT count(*) FROM attachments WHERE message_id = '" + erased_id + "'") == 0);
  CHECK(t.query_int("SELECT count(*) FROM attachments WHERE message_id = '" + kept_id + "'") == 1);
  CHECK(t.query_int("SELECT count(*) FROM attachments WHERE batch_id = '" + batch + "'") == 1);
}
