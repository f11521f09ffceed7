// The SSRF guard: address classes a guarded request may not reach. The
// tables follow the IANA special-purpose address registries
// (https://www.iana.org/assignments/iana-ipv4-special-registry/,
// https://www.iana.org/assignments/iana-ipv6-special-registry/), keeping the
// ranges that lead into a host or its private network.
#include "mailer/net/address_guard.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>

#include <fmt/format.h>

namespace mailer::net {
namespace {

struct V4Range {
  std::uint32_t network;
  int prefix;
  const char* reason;
};

constexpr std::uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<std::uint32_t>(a) << 24) | (static_cast<std::uint32_t>(b) << 16) |
         (static_cast<std::uint32_t>(c) << 8) | static_cast<std::uint32_t>(d);
}

constexpr std::array k_v4_refused{
    V4Range{v4(0, 0, 0, 0), 8, "this network"},
    V4Range{v4(10, 0, 0, 0), 8, "private"},
    V4Range{v4(100, 64, 0, 0), 10, "shared address space"},
    V4Range{v4(127, 0, 0, 0), 8, "loopback"},
    V4Range{v4(169, 254, 0, 0), 16, "link-local"},
    V4Range{v4(172, 16, 0, 0), 12, "private"},
    V4Range{v4(192, 0, 0, 0), 24, "IETF protocol assignments"},
    V4Range{v4(192, 0, 2, 0), 24, "documentation"},
    V4Range{v4(192, 168, 0, 0), 16, "private"},
    V4Range{v4(198, 18, 0, 0), 15, "benchmarking"},
    V4Range{v4(198, 51, 100, 0), 24, "documentation"},
    V4Range{v4(203, 0, 113, 0), 24, "documentation"},
    V4Range{v4(224, 0, 0, 0), 4, "multicast"},
    V4Range{v4(240, 0, 0, 0), 4, "reserved"},
};

std::optional<std::string> v4_reason(std::uint32_t address) {
  for (const auto& range : k_v4_refused) {
    std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
    if ((address & mask) == range.network) return range.reason;
  }
  return std::nullopt;
}

std::uint32_t v4_at(const unsigned char* bytes) { return v4(bytes[0], bytes[1], bytes[2], bytes[3]); }

bool has_prefix(const unsigned char* bytes, std::initializer_list<unsigned char> prefix) {
  return std::memcmp(bytes, prefix.begin(), prefix.size()) == 0;
}

std::optional<std::string> v6_reason(const unsigned char* b) {
  static constexpr unsigned char k_zero[16] = {};
  if (std::memcmp(b, k_zero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return b[15] == 0 ? "unspecified" : "loopback";
  // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64) reach the IPv4
  // address inside; ::a.b.c.d (IPv4-compatible, deprecated) is refused whole.
  if (has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff}) ||
      has_prefix(b, {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0})) {
    if (auto reason = v4_reason(v4_at(b + 12))) return *reason + " (IPv4 inside IPv6)";
    return std::nullopt;
  }
  if (has_prefix(b, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})) return "IPv4-compatible";
  if ((b[0] & 0xfe) == 0xfc) return "unique local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "link-local";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return "site-local";
  if (b[0] == 0xff) return "multicast";
  if (has_prefix(b, {0x20, 0x01, 0x0d, 0xb8})) return "documentation";
  return std::nullopt;
}

std::string_view strip_brackets(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') return host.substr(1, host.size() - 2);
  return host;
}

struct AddrInfoFree {
  void operator()(addrinfo* info) const noexcept { freeaddrinfo(info); }
};

}  // namespace

std::optional<std::string> refused_address_reason(std::string_view address) {
  std::string text(strip_brackets(address));
  unsigned char bytes[sizeof(in6_addr)];
  if (inet_pton(AF_INET, text.c_str(), bytes) == 1) return v4_reason(v4_at(bytes));
  if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) return v6_reason(bytes);
  return "not an IP address";
}

Result<std::vector<std::string>> resolve_host(std::string_view host) {
  std::string name(strip_brackets(host));
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(name.c_str(), nullptr, &hints, &found);
  std::unique_ptr<addrinfo, AddrInfoFree> owner(found);
  if (rc != 0 || found == nullptr) {
    return make_error(ErrorCode::invalid_input, fmt::format("host {} does not resolve: {}", name, gai_strerror(rc)));
  }
  std::vector<std::string> addresses;
  for (const addrinfo* info = found; info != nullptr; info = info->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw = nullptr;
    if (info->ai_family == AF_INET) raw = &reinterpret_cast<const sockaddr_in*>(info->ai_addr)->sin_addr;
    if (info->ai_family == AF_INET6) raw = &reinterpret_cast<const sockaddr_in6*>(info->ai_addr)->sin6_addr;
    if (raw == nullptr || inet_ntop(info->ai_family, raw, text, sizeof text) == nullptr) continue;
    addresses.emplace_back(text);
  }
  if (addresses.empty())
    return make_error(ErrorCode::invalid_input, fmt::format("host {} does not resolve: no IP address", name));
  return addresses;
}

Status check_public_host(std::string_view host) {
  auto addresses = resolve_host(host);
  if (!addresses) return std::move(addresses).error();
  for (const auto& address : *addresses) {
    if (auto reason = refused_address_reason(address)) {
      return make_error(ErrorCode::invalid_input,
                        fmt::format("host {} resolves to {} ({}), which webhooks may not reach", strip_brackets(host),
                                    address, *reason));
    }
  }
  return {};
}

}  // namespace mailer::net
