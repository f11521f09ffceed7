// Runs every case of the official AWS SigV4 suite and of the SES-derived suite,
// read from MAILER_SHARED_DIR at test time (see the READMEs there for the format).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "mailer/aws/sigv4.hpp"

namespace fs = std::filesystem;
using namespace mailer::aws;

namespace {

const std::string k_access_key = "AKIDEXAMPLE";
const std::string k_secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ParsedReq {
  std::string method, path, query;
  std::vector<Header> headers;
  std::string header_text;  // the request line and header lines, verbatim
  std::string body;
  bool has_body = false;
};

// Tolerant of the suite's quirks: raw UTF-8 and spaces in the target (the
// protocol is after the last space), obs-fold continuation lines (a separate
// value of the previous header, as the suite's .creq expects).
ParsedReq parse_req(const std::string& text) {
  ParsedReq out;
  auto blank = text.find("\n\n");
  out.header_text = text.substr(0, blank);
  if (blank != std::string::npos) {
    out.has_body = true;
    out.body = text.substr(blank + 2);
  }
  std::istringstream lines(out.header_text);
  std::string line;
  std::getline(lines, line);
  auto first_space = line.find(' ');
  auto last_space = line.rfind(' ');
  out.method = line.substr(0, first_space);
  std::string target = line.substr(first_space + 1, last_space - first_space - 1);
  auto q = target.find('?');
  out.path = target.substr(0, q);
  if (q != std::string::npos) out.query = target.substr(q + 1);
  while (std::getline(lines, line)) {
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      REQUIRE(!out.headers.empty());
      out.headers.emplace_back(out.headers.back().first, line);
      continue;
    }
    auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    out.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return out;
}

struct SuiteCase {
  fs::path dir;
  SigningScope scope;
  std::vector<std::string> asserts;
  std::string token_after;  // post-sts-header-after: token added after signing
};

void run_case(const SuiteCase& c) {
  auto name = c.dir.filename().string();
  INFO("case " << name);
  auto req = parse_req(slurp(c.dir / (name + ".req")));
  SigningRequest request{req.method, req.path, req.query, req.headers, req.body};
  auto sig = sign(request, c.scope, k_access_key, k_secret);
  for (const auto& what : c.asserts) {
    auto expected = slurp(c.dir / (name + "." + what));
    if (what == "creq") CHECK(sig.canonical_request == expected);
    if (what == "sts") CHECK(sig.string_to_sign == expected);
    if (what == "authz") CHECK(sig.authorization == expected);
    if (what == "sreq") {
      std::string sreq = req.header_text + "\n";
      if (!c.token_after.empty()) sreq += "X-Amz-Security-Token:" + c.token_after + "\n";
      sreq += "Authorization: " + sig.authorization;
      if (req.has_body) sreq += "\n\n" + req.body;
      CHECK(sreq == expected);
    }
  }
}

}  // namespace

TEST_CASE("sigv4 passes every case of the official AWS test suite", "[aws][sigv4]") {
  fs::path root = fs::path(MAILER_SHARED_DIR) / "testdata/sigv4";
  auto suite = nlohmann::json::parse(slurp(root / "suite.json"));
  SigningScope scope{suite.at("x_amz_date"), suite.at("region"), suite.at("service")};
  std::set<std::string> listed;
  int ran = 0;
  for (const auto& entry : suite.at("cases")) {
    SuiteCase c{root / entry.at("name").get<std::string>(), scope, entry.at("assert").get<std::vector<std::string>>(),
                ""};
    if (entry.at("name") == "post-sts-header-after") c.token_after = suite.at("session_token");
    listed.insert(entry.at("name").get<std::string>());
    run_case(c);
    ++ran;
  }
  // Every case directory on disk must be listed in suite.json, so none is skipped.
  for (const auto& dir : fs::directory_iterator(root)) {
    if (dir.is_directory()) CHECK(listed.count(dir.path().filename().string()) == 1);
  }
  CHECK(ran >= 31);
}

