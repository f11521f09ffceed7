// mailerd's HTTP server facing hostile clients: slow and idle connections,
// too many connections, oversized chunked bodies and undecodable paths.
// Each test drives the real mailerd over raw loopback sockets, with short
// deadlines set through the environment so the whole file runs in seconds.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "support/mailerd_fixture.hpp"
#include "support/proc_status.hpp"
#include "support/prometheus_text.hpp"
#include "support/raw_socket.hpp"
#include "support/tls_files.hpp"

using mailer::test::bearer;
using mailer::test::MailerdFixture;
using mailer::test::MailerdOptions;
using std::chrono::milliseconds;
using std::chrono::seconds;
using std::chrono::steady_clock;

namespace {

using Socket = mailer::test::RawSocket;

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

MailerdOptions with_env(std::map<std::string, std::string> env) {
  MailerdOptions options;
  options.env = std::move(env);
  return options;
}

// Peak resident memory of `pid` in KiB (VmHWM, "1234 kB"); -1 when unknown.
long peak_rss_kib(int pid) {
  auto value = mailer::test::proc_status_field(pid, "VmHWM");
  return value.empty() ? -1 : std::stol(value);
}

std::string status_line(const std::string& response) { return response.substr(0, response.find("\r\n")); }

}  // namespace

TEST_CASE("mailerd keeps answering while 300 clients trickle their headers", "[integration][http][hardening]") {
  // Deadlines are generous: CI machines are loaded, and the point is only
  // that the answers come long before the slow clients are cut.
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_HEADER_TIMEOUT_SECONDS", "6"},
                                   {"MAILER_SNS_TOPIC_ARNS", "arn:aws:sns:us-east-1:123456789012:mailerd"}}));
  auto key = mailerd.create_key("ops", "read");

  std::vector<Socket> slow;
  for (int i = 0; i < 300; ++i) {
    slow.emplace_back(mailerd.port());
    REQUIRE(slow.back().send("GET /health HTTP/1.1\r\nHost: mailerd\r\n"));
  }
  auto opened = steady_clock::now();
  // A header line every 250 ms: well inside any per-read timeout, so only a
  // deadline for the whole header can end these connections.
  // A jthread: a failed REQUIRE below must not leave a joinable thread.
  std::atomic<bool> trickling{true};
  std::jthread trickler([&] {
    while (trickling) {
      for (auto& socket : slow) (void)socket.send("X-Slow: 1\r\n");
      std::this_thread::sleep_for(milliseconds(250));
    }
  });
  struct StopTrickle {
    std::atomic<bool>& flag;
    ~StopTrickle() { flag = false; }
  } stop_trickle{trickling};

  auto client = mailerd.client();
  client->set_read_timeout(seconds(5));
  auto started = steady_clock::now();
  auto health = client->Get("/health");
  auto api = client->Get("/v1/batches", bearer(key.key));
  auto webhook = client->Post("/webhooks/ses", "{}", "text/plain");
  double answered_in = seconds_since(started);
  REQUIRE(health);
  CHECK(health->status == 200);
  REQUIRE(api);
  CHECK(api->status == 200);
  REQUIRE(webhook);
  CHECK(webhook->status == 400);  // parsed and refused: not an SNS envelope
  CHECK(answered_in < 5);

  // Every trickling client is cut off at the header deadline, not before.
  int closed = 0;
  for (auto& socket : slow) closed += socket.closed_by(opened + seconds(12)) ? 1 : 0;
  double all_closed_after = seconds_since(opened);
  trickling = false;
  trickler.join();
  CHECK(closed == 300);
  CHECK(all_closed_after >= 5.5);
  CHECK(mailerd.process().wait_for_log("\"reason\":\"header_timeout\"", seconds(2)));
}

