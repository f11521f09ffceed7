#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/core/ids.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/store/keys.hpp"
#include "support/test_db.hpp"

using mailer::ErrorCode;
using mailer::store::KeyRepo;
using mailer::store::Scope;
namespace store = mailer::store;
using namespace std::chrono_literals;

TEST_CASE("parse_scope and allows order read < send < admin", "[store]") {
  CHECK(store::parse_scope("read") == Scope::read);
  CHECK(store::parse_scope("send") == Scope::send);
  CHECK(store::parse_scope("admin") == Scope::admin);
  CHECK_FALSE(store::parse_scope("Admin"));
  CHECK_FALSE(store::parse_scope(""));
  CHECK(std::string(store::to_string(Scope::send)) == "send");
  CHECK(store::allows(Scope::admin, Scope::read));
  CHECK(store::allows(Scope::send, Scope::send));
  CHECK_FALSE(store::allows(Scope::read, Scope::send));
  CHECK_FALSE(store::allows(Scope::send, Scope::admin));
}

TEST_CASE("KeyRepo::create makes a random key stored only as a hash", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("deploy", Scope::send, "mailerctl");
  REQUIRE(created);
  const auto& secret = created->secret;
  CHECK(secret.size() == 46);
  CHECK(secret.rfind("mk_", 0) == 0);
  CHECK(created->key.prefix == secret.substr(0, 12));
  CHECK(mailer::ids::valid(created->key.id, mailer::ids::k_key));
  CHECK(created->key.created_at_ms == t.clock().now_ms());
  SQLite::Statement row(t.db().sql(), "SELECT hash, prefix FROM api_keys");
  REQUIRE(row.executeStep());  // stored: the SHA-256 and 12 visible characters, never the key
  auto digest = mailer::crypto::sha256(secret);
  CHECK(std::string(static_cast<const char*>(row.getColumn(0).getBlob()), 32) ==
        std::string(mailer::crypto::as_bytes(digest)));
  CHECK(row.getColumn(1).getString().size() == 12);
  auto other = keys.create("deploy", Scope::send, "mailerctl");
  REQUIRE(other);
  CHECK(other->secret != secret);
}

TEST_CASE("KeyRepo::create validates the name", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  for (const std::string& name : {std::string(), std::string(101, 'n')}) {
    auto created = keys.create(name, Scope::read, "mailerctl");
    REQUIRE_FALSE(created);
    CHECK(created.error().code == ErrorCode::invalid_input);
    REQUIRE(created.error().fields.size() == 1);
    CHECK(created.error().fields[0].field == "name");
  }
  CHECK(t.count_rows("api_keys") == 0);
}

TEST_CASE("KeyRepo::create refuses control characters in the name", "[store]") {
  // Template names already refused them; a key name with a line break or NUL
  // garbled mailerctl keys list and the audit the same way.
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  for (std::string name :
       {std::string("a\0b", 3), std::string("two\nlines"), std::string("tab\there"), std::string("del\x7f")}) {
    INFO(name);
    auto created = keys.create(name, Scope::read, "mailerctl");
    REQUIRE_FALSE(created);
    CHECK(created.error().code == ErrorCode::invalid_input);
    REQUIRE(created.error().fields.size() == 1);
    CHECK(created.error().fields[0].field == "name");
  }
  CHECK(t.count_rows("api_keys") == 0);
  CHECK(keys.create("Zoë's deploy key", Scope::read, "mailerctl"));
}

TEST_CASE("KeyRepo::authenticate accepts only the active key itself", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("ci", Scope::admin, "mailerctl");
  REQUIRE(created);
  const std::string secret = created->secret;

  SECTION("the key") {
    auto key = keys.authenticate(secret);
    REQUIRE(key);
    CHECK(key->id == created->key.id);
    CHECK(key->scope == Scope::admin);
  }
  SECTION("a wrong, malformed or empty key") {
    std::string wrong = secret;
    wrong.back() = wrong.back() == 'A' ? 'B' : 'A';
    for (const std::string& bad : {wrong, secret.substr(0, 45), secret + "x", std::string(), "xx" + secret.substr(2),
                                   "mk_" + std::string(43, '*')}) {
      auto key = keys.authenticate(bad);
      REQUIRE_FALSE(key);
      CHECK(key.error().code == ErrorCode::unauthorized);
    }
  }
  SECTION("a revoked key") {
    REQUIRE(keys.revoke(created->key.id, "mailerctl"));
    auto key = keys.authenticate(secret);
    REQUIRE_FALSE(key);
    CHECK(key.error().code == ErrorCode::unauthorized);
  }
}

