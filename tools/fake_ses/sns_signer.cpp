// The fake's SNS signing identity, made fresh in memory at each start: an
// RSA-2048 key and a self-signed certificate for it (OpenSSL 3 EVP and X509),
// served at /_fake/sns-cert.pem. SignatureVersion 2 is SHA256withRSA,
// PKCS#1 v1.5 (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html).
// TEST-ONLY: whoever trusts it trusts anyone who can reach the fake's port.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdexcept>

#include "fake_ses.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::fake_ses {

namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const noexcept { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const noexcept { BIO_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const noexcept { EVP_MD_CTX_free(p); }
};

[[noreturn]] void fail(const char* what) { throw std::runtime_error(std::string("SNS signer: ") + what); }

std::unique_ptr<X509, X509Free> self_signed(EVP_PKEY* key) {
  std::unique_ptr<X509, X509Free> cert(X509_new());
  if (!cert) fail("X509_new failed");
  auto serial = crypto::random_bytes(8);
  std::uint64_t n = 0;
  for (unsigned char c : serial) n = (n << 8) | c;
  X509_set_version(cert.get(), 2);  // v3
  ASN1_INTEGER_set_uint64(X509_get_serialNumber(cert.get()), n >> 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("mailer-fake-ses TEST ONLY"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("sns.fake.localhost"), -1,
                             -1, 0);
  if (X509_set_issuer_name(cert.get(), name) != 1 || X509_set_pubkey(cert.get(), key) != 1 ||
      X509_sign(cert.get(), key, EVP_sha256()) == 0)
    fail("cannot make the certificate");
  return cert;
}

std::string pem_of(X509* cert) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) fail("cannot write the certificate");
  char* data = nullptr;
  long length = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(length));
}

}  // namespace

struct SnsSigner::Key {
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey;
};

SnsSigner::SnsSigner() : m_key(std::make_unique<Key>()) {
  m_key->pkey.reset(EVP_RSA_gen(2048));
  if (!m_key->pkey) fail("cannot generate an RSA-2048 key");
  m_certificate_pem = pem_of(self_signed(m_key->pkey.get()).get());
}

SnsSigner::~SnsSigner() = default;

std::string SnsSigner::sign(std::string_view data) const {
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(data.data());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_key->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes, data.size()) != 1)
    fail("cannot sign");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length, bytes, data.size()) != 1)
    fail("cannot sign");
  signature.resize(length);
  return crypto::base64_encode(signature);
}

}  // namespace mailer::fake_ses
