#include "support/tls_files.hpp"

#include <stdexcept>

#include "support/child_process.hpp"

namespace mailer::test {

TlsFiles make_self_signed_certificate(const TempDir& dir) {
  TlsFiles files{(dir / "cert.pem").string(), (dir / "key.pem").string()};
  auto made = run_command({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", files.key,
                           "-out", files.cert, "-days", "1", "-subj", "/CN=127.0.0.1"});
  if (made.exit_code != 0) throw std::runtime_error("openssl req failed: " + made.errors);
  return files;
}

}  // namespace mailer::test
