// /ready's three answers: ready, degraded (200, still ready), not ready (503,
// degraded reasons included), from the readiness hooks alone.
#include <catch2/catch.hpp>

#include <httplib.h>

#include <memory>
#include <thread>

#include <nlohmann/json.hpp>

#include "mailer/core/config.hpp"
#include "mailer/http/db_pool.hpp"
#include "mailer/http/routes.hpp"
#include "mailer/http/server.hpp"
#include "support/test_db.hpp"

using namespace mailer;
using namespace mailer::http;
using nlohmann::json;

namespace {

struct ReadyServer {
  explicit ReadyServer(ReadinessHooks hooks) : pool(t.path().string()), deps{config, pool, clock} {
    config.server.port = 0;
    deps.readiness = std::move(hooks);
    Router router;
    register_health_routes(router);
    server = std::make_unique<Server>(deps, std::move(router));
    auto bound = server->bind();
    REQUIRE(bound);
    port = *bound;
    thread = std::thread([this] { (void)server->serve(); });
  }
  ~ReadyServer() {
    server->stop();
    thread.join();
  }
  std::pair<int, json> ready() const {
    httplib::Client client("127.0.0.1", port);
    auto res = client.Get("/ready");
    REQUIRE(res);
    return {res->status, json::parse(res->body)};
  }

  test::TestDb t;
  Config config;
  SystemClock clock;
  DbPool pool;
  Deps deps;
  std::unique_ptr<Server> server;
  int port = 0;
  std::thread thread;
};

std::optional<std::string> none() { return std::nullopt; }

}  // namespace

TEST_CASE("/ready answers ready when no hook reports anything", "[http][ready]") {
  ReadyServer server({{}, {}, none, none, none});
  auto [status, body] = server.ready();
  CHECK(status == 200);
  CHECK(body == json{{"status", "ready"}});
}

TEST_CASE("/ready answers 200 degraded while only SES GetAccount fails", "[http][ready]") {
  ReadyServer server({{}, {}, none, none, [] { return std::optional<std::string>("SES GetAccount failing (3)"); }});
  auto [status, body] = server.ready();
  CHECK(status == 200);
  CHECK(body["status"] == "degraded");
  CHECK(body["reasons"] == json::array({"SES GetAccount failing (3)"}));
}

TEST_CASE("/ready answers 503 with every reason when a problem and a degradation meet", "[http][ready]") {
  ReadyServer server({{},
                      {},
                      [] { return std::optional<std::string>("ses_unavailable: down"); },
                      none,
                      [] { return std::optional<std::string>("SES GetAccount failing (3)"); }});
  auto [status, body] = server.ready();
  CHECK(status == 503);
  CHECK(body["reasons"] == json::array({"sending on hold: ses_unavailable: down", "SES GetAccount failing (3)"}));
}
