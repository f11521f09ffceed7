#pragma once
// What the AWS credential tests share: an environment made of a map (the
// aws::EnvGetter every provider takes) and libcurl's global set-up.

#include <map>
#include <optional>
#include <string>

#include "mailer/aws/credentials.hpp"
#include "mailer/net/http_client.hpp"

namespace mailer::test {

/// An aws::EnvGetter answering from `vars`; nullopt for a name not in it.
inline aws::EnvGetter env_of(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

/// curl_global_init once per process, before the first loopback request.
inline const net::CurlGlobal& curl_global() {
  static net::CurlGlobal guard;
  return guard;
}

}  // namespace mailer::test
