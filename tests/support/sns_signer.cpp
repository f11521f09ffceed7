#include "support/sns_signer.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "mailer/crypto/crypto.hpp"
#include "mailer/sns/verify.hpp"

namespace mailer::test {
namespace {

std::string read_key_pem() {
  const std::string path = std::string(MAILER_SHARED_DIR) + "/testdata/sns/test-signing-key.pem";
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string sign_sha256(const std::string& data) {
  const std::string pem = read_key_pem();
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr),
                                                          EVP_PKEY_free);
  if (!key) throw std::runtime_error("test-signing-key.pem holds no private key");
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::size_t length = 0;
  if (EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(data.data()), data.size()) !=
          1)
    throw std::runtime_error("cannot sign with the test key");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    throw std::runtime_error("cannot sign with the test key");
  signature.resize(length);
  return signature;
}

}  // namespace

std::string signed_notification(const std::string& message, const std::string& sns_message_id,
                                const std::string& topic_arn, int cert_port) {
  sns::Envelope e;
  e.type = sns::MessageType::notification;
  e.type_name = "Notification";
  e.message_id = sns_message_id;
  e.topic_arn = topic_arn;
  e.message = message;
  e.timestamp = "2025-03-14T12:00:00.000Z";
  e.signature_version = "2";
  e.signing_cert_url = "http://127.0.0.1:" + std::to_string(cert_port) + "/cert.pem";
  e.signature = crypto::base64_encode(sign_sha256(sns::string_to_sign(e)));
  return nlohmann::json{{"Type", e.type_name},
                        {"MessageId", e.message_id},
                        {"TopicArn", e.topic_arn},
                        {"Message", e.message},
                        {"Timestamp", e.timestamp},
                        {"SignatureVersion", e.signature_version},
                        {"Signature", e.signature},
                        {"SigningCertURL", e.signing_cert_url},
                        {"UnsubscribeURL", "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"}}
      .dump();
}

}  // namespace mailer::test
