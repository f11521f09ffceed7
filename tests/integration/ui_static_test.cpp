// The dashboard's static files (src/http/routes/ui.cpp) as a browser and an
// attacker see them: security headers, revalidation with the ETag, and 404
// for every name that is not one of the compiled-in files, however spelt.
#include "api_support.hpp"

#include "support/raw_socket.hpp"

using namespace mailer::test;
using namespace mailer::test::api;

namespace {

const std::string k_csp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

// The status line of the answer to `target` sent byte for byte, so no client
// library normalizes "..", "%2e%2e" or a backslash first.
std::string raw_status(int port, const std::string& target) {
  RawSocket socket(port);
  REQUIRE(socket.send("GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
  auto got = socket.receive(std::chrono::seconds(10), "\r\n");
  return got.substr(0, got.find("\r\n"));
}

void check_security_headers(const httplib::Response& res) {
  CHECK(res.get_header_value("Content-Security-Policy") == k_csp);
  CHECK(res.get_header_value("X-Content-Type-Options") == "nosniff");
  CHECK(res.get_header_value("Referrer-Policy") == "no-referrer");
}

}  // namespace

TEST_CASE("dashboard: files are served without a key, with CSP and content types", "[integration][ui]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto index = client->Get("/ui/");
  REQUIRE(index);
  CHECK(index->status == 200);
  CHECK(index->get_header_value("Content-Type") == "text/html; charset=utf-8");
  CHECK(index->get_header_value("Cache-Control") == "no-cache");
  CHECK(index->body.find("<script type=\"module\" src=\"app.js\"></script>") != std::string::npos);
  check_security_headers(*index);
  auto script = client->Get("/ui/app.js");
  REQUIRE(script);
  CHECK(script->status == 200);
  CHECK(script->get_header_value("Content-Type") == "text/javascript; charset=utf-8");
  check_security_headers(*script);
  auto style = client->Get("/ui/style.css");
  REQUIRE(style);
  CHECK(style->get_header_value("Content-Type") == "text/css; charset=utf-8");
  auto redirect = client->Get("/ui");
  REQUIRE(redirect);
  CHECK(redirect->status == 308);
  CHECK(redirect->get_header_value("Location") == "/ui/");
}

TEST_CASE("dashboard: If-None-Match with the ETag is 304 without a body", "[integration][ui]") {
  MailerdFixture mailerd(api_options());
  auto client = mailerd.client();
  auto first = client->Get("/ui/app.js");
  REQUIRE(first);
  const auto etag = first->get_header_value("ETag");
  REQUIRE(etag.size() == 34);  // 32 hex digits, quoted
  auto again = client->Get("/ui/app.js", {{"If-None-Match", etag}});
  REQUIRE(again);
  CHECK(again->status == 304);
  CHECK(again->body.empty());
  CHECK(again->get_header_value("ETag") == etag);
  check_security_headers(*again);
  auto listed = client->Get("/ui/app.js", {{"If-None-Match", "\"other\", W/" + etag}});
  REQUIRE(listed);
  CHECK(listed->status == 304);
  auto stale = client->Get("/ui/app.js", {{"If-None-Match", "\"0123\""}});
  REQUIRE(stale);
  CHECK(stale->status == 200);
  CHECK(stale->body == first->body);
  // Another file has another tag: the tag follows the bytes.
  auto style = client->Get("/ui/style.css", {{"If-None-Match", etag}});
  REQUIRE(style);
  CHECK(style->status == 200);
}

TEST_CASE("dashboard: unknown names and traversal attempts are 404", "[integration][ui]") {
  MailerdFixture mailerd(api_options());
  for (std::string target :
       {"/ui/missing.js", "/ui/index.htm", "/ui/../", "/ui/..", "/ui/%2e%2e/", "/ui/%2e%2e", "/ui/%2E%2E%2Fmailer.db",
        "/ui/..%2fmailer.db", "/ui/..\\mailer.db", "/ui/%5c..%5cmailer.db", "/ui/app.js/", "/ui/./app.js",
        "/ui//app.js", "/ui/app.js%00", "/ui/js/app.js", "/ui/.", "/ui/%2fetc%2fpasswd"}) {
    INFO(target);
    auto status = raw_status(mailerd.port(), target);
    CHECK((status == "HTTP/1.1 404 Not Found" || status == "HTTP/1.1 400 Bad Request"));
    CHECK(status.find("200") == std::string::npos);
  }
  auto res = mailerd.client()->Get("/ui/missing.js");
  REQUIRE(res);
  require_problem(res, 404, "not_found");
  check_security_headers(*res);
}

TEST_CASE("dashboard: ui.enabled = false turns every /ui path into 404", "[integration][ui]") {
  MailerdFixture mailerd(api_options({{"MAILER_UI_ENABLED", "false"}}));
  auto client = mailerd.client();
  for (std::string path : {"/ui", "/ui/", "/ui/app.js", "/ui/style.css"}) {
    INFO(path);
    auto res = client->Get(path.c_str());
    REQUIRE(res);
    CHECK(res->status == 404);
  }
}
