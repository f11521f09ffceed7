#pragma once
// X-Request-Id: accepted from the client when sane, else generated; echoed on
// every response and logged, so a client report can be found in the log.

#include <string>
#include <string_view>

namespace mailer::http {

inline constexpr std::size_t k_max_request_id_length = 128;

/// True when `id` is 1..128 printable ASCII characters (0x21-0x7e, no spaces),
/// so it cannot split a log line or a header.
bool valid_request_id(std::string_view id);

/// A new id: "req_" + 26 lowercase hex characters of CSPRNG output.
std::string make_request_id();

/// The client's id when valid, else a new one.
std::string request_id_from(std::string_view client_value);

}  // namespace mailer::http
