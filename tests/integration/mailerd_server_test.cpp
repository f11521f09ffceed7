// The HTTP server as a client sees it: the real mailerd on a temporary
// database, keys made by the real mailerctl.
#include <catch2/catch.hpp>

#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <SQLiteCpp/Database.h>

#include "mailer/store/database.hpp"
#include "support/mailerd_fixture.hpp"
#include "support/tls_files.hpp"

using mailer::test::bearer;
using mailer::test::ChildProcess;
using mailer::test::MailerdFixture;
using nlohmann::json;

namespace {

json body_of(const httplib::Result& res) { return json::parse(res->body); }

void check_problem(const httplib::Result& res, int status, const std::string& type_suffix) {
  REQUIRE(res);
  CHECK(res->status == status);
  CHECK(res->get_header_value("Content-Type") == "application/problem+json");
  auto problem = body_of(res);
  CHECK(problem["status"] == status);
  CHECK(problem["type"] == "https://mailerd.dev/problems/" + type_suffix);
  CHECK(problem["title"].is_string());
  CHECK(problem["detail"].is_string());
}

}  // namespace

TEST_CASE("mailerd answers /health and /ready without a key", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  auto health = client->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
  CHECK(body_of(health)["status"] == "ok");
  auto ready = client->Get("/ready");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(body_of(ready)["status"] == "ready");
}

TEST_CASE("mailerd is not ready while the database cannot be written", "[integration][http]") {
  MailerdFixture mailerd;
  auto blocker = mailer::store::Database::open(mailerd.db_path().string());
  REQUIRE(blocker);
  (*blocker)->sql().exec("BEGIN IMMEDIATE");  // holds the write lock, as a stuck writer would
  auto blocked = mailerd.client()->Get("/ready");
  REQUIRE(blocked);
  CHECK(blocked->status == 503);
  auto problem = body_of(blocked);
  CHECK(problem["type"] == "https://mailerd.dev/problems/not_ready");
  // The job engine's reaper is blocked by the same lock, so "workers" may be
  // listed too; the database reason must be there.
  bool names_database = false;
  for (const auto& reason : problem["reasons"])
    names_database = names_database || reason.get<std::string>().find("not writable") != std::string::npos;
  CHECK(names_database);
  CHECK(mailerd.client()->Get("/health")->status == 200);  // alive, just not ready
  (*blocker)->sql().exec("ROLLBACK");
  // Recovers without a restart, once the engine's reaper has ticked again.
  int status = 0;
  for (int i = 0; i < 100 && status != 200; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    status = mailerd.client()->Get("/ready")->status;
  }
  CHECK(status == 200);
}

TEST_CASE("admin routes need an admin key", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  auto admin = mailerd.create_key("ops", "admin");
  auto reader = mailerd.create_key("dashboard", "read");

  SECTION("no key: 401 with WWW-Authenticate") {
    auto res = client->Get("/v1/admin/keys");
    check_problem(res, 401, "unauthorized");
    CHECK(res->get_header_value("WWW-Authenticate").rfind("Bearer", 0) == 0);
  }
  SECTION("unknown key: 401") {
    check_problem(client->Get("/v1/admin/keys", bearer("mk_not_a_real_key")), 401, "unauthorized");
  }
  SECTION("read key: 403") { check_problem(client->Get("/v1/admin/keys", bearer(reader.key)), 403, "forbidden"); }
  SECTION("admin key: 200, keys listed without secrets") {
    auto res = client->Get("/v1/admin/keys", bearer(admin.key));
    REQUIRE(res);
    CHECK(res->status == 200);
    auto body = body_of(res);
    CHECK(body["next_cursor"].is_null());
    REQUIRE(body["data"].size() == 2);
    std::set<std::string> ids;
    for (const auto& key : body["data"]) {
      ids.insert(key["id"]);
      CHECK_FALSE(key.contains("key"));
    }
    CHECK(ids == std::set<std::string>{admin.id, reader.id});
    CHECK(res->body.find(admin.key) == std::string::npos);
  }
  SECTION("revoked key: 401") {
    auto revoke = client->Delete("/v1/admin/keys/" + reader.id, bearer(admin.key));
    REQUIRE(revoke);
    CHECK(revoke->status == 200);
    CHECK(body_of(revoke)["revoked_at"].is_string());
    check_problem(client->Get("/v1/admin/keys", bearer(reader.key)), 401, "unauthorized");
    auto audit = client->Get("/v1/admin/keys/" + reader.id + "/audit", bearer(admin.key));
    REQUIRE(audit);
    CHECK(audit->status == 200);
    std::set<std::string> actions;
    auto trail = body_of(audit);  // named: a range-for over a temporary's member dangles
    for (const auto& entry : trail["data"]) actions.insert(entry["action"]);
    CHECK(actions.count("revoked") == 1);
  }
  SECTION("a key revoked by mailerctl stops working at once") {
    CHECK(client->Get("/v1/admin/keys", bearer(admin.key))->status == 200);
    auto revoked = mailerd.mailerctl({"keys", "revoke", admin.id});
    CHECK(revoked.exit_code == 0);
    check_problem(client->Get("/v1/admin/keys", bearer(admin.key)), 401, "unauthorized");
  }
}