TEST_CASE("mailerd refuses connections beyond server.max_connections with a quick 503",
          "[integration][http][hardening]") {
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_MAX_CONNECTIONS", "8"}}));
  std::vector<Socket> idle;
  for (int i = 0; i < 8; ++i) idle.emplace_back(mailerd.port());
  std::this_thread::sleep_for(milliseconds(300));  // all eight accepted and waiting for headers

  Socket extra(mailerd.port());
  auto started = steady_clock::now();
  REQUIRE(extra.send("GET /health HTTP/1.1\r\nHost: mailerd\r\n\r\n"));
  auto refused = extra.receive(seconds(3));
  CHECK(seconds_since(started) < 1.0);
  CHECK(status_line(refused) == "HTTP/1.1 503 Service Unavailable");
  CHECK(refused.find("Retry-After: 1\r\n") != std::string::npos);
  CHECK(refused.find("server.max_connections") != std::string::npos);
  CHECK(mailerd.process().wait_for_log("HTTP connection refused", seconds(2)));

  for (auto& socket : idle) socket.close();
  std::this_thread::sleep_for(milliseconds(200));
  auto health = mailerd.client()->Get("/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

TEST_CASE("mailerd closes an idle keep-alive connection after server.keep_alive_timeout_seconds",
          "[integration][http][hardening]") {
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_KEEP_ALIVE_TIMEOUT_SECONDS", "1"}}));
  Socket socket(mailerd.port());
  REQUIRE(socket.send("GET /health HTTP/1.1\r\nHost: mailerd\r\n\r\n"));
  auto first = socket.receive(seconds(2), "}");
  CHECK(status_line(first) == "HTTP/1.1 200 OK");
  CHECK(first.find("Keep-Alive: timeout=1,") != std::string::npos);
  // The connection is still good for a second request...
  REQUIRE(socket.send("GET /health HTTP/1.1\r\nHost: mailerd\r\n\r\n"));
  CHECK(status_line(socket.receive(seconds(2), "}")) == "HTTP/1.1 200 OK");
  // ...and closed once it has been idle for the timeout.
  auto idle_since = steady_clock::now();
  CHECK(socket.closed_by(idle_since + seconds(3)));
  CHECK(seconds_since(idle_since) >= 0.8);
}

TEST_CASE("mailerd answers 408 to a body that trickles past server.body_timeout_seconds",
          "[integration][http][hardening]") {
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_BODY_TIMEOUT_SECONDS", "2"}}));
  Socket socket(mailerd.port());
  REQUIRE(
      socket.send("POST /webhooks/ses HTTP/1.1\r\nHost: mailerd\r\nContent-Type: text/plain\r\n"
                  "Content-Length: 1000\r\n\r\n"));
  auto started = steady_clock::now();
  std::atomic<bool> trickling{true};
  std::thread trickler([&] {
    while (trickling && socket.send("x")) std::this_thread::sleep_for(milliseconds(100));
  });
  auto response = socket.receive(seconds(6), "}");
  double answered_after = seconds_since(started);
  trickling = false;
  trickler.join();
  CHECK(status_line(response) == "HTTP/1.1 408 Request Timeout");
  CHECK(response.find("Connection: close\r\n") != std::string::npos);
  CHECK(response.find("server.body_timeout_seconds") != std::string::npos);
  CHECK(answered_after >= 1.8);
  CHECK(answered_after < 4.0);
  CHECK(mailerd.process().wait_for_log("\"reason\":\"body_timeout\"", seconds(2)));
}

TEST_CASE("mailerd stops reading a chunked body at server.max_body_bytes", "[integration][http][hardening]") {
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_MAX_BODY_BYTES", "1048576"}}));
  REQUIRE(mailerd.client()->Get("/health"));
  long baseline_kib = peak_rss_kib(mailerd.process().pid());
  REQUIRE(baseline_kib > 0);

  auto key = mailerd.create_key("sender", "send");
  const std::string authorization = "Authorization: Bearer " + key.key + "\r\n";

  // 256 MiB offered in 64 KiB chunks: the 413 must come after about 1 MiB,
  // and nothing near the whole body may be held in memory.
  Socket socket(mailerd.port());
  REQUIRE(socket.send("POST /v1/batches HTTP/1.1\r\nHost: mailerd\r\nContent-Type: application/json\r\n" +
                      authorization + "Transfer-Encoding: chunked\r\n\r\n"));
  std::atomic<bool> sending{true};
  std::thread sender([&] {
    const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
    for (int i = 0; i < 4096 && sending && socket.send(chunk); ++i) {
    }
  });
  auto response = socket.receive(seconds(10), "}");
  sending = false;
  sender.join();
  CHECK(status_line(response) == "HTTP/1.1 413 Payload Too Large");
  CHECK(response.find("Connection: close\r\n") != std::string::npos);
  CHECK(response.find("\"type\":\"https://mailerd.dev/problems/too_large\"") != std::string::npos);
  long grown_kib = peak_rss_kib(mailerd.process().pid()) - baseline_kib;
  INFO("peak RSS grew by " << grown_kib << " KiB");
  CHECK(grown_kib < 32 * 1024);

  // A declared length over the limit is refused before any body byte is sent.
  Socket declared(mailerd.port());
  REQUIRE(declared.send("POST /v1/batches HTTP/1.1\r\nHost: mailerd\r\nContent-Type: application/json\r\n" +
                        authorization + "Content-Length: 10737418240\r\n\r\n"));
  auto started = steady_clock::now();
  CHECK(status_line(declared.receive(seconds(3), "}")) == "HTTP/1.1 413 Payload Too Large");
  CHECK(seconds_since(started) < 1.0);
}

TEST_CASE("mailerd answers a path with invalid UTF-8 with a 404 problem, not 500", "[integration][http][hardening]") {
  MailerdFixture mailerd;
  for (std::string path : {"/v1/%FF", "/v1/\xff\xfe", "/%C3%28", "/v1/batches%FF"}) {
    INFO(path);
    Socket socket(mailerd.port());
    REQUIRE(socket.send("GET " + path + " HTTP/1.1\r\nHost: mailerd\r\nConnection: close\r\n\r\n"));
    auto response = socket.receive(seconds(3));
    CHECK(status_line(response) == "HTTP/1.1 404 Not Found");
    auto body = nlohmann::json::parse(response.substr(response.find("\r\n\r\n") + 4), nullptr, false);
    REQUIRE_FALSE(body.is_discarded());
    CHECK(body["type"] == "https://mailerd.dev/problems/not_found");
    CHECK(body["detail"].get<std::string>().find("\xEF\xBF\xBD") != std::string::npos);  // U+FFFD
  }
  CHECK(mailerd.log().find("internal error") == std::string::npos);
}

namespace {

// Samples of the families whose labels a client's request can reach (other
// families, such as the GetAccount calls, move on their own).
std::size_t metric_samples(const MailerdFixture& mailerd) {
  auto scraped = mailerd.client()->Get("/metrics");
  REQUIRE(scraped);
  REQUIRE(scraped->status == 200);
  return mailer::test::sample_count(scraped->body, "mailer_http_request") +
         mailer::test::sample_count(scraped->body, "mailer_sns_notifications_total");
}

// One unauthenticated request with an invented method, and one SNS envelope
// with an invented Type; both are refused.
void send_odd_requests(const MailerdFixture& mailerd, int n) {
  Socket socket(mailerd.port());
  REQUIRE(socket.send("BREW" + std::to_string(n) + " /health HTTP/1.1\r\nHost: mailerd\r\nConnection: close\r\n\r\n"));
  CHECK(status_line(socket.receive(seconds(3), "}")) == "HTTP/1.1 400 Bad Request");
  auto envelope = nlohmann::json{{"Type", "Odd" + std::to_string(n)}, {"MessageId", "m"}}.dump();
  auto refused = mailerd.client()->Post("/webhooks/ses", envelope, "text/plain");
  REQUIRE(refused);
  CHECK(refused->status >= 400);
}

}  // namespace

TEST_CASE("Invented methods and SNS types leave the metrics series count unchanged",
          "[integration][http][hardening][metrics]") {
  MailerdFixture mailerd;
  // The first odd request adds the "other" series once, the first scrape
  // its own route's series.
  send_odd_requests(mailerd, 0);
  // A request's series appear once its answer is logged, which on a loaded
  // machine can trail the answer itself: wait until three scrapes agree.
  auto before = metric_samples(mailerd);
  for (int same = 0, i = 0; same < 2 && i < 50; ++i) {
    std::this_thread::sleep_for(milliseconds(100));
    auto now = metric_samples(mailerd);
    same = now == before ? same + 1 : 0;
    before = now;
  }
  for (int n = 1; n <= 200; ++n) send_odd_requests(mailerd, n);
  auto after = mailerd.client()->Get("/metrics");
  REQUIRE(after);
  CHECK(after->body.find("BREW") == std::string::npos);
  CHECK(after->body.find("Odd1") == std::string::npos);
  CHECK(metric_samples(mailerd) == before);
}

TEST_CASE("A request mailerd cannot parse ends its connection, so its body is never a request",
          "[integration][http][hardening]") {
  MailerdFixture mailerd;
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: mailerd\r\n\r\n";
  for (std::string method : {"FOO", "PROPFIND"}) {
    INFO(method);
    Socket socket(mailerd.port());
    REQUIRE(socket.send(method + " / HTTP/1.1\r\nHost: mailerd\r\nContent-Length: " + std::to_string(smuggled.size()) +
                        "\r\n\r\n" + smuggled));
    auto answers = socket.receive(seconds(8));  // until mailerd closes
    CHECK(status_line(answers) == "HTTP/1.1 400 Bad Request");
    CHECK(answers.find("Connection: close\r\n") != std::string::npos);
    CHECK(answers.find("HTTP/1.1", 1) == std::string::npos);  // one answer, not one per line
    CHECK(answers.find("200 OK") == std::string::npos);
  }
}

// A body mailerd does not read (GET, HEAD and OPTIONS bodies; a length the
// framing hides) would otherwise be parsed as the next request.
TEST_CASE("A body mailerd leaves unread or cannot frame is never answered as a request",
          "[integration][http][hardening]") {
  MailerdFixture mailerd;
  const std::string smuggled = "GET /health HTTP/1.1\r\nHost: mailerd\r\n\r\n";
  const auto length = std::to_string(smuggled.size());
  const std::vector<std::pair<std::string, std::string>> requests{
      {"OPTIONS on a route", "OPTIONS /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n"},
      {"OPTIONS on the webhook", "OPTIONS /webhooks/ses HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n"},
      {"GET with a body", "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: " + length + "\r\n\r\n"},
      {"blank before the colon", "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length : " + length + "\r\n\r\n"},
      {"chunked and a length",
       "POST /webhooks/ses HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
       "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
      {"a coding other than chunked", "POST /webhooks/ses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"},
      {"blank before the coding's colon",
       "POST /webhooks/ses HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n"
       "0\r\n\r\n"},
  };
  for (const auto& [name, head] : requests) {
    INFO(name);
    Socket socket(mailerd.port());
    REQUIRE(socket.send(head + smuggled));
    auto answers = socket.receive(seconds(8));  // until mailerd closes
    REQUIRE_FALSE(answers.empty());
    CHECK(answers.find("Connection: close\r\n") != std::string::npos);
    CHECK(answers.find("HTTP/1.1", 1) == std::string::npos);  // one answer only
  }

  // The same requests without a body keep the connection for the next one.
  httplib::Client client("127.0.0.1", mailerd.port());
  client.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) {
    auto res = client.Get("/health");
    REQUIRE(res);
    CHECK(res->status == 200);
    CHECK(res->get_header_value("Connection") != "close");
  }
}

TEST_CASE("mailerd over TLS keeps connections alive and cuts a silent handshake", "[integration][http][hardening]") {
  mailer::test::TempDir certs;
  auto [cert, key] = mailer::test::make_self_signed_certificate(certs);
  MailerdFixture mailerd(with_env({{"MAILER_SERVER_TLS_CERT_FILE", cert},
                                   {"MAILER_SERVER_TLS_KEY_FILE", key},
                                   {"MAILER_SERVER_HEADER_TIMEOUT_SECONDS", "2"}}));
  Socket silent(mailerd.port());  // connects, never says hello
  auto opened = steady_clock::now();

  httplib::SSLClient client("127.0.0.1", mailerd.port());
  client.enable_server_certificate_verification(false);
  client.set_keep_alive(true);
  client.set_read_timeout(seconds(5));
  for (const char* path : {"/health", "/ready", "/health"}) {
    auto res = client.Get(path);
    REQUIRE(res);
    CHECK(res->status == 200);
  }
  auto posted = client.Post("/webhooks/ses", "{}", "text/plain");  // a body read over TLS
  REQUIRE(posted);
  CHECK(posted->status == 404);  // no SNS topics configured: the webhook is off

  CHECK(silent.closed_by(opened + seconds(4)));
  CHECK(seconds_since(opened) >= 1.8);
}

namespace {

// What mailerd answers to `head` (request line and headers) alone, read
// until it closes. The body it announces never comes, so an answer proves
// mailerd decided without reading one.
std::string answer_without_body(int port, const std::string& head) {
  Socket socket(port);
  REQUIRE(socket.send(head));
  return socket.receive(seconds(5));
}

std::string problem_detail(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  if (at == std::string::npos) return "";
  auto body = nlohmann::json::parse(response.substr(at + 4), nullptr, false);
  return body.is_object() && body.contains("detail") ? body["detail"].get<std::string>() : "";
}

bool has_header(const std::string& response, const std::string& line) {
  auto head = response.substr(0, response.find("\r\n\r\n") + 2);
  return head.find("\r\n" + line + "\r\n") != std::string::npos;
}

std::string ranges(int count) {
  std::string value = "bytes=0-";
  for (int i = 1; i < count; ++i) value += ",0-";
  return value;
}

}  // namespace

TEST_CASE("mailerd refuses a body unread when the route or the key is wrong", "[integration][http][hardening]") {
  MailerdFixture mailerd;
  auto reader = mailerd.create_key("reader", "read");
  const std::string big = "Content-Type: application/json\r\nContent-Length: 60000000\r\n\r\n";

  auto no_key = answer_without_body(mailerd.port(), "POST /v1/batches HTTP/1.1\r\nHost: m\r\n" + big);
  CHECK(status_line(no_key) == "HTTP/1.1 401 Unauthorized");
  CHECK(has_header(no_key, "Connection: close"));

  auto low_scope = answer_without_body(
      mailerd.port(), "POST /v1/batches HTTP/1.1\r\nHost: m\r\nAuthorization: Bearer " + reader.key + "\r\n" + big);
  CHECK(status_line(low_scope) == "HTTP/1.1 403 Forbidden");

  auto chunked = answer_without_body(mailerd.port(),
                                     "POST /v1/batches HTTP/1.1\r\nHost: m\r\n"
                                     "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(status_line(chunked) == "HTTP/1.1 401 Unauthorized");
  CHECK(has_header(chunked, "Connection: close"));

  auto unknown = answer_without_body(mailerd.port(), "POST /no/such/route HTTP/1.1\r\nHost: m\r\n" + big);
  CHECK(status_line(unknown) == "HTTP/1.1 404 Not Found");
  CHECK(has_header(unknown, "Connection: close"));

  auto wrong_method = answer_without_body(mailerd.port(), "PUT /v1/batches HTTP/1.1\r\nHost: m\r\n" + big);
  CHECK(status_line(wrong_method) == "HTTP/1.1 405 Method Not Allowed");
}

TEST_CASE("mailerd holds the public webhook and unsubscribe bodies to their own bounds",
          "[integration][http][hardening]") {
  MailerdFixture mailerd;
  auto webhook = answer_without_body(mailerd.port(),
                                     "POST /webhooks/ses HTTP/1.1\r\nHost: m\r\n"
                                     "Content-Type: text/plain\r\nContent-Length: 2097152\r\n\r\n");
  CHECK(status_line(webhook) == "HTTP/1.1 413 Payload Too Large");
  CHECK(has_header(webhook, "Connection: close"));
  CHECK(problem_detail(webhook) == "request body exceeds 524288 bytes, the limit of POST /webhooks/ses");

  // Chunked, the length is learned while reading: the 413 comes at 512 KiB.
  Socket socket(mailerd.port());
  REQUIRE(
      socket.send("POST /webhooks/ses HTTP/1.1\r\nHost: m\r\nContent-Type: text/plain\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  std::atomic<bool> sending{true};
  std::thread sender([&] {
    const std::string chunk = "10000\r\n" + std::string(0x10000, 'x') + "\r\n";
    for (int i = 0; i < 32 && sending && socket.send(chunk); ++i) {  // 2 MiB
    }
  });
  auto chunked = socket.receive(seconds(10));
  sending = false;
  sender.join();
  CHECK(status_line(chunked) == "HTTP/1.1 413 Payload Too Large");
  CHECK(problem_detail(chunked) == "request body exceeds 524288 bytes, the limit of POST /webhooks/ses");

  auto unsubscribe = answer_without_body(mailerd.port(),
                                         "POST /u/some-token HTTP/1.1\r\nHost: m\r\n"
                                         "Content-Type: application/x-www-form-urlencoded\r\n"
                                         "Content-Length: 65536\r\n\r\n");
  CHECK(status_line(unsubscribe) == "HTTP/1.1 413 Payload Too Large");
  CHECK(problem_detail(unsubscribe) == "request body exceeds 4096 bytes, the limit of POST /u/{token}");
}

TEST_CASE("mailerd ignores Range headers and serves the whole answer", "[integration][http][hardening]") {
  MailerdFixture mailerd;
  auto get = [&](const std::string& path, const std::string& range) {
    Socket socket(mailerd.port());
    REQUIRE(socket.send("GET " + path + " HTTP/1.1\r\nHost: m\r\nRange: " + range + "\r\nConnection: close\r\n\r\n"));
    return socket.receive(seconds(5));
  };
  auto metrics = get("/metrics", ranges(2000));
  CHECK(status_line(metrics) == "HTTP/1.1 200 OK");
  CHECK(metrics.find("multipart/byteranges") == std::string::npos);
  CHECK(metrics.find("Content-Range") == std::string::npos);
  CHECK(metrics.find("mailer_http_connections_open") != std::string::npos);
  CHECK(metrics.size() < 1024 * 1024);

  auto missing = get("/no/such/route", ranges(2000));
  CHECK(status_line(missing) == "HTTP/1.1 404 Not Found");
  CHECK(problem_detail(missing) == "no route for /no/such/route");

  for (std::string malformed : {"bytes=abc", "bytes=9-1", "pages=1-2"}) {
    INFO(malformed);
    auto health = get("/health", malformed);
    CHECK(status_line(health) == "HTTP/1.1 200 OK");
  }
}

TEST_CASE("mailerd answers differing Content-Length headers with 400 and closes", "[integration][http][hardening]") {
  MailerdFixture mailerd;
  for (std::string lengths : {"Content-Length: 2\r\nContent-Length: 40\r\n", "Content-Length: 2, 40\r\n"}) {
    INFO(lengths);
    auto response = answer_without_body(mailerd.port(),
                                        "POST /v1/batches HTTP/1.1\r\nHost: m\r\n"
                                        "Content-Type: application/json\r\n" +
                                            lengths + "\r\n{}");
    CHECK(status_line(response) == "HTTP/1.1 400 Bad Request");
    CHECK(has_header(response, "Connection: close"));
    CHECK(problem_detail(response).starts_with("Content-Length: "));
  }
}

TEST_CASE("mailerd answers a request line or headers over 64 KiB with 400 and closes",
          "[integration][http][hardening]") {
  MailerdFixture mailerd;
  std::string long_line = "GET /" + std::string(70 * 1024, 'a') + " HTTP/1.1\r\nHost: m\r\n\r\n";
  std::string long_headers = "GET /health HTTP/1.1\r\nHost: m\r\n";
  for (int i = 0; i < 70; ++i) long_headers += "X-Pad-" + std::to_string(i) + ": " + std::string(1000, 'p') + "\r\n";
  long_headers += "\r\n";
  for (const auto& request : {long_line, long_headers}) {
    auto response = answer_without_body(mailerd.port(), request);
    CHECK(status_line(response) == "HTTP/1.1 400 Bad Request");
    CHECK(has_header(response, "Connection: close"));
    CHECK(problem_detail(response) == "the request line and headers exceed 65536 bytes");
  }
}

TEST_CASE("Large bodies beyond server.max_body_bytes_in_flight wait with a 503; small ones never do",
          "[integration][http][hardening]") {
  // Two 2 MiB bodies at most at once; each may be 2 MiB.
  MailerdFixture mailerd(
      with_env({{"MAILER_SERVER_MAX_BODY_BYTES", "2097152"}, {"MAILER_SERVER_MAX_BODY_BYTES_IN_FLIGHT", "4194304"}}));
  auto key = mailerd.create_key("sender", "send");
  const std::string head =
      "POST /v1/batches HTTP/1.1\r\nHost: mailerd\r\nContent-Type: application/json\r\n"
      "Authorization: Bearer " +
      key.key + "\r\n";
  const std::string two_mib = head + "Content-Length: 2097152\r\n\r\n";

  // Two uploads under way hold the whole budget while their bodies trickle.
  Socket first(mailerd.port());
  Socket second(mailerd.port());
  REQUIRE(first.send(two_mib + "{"));
  REQUIRE(second.send(two_mib + "{"));
  std::this_thread::sleep_for(milliseconds(300));

  // A third is refused from its headers alone, before a body byte is read.
  Socket third(mailerd.port());
  REQUIRE(third.send(two_mib));
  auto refused = third.receive(seconds(3), "}");
  CHECK(status_line(refused) == "HTTP/1.1 503 Service Unavailable");
  CHECK(refused.find("Retry-After: 1\r\n") != std::string::npos);
  CHECK(refused.find("server.max_body_bytes_in_flight (4194304 bytes)") != std::string::npos);

  // A chunked one is cut once it passes 1 MiB.
  Socket chunked(mailerd.port());
  REQUIRE(chunked.send(head + "Transfer-Encoding: chunked\r\n\r\n"));
  const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
  for (int i = 0; i < 24 && chunked.send(chunk); ++i) {
  }
  CHECK(status_line(chunked.receive(seconds(3), "}")) == "HTTP/1.1 503 Service Unavailable");

  // A small body is not counted: a single message is answered as usual.
  auto message =
      mailerd.client()->Post("/v1/messages", {{"Authorization", "Bearer " + key.key}}, "{}", "application/json");
  REQUIRE(message);
  CHECK(message->status == 400);

  // Once an upload ends, its share is free again.
  first.close();
  std::this_thread::sleep_for(milliseconds(300));
  Socket again(mailerd.port());
  REQUIRE(again.send(two_mib));
  REQUIRE(again.send(std::string(2097152, ' ')));
  CHECK(status_line(again.receive(seconds(5), "}")) == "HTTP/1.1 400 Bad Request");
}
