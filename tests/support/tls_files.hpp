#pragma once
// A throw-away certificate for tests that run mailerd with TLS.

#include <string>

#include "support/temp_dir.hpp"

namespace mailer::test {

struct TlsFiles {
  std::string cert;  // PEM, self-signed, CN=127.0.0.1 (no SAN: turn verification off)
  std::string key;   // PEM, RSA 2048, unencrypted
};

/// Makes cert.pem and key.pem in `dir` with /usr/bin/openssl, valid one day.
/// Throws std::runtime_error when openssl fails.
TlsFiles make_self_signed_certificate(const TempDir& dir);

}  // namespace mailer::test
