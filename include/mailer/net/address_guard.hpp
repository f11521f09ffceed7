#pragma once
// The SSRF guard of outgoing webhooks: which IP addresses a request made on
// behalf of an API caller may reach. A webhook URL is chosen by whoever holds
// an admin key; without this guard it could point mailerd at the cloud
// metadata service (169.254.169.254), at a database on the loopback
// interface, or at the private network behind the firewall.
//
// The check runs twice: on the URL's host when an endpoint is created or
// changed (resolve_public, a clear 400), and on the very address libcurl is
// about to connect to (HttpClientOptions::public_addresses_only), so a name
// that resolves to a public address at creation and to a private one later
// (DNS rebinding) is still refused.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::net {

/// Why `address` (IPv4 dotted quad or IPv6 text, no brackets) may not be
/// reached by a guarded request, or nullopt when it is a public unicast
/// address. Refused, with the reason named ("loopback", "private",
/// "link-local", ...):
/// - IPv4: 0.0.0.0/8 (this network), 10/8, 172.16/12, 192.168/16 (RFC 1918),
///   100.64/10 (shared address space, RFC 6598), 127/8 (loopback),
///   169.254/16 (link-local, RFC 3927; holds the 169.254.169.254 metadata
///   service), 192.0.0/24 (IETF protocol assignments), 192.0.2/24,
///   198.51.100/24, 203.0.113/24 (documentation, RFC 5737), 198.18/15
///   (benchmarking, RFC 2544), 224/4 (multicast), 240/4 and 255.255.255.255
///   (reserved, broadcast).
/// - IPv6: :: and ::1, fc00::/7 (unique local, RFC 4193), fe80::/10
///   (link-local), fec0::/10 (site-local), ff00::/8 (multicast),
///   2001:db8::/32 (documentation), 64:ff9b::/96 and ::ffff:0:0/96 (NAT64 and
///   IPv4-mapped: judged by the IPv4 address inside), ::/96 (IPv4-compatible),
///   The EC2 IPv6 metadata service, fd00:ec2::254, is unique local.
/// Text that is not an address is refused as "not an IP address".
std::optional<std::string> refused_address_reason(std::string_view address);

/// The addresses `host` resolves to (getaddrinfo, any family; an IP literal,
/// with or without IPv6 brackets, is taken as is), each as text.
/// Errors: invalid_input "host <host> does not resolve: <reason>".
Result<std::vector<std::string>> resolve_host(std::string_view host);

/// resolve_host(), then refused_address_reason() on every address: a name
/// with one private address among public ones is refused, since curl may
/// connect to any of them. Errors: invalid_input naming the host, the
/// address and the reason, e.g. "host localhost resolves to 127.0.0.1
/// (loopback), which webhooks may not reach", or as resolve_host().
Status check_public_host(std::string_view host);

}  // namespace mailer::net