TEST_CASE("sigv4 passes every SES-derived case", "[aws][sigv4]") {
  fs::path root = fs::path(MAILER_SHARED_DIR) / "testdata/sigv4-ses-derived";
  int ran = 0;
  for (const auto& dir : fs::directory_iterator(root)) {
    if (!dir.is_directory()) continue;
    auto ctx = nlohmann::json::parse(slurp(dir.path() / "context.json"));
    REQUIRE(ctx.at("service") == "ses");
    SuiteCase c{dir.path(),
                SigningScope{ctx.at("x_amz_date"), ctx.at("region"), ctx.at("service")},
                {"creq", "sts", "authz", "sreq"},
                ""};
    run_case(c);
    ++ran;
  }
  CHECK(ran == 5);
}

TEST_CASE("sigv4 canonical URI double-encodes the wire path", "[aws][sigv4]") {
  CHECK(canonical_uri("/v2/email/identities/user%40example.com") == "/v2/email/identities/user%2540example.com");
  CHECK(canonical_uri("/a b/") == "/a%20b/");
  CHECK(normalize_path("//a/./b/../") == "/a/");
  CHECK(normalize_path("/example/..") == "/");
  CHECK(normalize_path("") == "/");
}

TEST_CASE("sigv4 canonical query decodes once and encodes once", "[aws][sigv4]") {
  CHECK(canonical_query("b=2&a=%3A") == "a=%3A&b=2");
  CHECK(canonical_query("Param1=value2&Param1=Value1") == "Param1=Value1&Param1=value2");
  CHECK(canonical_query("flag") == "flag=");
  CHECK(canonical_query("") == "");
  CHECK(canonical_query("a=x+y") == "a=x%2By");
}

TEST_CASE("sigv4 add_signature_headers signs an SES SendEmail with and without token", "[aws][sigv4]") {
  std::string body = R"({"FromEmailAddress":"a@example.com"})";
  SigningScope scope{"20150830T123600Z", "us-east-1", "ses"};
  SECTION("without a session token") {
    std::vector<Header> headers{{"Host", "email.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"}};
    add_signature_headers(headers, "POST", "/v2/email/outbound-emails", "", body, scope, k_access_key, k_secret, "");
    REQUIRE(headers.size() == 4);
    CHECK(headers[2].first == "X-Amz-Date");
    CHECK(headers[3].first == "Authorization");
    auto parsed = parse_authorization(headers[3].second);
    REQUIRE(parsed.ok);
    CHECK(parsed.service == "ses");
    CHECK(parsed.region == "us-east-1");
    CHECK(parsed.signed_headers == std::vector<std::string>{"content-type", "host", "x-amz-date"});
  }
  SECTION("with a session token it is a signed header") {
    std::vector<Header> headers{{"Host", "email.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"}};
    add_signature_headers(headers, "POST", "/v2/email/outbound-emails", "", body, scope, k_access_key, k_secret,
                          "TOKEN");
    REQUIRE(headers.size() == 5);
    CHECK(headers[3] == Header{"X-Amz-Security-Token", "TOKEN"});
    auto parsed = parse_authorization(headers[4].second);
    REQUIRE(parsed.ok);
    CHECK(parsed.signed_headers.back() == "x-amz-security-token");
    // The token changes the signature.
    std::vector<Header> plain{{"Host", "email.us-east-1.amazonaws.com"}, {"Content-Type", "application/json"}};
    add_signature_headers(plain, "POST", "/v2/email/outbound-emails", "", body, scope, k_access_key, k_secret, "");
    CHECK(parse_authorization(plain[3].second).signature != parsed.signature);
  }
}

TEST_CASE("sigv4 parse_authorization rejects malformed values", "[aws][sigv4]") {
  CHECK_FALSE(parse_authorization("Basic abc").ok);
  CHECK_FALSE(parse_authorization("AWS4-HMAC-SHA256 Credential=A/B, Signature=x").ok);
  CHECK(format_amz_date(std::chrono::system_clock::from_time_t(1440938160)) == "20150830T123600Z");
}