TEST_CASE("POST /v1/admin/keys creates a key shown once", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  auto admin = mailerd.create_key("ops", "admin");

  SECTION("valid request: 201 and the new key works") {
    auto res = client->Post("/v1/admin/keys", bearer(admin.key), R"({"name":"ci","scope":"send"})", "application/json");
    REQUIRE(res);
    CHECK(res->status == 201);
    auto created = body_of(res);
    CHECK(created["scope"] == "send");
    CHECK(res->get_header_value("Location") == "/v1/admin/keys/" + created["id"].get<std::string>());
    auto secret = created["key"].get<std::string>();
    CHECK(client->Get("/health", bearer(secret))->status == 200);
    check_problem(client->Get("/v1/admin/keys", bearer(secret)), 403, "forbidden");
  }
  SECTION("invalid fields: 400 naming each field") {
    auto res = client->Post("/v1/admin/keys", bearer(admin.key), R"({"scope":"root"})", "application/json");
    check_problem(res, 400, "invalid_input");
    std::set<std::string> fields;
    auto problem = body_of(res);
    for (const auto& e : problem["errors"]) fields.insert(e["field"]);
    CHECK(fields == std::set<std::string>{"name", "scope"});
    CHECK(problem["errors"].dump().find("unknown scope 'root'; one of read, send, admin") != std::string::npos);
  }
  SECTION("unknown member: 400, no key made") {
    // A client asking for an expiring key must not get a permanent one.
    auto res = client->Post("/v1/admin/keys", bearer(admin.key),
                            R"({"name":"ci","scope":"send","expires_at":"2027-01-01T00:00:00Z"})", "application/json");
    check_problem(res, 400, "invalid_input");
    CHECK(body_of(res)["errors"][0]["field"] == "expires_at");
    CHECK(body_of(client->Get("/v1/admin/keys", bearer(admin.key)))["data"].size() == 1);
  }
  SECTION("malformed JSON: 400") {
    check_problem(client->Post("/v1/admin/keys", bearer(admin.key), "{", "application/json"), 400, "invalid_input");
  }
  SECTION("not JSON: 415") {
    check_problem(client->Post("/v1/admin/keys", bearer(admin.key), "name=ci", "text/plain"), 415, "unsupported_media");
  }
  SECTION("unknown key id: 404 on revoke") {
    check_problem(client->Delete("/v1/admin/keys/key_00000000000000000000", bearer(admin.key)), 404, "not_found");
  }
}

TEST_CASE("mailerd answers unknown routes and wrong methods with problems", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  SECTION("unknown route: 404") { check_problem(client->Get("/v1/nothing-here"), 404, "not_found"); }
  SECTION("wrong method: 405 with Allow") {
    auto res = client->Put("/v1/admin/keys", "{}", "application/json");
    check_problem(res, 405, "method_not_allowed");
    CHECK(res->get_header_value("Allow") == "GET, POST");
  }
}

TEST_CASE("mailerd refuses bodies over server.max_body_bytes with 413", "[integration][http]") {
  MailerdFixture mailerd({.env = {{"MAILER_SERVER_MAX_BODY_BYTES", "1024"}}});
  auto client = mailerd.client();
  auto admin = mailerd.create_key("ops", "admin");
  std::string big = R"({"name":")" + std::string(2048, 'x') + R"(","scope":"read"})";
  auto res = client->Post("/v1/admin/keys", bearer(admin.key), big, "application/json");
  check_problem(res, 413, "too_large");
  // The limit is the only reason: the same request under it succeeds.
  auto small = client->Post("/v1/admin/keys", bearer(admin.key), R"({"name":"ok","scope":"read"})", "application/json");
  REQUIRE(small);
  CHECK(small->status == 201);
}