TEST_CASE("KeyRepo::authenticate writes usage at most once per second", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("ci", Scope::read, "mailerctl");
  REQUIRE(created);
  const auto start = t.clock().now_ms();
  auto stored = [&] { return keys.get(created->key.id).value(); };

  REQUIRE(keys.authenticate(created->secret));
  CHECK(stored().last_used_at_ms == start);
  CHECK(stored().use_count == 1);

  t.clock().advance(400ms);
  REQUIRE(keys.authenticate(created->secret));
  t.clock().advance(400ms);
  REQUIRE(keys.authenticate(created->secret));
  CHECK(stored().last_used_at_ms == start);  // not written within the second
  CHECK(stored().use_count == 1);

  t.clock().advance(200ms);
  auto key = keys.authenticate(created->secret);
  REQUIRE(key);
  CHECK(key->use_count == 4);  // the uses in between are not lost
  CHECK(stored().last_used_at_ms == start + 1000);
  CHECK(stored().use_count == 4);
}

TEST_CASE("KeyRepo::revoke and audit record who did what", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("ci", Scope::read, "mailerctl");
  REQUIRE(created);
  t.clock().advance(5s);
  auto revoked = keys.revoke(created->key.id, "key_admin");
  REQUIRE(revoked);
  CHECK(revoked->revoked_at_ms == t.clock().now_ms());

  SECTION("revoking twice is a conflict") {
    auto again = keys.revoke(created->key.id, "mailerctl");
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::conflict);
  }
  SECTION("unknown ids are not found") {
    CHECK(keys.revoke("key_nope", "mailerctl").error().code == ErrorCode::not_found);
    CHECK(keys.get("key_nope").error().code == ErrorCode::not_found);
    CHECK(keys.audit("key_nope").error().code == ErrorCode::not_found);
  }
  SECTION("audit lists created then revoked") {
    auto audit = keys.audit(created->key.id);
    REQUIRE(audit);
    REQUIRE(audit->size() == 2);
    CHECK((*audit)[0].action == "created");
    CHECK((*audit)[0].actor == "mailerctl");
    CHECK((*audit)[1].action == "revoked");
    CHECK((*audit)[1].actor == "key_admin");
    CHECK((*audit)[1].at_ms - (*audit)[0].at_ms == 5000);
  }
}

TEST_CASE("KeyRepo::list returns keys in creation order", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  REQUIRE(keys.create("a", Scope::read, "mailerctl"));
  REQUIRE(keys.create("b", Scope::admin, "mailerctl"));
  auto list = keys.list();
  REQUIRE(list);
  REQUIRE(list->size() == 2);
  CHECK((*list)[0].name == "a");
  CHECK((*list)[1].name == "b");
  CHECK((*list)[1].scope == Scope::admin);
}

TEST_CASE("KeyRepo reports storage_unavailable while the database is locked", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto other = t.open_connection();
  other->sql().exec("BEGIN IMMEDIATE");
  t.db().sql().setBusyTimeout(0);
  auto created = keys.create("x", Scope::read, "mailerctl");
  REQUIRE_FALSE(created);
  CHECK(created.error().code == ErrorCode::storage_unavailable);
  other->sql().exec("ROLLBACK");
}

TEST_CASE("KeyRepo::authenticate within the second needs no write lock", "[store]") {
  mailer::test::TestDb t;
  KeyRepo keys(t.db(), t.clock());
  auto created = keys.create("ci", Scope::read, "mailerctl");
  REQUIRE(created);
  REQUIRE(keys.authenticate(created->secret));  // first use: written

  auto writer = t.open_connection();
  writer->sql().exec("BEGIN IMMEDIATE");  // another thread is writing for a while
  t.clock().advance(500ms);
  auto started = std::chrono::steady_clock::now();
  auto key = keys.authenticate(created->secret);
  auto waited = std::chrono::steady_clock::now() - started;
  writer->sql().exec("ROLLBACK");
  REQUIRE(key);
  CHECK(waited < 1s);  // a write attempt would wait out the 5 s busy timeout
}
