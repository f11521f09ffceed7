#include "mailer/http/request_id.hpp"

#include <algorithm>

#include "mailer/crypto/crypto.hpp"

namespace mailer::http {

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > k_max_request_id_length) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return c >= 0x21 && c <= 0x7e; });
}

std::string make_request_id() { return "req_" + crypto::hex(crypto::random_bytes(13)); }

std::string request_id_from(std::string_view client_value) {
  if (valid_request_id(client_value)) return std::string(client_value);
  return make_request_id();
}

}  // namespace mailer::http