TEST_CASE("mailerd echoes or generates X-Request-Id", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  auto echoed = client->Get("/health", {{"X-Request-Id", "trace-42"}});
  REQUIRE(echoed);
  CHECK(echoed->get_header_value("X-Request-Id") == "trace-42");
  auto replaced = client->Get("/health", {{"X-Request-Id", std::string(200, 'a')}});
  REQUIRE(replaced);
  CHECK(replaced->get_header_value("X-Request-Id").rfind("req_", 0) == 0);
  auto on_error = client->Get("/nope", {{"X-Request-Id", "trace-43"}});
  REQUIRE(on_error);
  CHECK(on_error->get_header_value("X-Request-Id") == "trace-43");
}

TEST_CASE("mailerd logs one JSON line per request without the key", "[integration][http]") {
  MailerdFixture mailerd;
  auto client = mailerd.client();
  auto admin = mailerd.create_key("ops", "admin");
  for (int i = 0; i < 3; ++i) {
    auto id = "log-test-" + std::to_string(i);
    REQUIRE(client->Get("/v1/admin/keys", {{"Authorization", "Bearer " + admin.key}, {"X-Request-Id", id}}));
  }
  REQUIRE(client->Get("/nope", {{"X-Request-Id", "log-test-404"}}));
  // Each request may be served on its own connection and thread, and is logged
  // after its response is sent: wait for every line, not only the last one.
  for (const char* id : {"log-test-0", "log-test-1", "log-test-2", "log-test-404"})
    REQUIRE(mailerd.process().wait_for_log(id));
  auto lines = mailer::test::json_log_lines(mailerd.log(), "request");
  std::map<std::string, json> by_id;
  for (const auto& line : lines) {
    auto entry = json::parse(line);
    CHECK(by_id.count(entry["request_id"]) == 0);  // one line per request
    by_id[entry["request_id"]] = entry;
  }
  for (int i = 0; i < 3; ++i) {
    auto entry = by_id.at("log-test-" + std::to_string(i));
    CHECK(entry["method"] == "GET");
    CHECK(entry["route"] == "/v1/admin/keys");
    CHECK(entry["status"] == 200);
    CHECK(entry["duration_ms"].is_number());
    CHECK(entry["key_id"] == admin.id);
  }
  CHECK(by_id.at("log-test-404")["status"] == 404);
  CHECK(mailerd.log().find(admin.key) == std::string::npos);
}

TEST_CASE("mailerd answers CORS preflights for configured origins", "[integration][http]") {
  mailer::test::TempDir config_dir;
  auto config_path = config_dir / "mailerd.toml";
  std::ofstream(config_path) << "[server]\ncors_origins = [\"https://app.example.com\"]\n";
  MailerdFixture mailerd({.args = {"--config", config_path.string()}});
  auto client = mailerd.client();
  auto preflight = client->Options("/v1/admin/keys",
                                   {{"Origin", "https://app.example.com"}, {"Access-Control-Request-Method", "POST"}});
  REQUIRE(preflight);
  CHECK(preflight->status == 204);
  CHECK(preflight->get_header_value("Access-Control-Allow-Origin") == "https://app.example.com");
  CHECK(preflight->get_header_value("Access-Control-Allow-Methods").find("POST") != std::string::npos);
  auto other = client->Options("/v1/admin/keys", {{"Origin", "https://evil.example.com"}});
  REQUIRE(other);
  CHECK_FALSE(other->has_header("Access-Control-Allow-Origin"));
  auto simple = client->Get("/health", {{"Origin", "https://app.example.com"}});
  REQUIRE(simple);
  CHECK(simple->get_header_value("Access-Control-Allow-Origin") == "https://app.example.com");
}

TEST_CASE("mailerd exits 0 on SIGTERM and SIGINT", "[integration][http]") {
  auto signal_number = GENERATE(SIGTERM, SIGINT);
  MailerdFixture mailerd;
  REQUIRE(mailerd.client()->Get("/health"));
  CHECK(mailerd.process().stop(signal_number) == std::optional<int>(0));
  CHECK(mailerd.process().wait_for_log("shutting down"));
}

