#include <catch2/catch.hpp>

#include "mailer/crypto/crypto.hpp"

namespace crypto = mailer::crypto;

TEST_CASE("crypto::sha256_hex matches FIPS 180-4 examples", "[crypto]") {
  CHECK(crypto::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(crypto::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("crypto::hmac_sha256 matches RFC 4231 test case 2", "[crypto]") {
  auto mac = crypto::hmac_sha256("Jefe", "what do ya want for nothing?");
  CHECK(crypto::hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("crypto base64 and base64url round-trip and reject bad input", "[crypto]") {
  std::string out;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xff\xfe\xfd"}) {
    REQUIRE(crypto::base64_decode(crypto::base64_encode(s), out));
    CHECK(out == s);
    REQUIRE(crypto::base64url_decode(crypto::base64url_encode(s), out));
    CHECK(out == s);
  }
  CHECK(crypto::base64_encode("foobar") == "Zm9vYmFy");
  CHECK(crypto::base64_encode("fo") == "Zm8=");
  CHECK(crypto::base64url_encode("\xfb\xff") == "-_8");
  CHECK_FALSE(crypto::base64_decode("Zm9v!mFy", out));
  CHECK_FALSE(crypto::base64_decode("Zm9", out));
  CHECK_FALSE(crypto::base64url_decode("ab+c", out));
  CHECK_FALSE(crypto::base64url_decode("a", out));
}

TEST_CASE("crypto::constant_time_equal and random_bytes", "[crypto]") {
  CHECK(crypto::constant_time_equal("abc", "abc"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "abd"));
  CHECK_FALSE(crypto::constant_time_equal("abc", "ab"));
  auto a = crypto::random_bytes(32);
  auto b = crypto::random_bytes(32);
  CHECK(a.size() == 32);
  CHECK(a != b);
}
