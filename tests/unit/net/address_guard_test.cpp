#include <catch2/catch.hpp>

#include "mailer/net/address_guard.hpp"
#include "mailer/net/http_client.hpp"
#include "support/fake_metadata.hpp"

using namespace mailer;

TEST_CASE("net::refused_address_reason refuses what leads into the host or its network", "[net][webhooks]") {
  const std::pair<const char*, const char*> refused[] = {
      {"127.0.0.1", "loopback"},
      {"10.0.0.8", "private"},
      {"172.16.5.4", "private"},
      {"172.31.255.255", "private"},
      {"192.168.1.1", "private"},
      {"100.64.0.1", "shared address space"},
      {"169.254.169.254", "link-local"},
      {"0.0.0.0", "this network"},
      {"224.0.0.1", "multicast"},
      {"255.255.255.255", "reserved"},
      {"::1", "loopback"},
      {"::", "unspecified"},
      {"fd00:ec2::254", "unique local"},
      {"fe80::1", "link-local"},
      {"ff02::1", "multicast"},
      {"::ffff:127.0.0.1", "loopback (IPv4 inside IPv6)"},
      {"::ffff:169.254.169.254", "link-local (IPv4 inside IPv6)"},
      {"64:ff9b::10.0.0.1", "private (IPv4 inside IPv6)"},
      {"[::1]", "loopback"},
      {"example.com", "not an IP address"},
  };
  for (const auto& [address, reason] : refused) {
    INFO(address);
    CHECK(net::refused_address_reason(address) == std::optional<std::string>(reason));
  }
  for (const char* address : {"93.184.215.14", "172.32.0.1", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"}) {
    INFO(address);
    CHECK_FALSE(net::refused_address_reason(address));
  }
}

TEST_CASE("net::check_public_host names the host, address and reason", "[net][webhooks]") {
  auto refused = net::check_public_host("127.0.0.1");
  REQUIRE_FALSE(refused);
  CHECK(refused.error().code == ErrorCode::invalid_input);
  CHECK(refused.error().detail == "host 127.0.0.1 resolves to 127.0.0.1 (loopback), which webhooks may not reach");
  CHECK_FALSE(net::check_public_host("[::1]"));
  CHECK_FALSE(net::check_public_host("localhost"));
}

TEST_CASE("HttpClient with public_addresses_only refuses to connect to loopback", "[net][webhooks]") {
  static net::CurlGlobal curl;
  mailer::test::LoopbackServer http;
  bool reached = false;
  http.server().Post("/hook", [&](const httplib::Request&, httplib::Response& res) {
    reached = true;
    res.set_content("ok", "text/plain");
  });
  http.start();
  net::HttpClientOptions options;
  options.public_addresses_only = true;
  net::HttpClient guarded(options);
  auto refused = guarded.perform({"POST", http.url() + "/hook", {}, "{}"});
  REQUIRE_FALSE(refused);
  CHECK(refused.error().detail.find("refused to connect to 127.0.0.1 (loopback)") != std::string::npos);
  CHECK_FALSE(reached);

  net::HttpClient open;  // the same request without the guard arrives
  auto answered = open.perform({"POST", http.url() + "/hook", {}, "{}"});
  REQUIRE(answered);
  CHECK(answered->status == 200);
}
