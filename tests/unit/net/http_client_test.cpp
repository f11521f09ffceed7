#include <catch2/catch.hpp>

#include <thread>

#include "mailer/net/http_client.hpp"
#include "support/fake_metadata.hpp"
#include "support/aws_env.hpp"

using namespace mailer;
using mailer::test::LoopbackServer;

namespace {

// Tests run without a main-owned guard; curl_global_init is reference counted.
using mailer::test::curl_global;

}  // namespace

TEST_CASE("HttpClient returns status, headers and body for any status", "[net]") {
  (void)curl_global();
  LoopbackServer http;
  http.server().Post("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 418;
    res.set_header("X-Seen-Header", req.get_header_value("X-Custom"));
    res.set_content(req.method + ":" + req.body, "text/plain");
  });
  http.server().Put("/echo", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.method + ":" + req.body, "text/plain");
  });
  http.start();
  net::HttpClient client;
  auto response = client.perform({"POST", http.url() + "/echo", {{"X-Custom", "abc"}}, "hello"});
  REQUIRE(response);
  CHECK(response->status == 418);
  CHECK(response->body == "POST:hello");
  CHECK(response->header("x-seen-header") == std::optional<std::string>("abc"));
  CHECK_FALSE(response->header("X-Missing"));

  auto put = client.perform({"PUT", http.url() + "/echo", {}, ""});
  REQUIRE(put);
  CHECK(put->status == 200);
  CHECK(put->body == "PUT:");
}

TEST_CASE("HttpClient reuses one connection across requests", "[net]") {
  (void)curl_global();
  LoopbackServer http;
  http.server().Get("/port", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(std::to_string(req.remote_port), "text/plain");
  });
  http.start();
  net::HttpClient client;
  auto first = client.perform({"GET", http.url() + "/port", {}, ""});
  auto second = client.perform({"GET", http.url() + "/port", {}, ""});
  REQUIRE(first);
  REQUIRE(second);
  CHECK(first->body == second->body);  // same client port: the connection was kept alive
  net::HttpClient other;
  auto third = other.perform({"GET", http.url() + "/port", {}, ""});
  REQUIRE(third);
  CHECK(third->body != first->body);
}

TEST_CASE("HttpClient maps network failures to upstream_transient without secrets", "[net]") {
  (void)curl_global();
  SECTION("connection refused") {
    LoopbackServer http;
    int port = http.start();
    http.stop();  // the port is now closed
    net::HttpClient client;
    auto response = client.perform(
        {"POST",
         "http://user:hunter2secret@127.0.0.1:" + std::to_string(port) + "/v2/path?X-Amz-Signature=querysecret",
         {{"Authorization", "AWS4 headersecret"}},
         "bodysecret"});
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::upstream_transient);
    const auto& detail = response.error().detail;
    CHECK(detail.find("127.0.0.1") != std::string::npos);
    for (const char* secret : {"hunter2secret", "querysecret", "headersecret", "bodysecret", "/v2"}) {
      CHECK(detail.find(secret) == std::string::npos);
    }
  }
  SECTION("total timeout") {
    LoopbackServer http;
    http.server().Get("/slow", [](const httplib::Request&, httplib::Response& res) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2000));  // the delay under test
      res.set_content("late", "text/plain");
    });
    http.start();
    net::HttpClient client({std::chrono::milliseconds(500), std::chrono::milliseconds(150), "t"});
    auto started = std::chrono::steady_clock::now();
    auto response = client.perform({"GET", http.url() + "/slow", {}, ""});
    REQUIRE_FALSE(response);
    CHECK(response.error().code == ErrorCode::upstream_transient);
    // Ended by the 500 ms total timeout, well before the 2 s answer.
    CHECK(std::chrono::steady_clock::now() - started < std::chrono::milliseconds(1500));
  }
}

TEST_CASE("redact_url keeps only scheme, host and port", "[net]") {
  CHECK(net::redact_url("https://u:p@email.us-east-1.amazonaws.com:443/v2/x?y=z") ==
        "https://email.us-east-1.amazonaws.com:443");
  CHECK(net::redact_url("http://127.0.0.1:8080") == "http://127.0.0.1:8080");
  CHECK(net::redact_url("garbage") == "<invalid url>");
}

TEST_CASE("HttpClient stops reading a body over max_response_bytes", "[net]") {
  (void)curl_global();
  LoopbackServer http;
  // 64 MiB streamed in 64 KiB pieces: were it read whole, this test's RSS
  // would grow by 64 MiB and the body would come back entire.
  constexpr std::size_t k_sent = 64u << 20;
  http.server().Get("/huge", [](const httplib::Request&, httplib::Response& res) {
    res.set_content_provider(k_sent, "application/json",
                             [](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
                               std::string piece(std::min<std::size_t>(length, 64 * 1024), 'x');
                               return sink.write(piece.data(), piece.size()) && offset + piece.size() <= k_sent;
                             });
  });
  http.server().Get("/small", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string(1000, 'y'), "application/json");
  });
  http.start();
  net::HttpClientOptions options;
  options.max_response_bytes = 1000;
  net::HttpClient client(options);

  auto huge = client.perform({"GET", http.url() + "/huge", {}, ""});
  REQUIRE(huge);
  CHECK(huge->status == 200);
  CHECK(huge->body_truncated);
  CHECK(huge->body.size() == 1001);

  auto small = client.perform({"GET", http.url() + "/small", {}, ""});  // the handle still works
  REQUIRE(small);
  CHECK_FALSE(small->body_truncated);
  CHECK(small->body == std::string(1000, 'y'));
}