TEST_CASE("a second mailerd on the same database exits naming the lock", "[integration][http]") {
  MailerdFixture first;
  ChildProcess second({MAILERD_BIN}, first.dir() / "second.log", first.env());
  auto code = second.wait();
  REQUIRE(code);
  CHECK(*code != 0);
  CHECK(second.log().find(first.db_path().string()) != std::string::npos);
  CHECK(first.client()->Get("/health")->status == 200);  // the first one is unharmed
}

TEST_CASE("mailerd with a bad configuration exits 78 listing every problem", "[integration][http]") {
  mailer::test::TempDir dir;
  auto env = mailer::test::mailerd_env(dir);
  env["MAILER_SERVER_PORT"] = "not-a-port";
  env["MAILER_WORKER_CONCURRENCY"] = "0";
  auto result = mailer::test::run_command({MAILERD_BIN}, env);
  CHECK(result.exit_code == 78);
  auto all = result.output + result.errors;
  CHECK(all.find("server.port") != std::string::npos);
  CHECK(all.find("worker.concurrency") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir / "mailer.db"));  // nothing started
}

TEST_CASE("mailerd with a server.listen that is not an address exits 78 before starting", "[integration][http]") {
  for (const char* listen : {"999.1.1.1", "not an ip"}) {
    INFO(listen);
    mailer::test::TempDir dir;
    auto env = mailer::test::mailerd_env(dir);
    env["MAILER_SERVER_LISTEN"] = listen;
    auto result = mailer::test::run_command({MAILERD_BIN}, env);
    CHECK(result.exit_code == 78);  // was 1, after the engine had started
    CHECK((result.output + result.errors).find("server.listen") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(dir / "mailer.db"));
  }
}

TEST_CASE("mailerd without auto_migrate refuses an unmigrated database", "[integration][http]") {
  mailer::test::TempDir dir;
  auto env = mailer::test::mailerd_env(dir);
  env["MAILER_DB_AUTO_MIGRATE"] = "false";
  auto result = mailer::test::run_command({MAILERD_BIN}, env);
  CHECK(result.exit_code == 1);
  CHECK((result.output + result.errors).find("mailerctl migrate") != std::string::npos);
}

TEST_CASE("mailerd --version prints the version", "[integration][http]") {
  auto result = mailer::test::run_command({MAILERD_BIN, "--version"});
  CHECK(result.exit_code == 0);
  CHECK(result.output.find(MAILER_VERSION) != std::string::npos);
}

TEST_CASE("mailerd serves HTTPS when a certificate and key are set", "[integration][http]") {
  mailer::test::TempDir certs;
  auto [cert, key] = mailer::test::make_self_signed_certificate(certs);
  MailerdFixture mailerd({.env = {{"MAILER_SERVER_TLS_CERT_FILE", cert}, {"MAILER_SERVER_TLS_KEY_FILE", key}}});
  CHECK(mailerd.process().wait_for_log("\"tls\":true"));
  httplib::SSLClient client("127.0.0.1", mailerd.port());
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(false);  // CN only, no SAN: fine for this check
  client.set_connection_timeout(std::chrono::seconds(10));
  auto res = client.Get("/health");
  REQUIRE(res);
  CHECK(res->status == 200);
  // Plain HTTP to the TLS port is not served.
  auto plain = mailerd.client()->Get("/health");
  CHECK_FALSE((plain && plain->status == 200));
}

TEST_CASE("mailerd refuses unusable TLS files", "[integration][http]") {
  mailer::test::TempDir dir;
  auto env = mailer::test::mailerd_env(dir);
  env["MAILER_SERVER_TLS_CERT_FILE"] = (dir / "missing-cert.pem").string();
  env["MAILER_SERVER_TLS_KEY_FILE"] = (dir / "missing-key.pem").string();
  auto result = mailer::test::run_command({MAILERD_BIN}, env);
  CHECK(result.exit_code != 0);
  CHECK((result.output + result.errors).find("missing-cert.pem") != std::string::npos);
}

TEST_CASE("mailerd with a missing --config file exits 78 naming it", "[integration][http]") {
  mailer::test::TempDir dir;
  auto missing = (dir / "nope.toml").string();
  auto result = mailer::test::run_command({MAILERD_BIN, "--config", missing}, mailer::test::mailerd_env(dir));
  CHECK(result.exit_code == 78);
  CHECK((result.output + result.errors).find("nope.toml") != std::string::npos);
}
