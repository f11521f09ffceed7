#pragma once
// Thin owners of the OpenSSL primitives mailerd needs (libcrypto 3). No crypto
// is implemented here; these wrap EVP/HMAC/RAND and keep OpenSSL out of every
// other header.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace mailer::crypto {

using Sha256Digest = std::array<std::uint8_t, 32>;

/// SHA-256 (FIPS 180-4) of `data`: 32 raw bytes.
Sha256Digest sha256(std::string_view data);

/// SHA-256 of `data` as 64 lowercase hex characters (SigV4's HexEncode(Hash(x))).
std::string sha256_hex(std::string_view data);

/// HMAC-SHA256 (RFC 2104) of `data` under `key` (any length, raw bytes): 32 raw bytes.
Sha256Digest hmac_sha256(std::string_view key, std::string_view data);

/// Lowercase hex of `bytes`, two characters per byte.
std::string hex(std::string_view bytes);
inline std::string hex(const Sha256Digest& d) {
  return hex(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}
inline std::string_view as_bytes(const Sha256Digest& d) { return {reinterpret_cast<const char*>(d.data()), d.size()}; }

/// `count` bytes from OpenSSL's CSPRNG (RAND_bytes). Throws std::runtime_error if
/// the generator fails, which only happens when the system has no entropy source.
std::string random_bytes(std::size_t count);

/// RFC 4648 §5 base64url without padding, and back. decode returns false on a
/// character outside the alphabet or an impossible length.
std::string base64url_encode(std::string_view bytes);
bool base64url_decode(std::string_view text, std::string& out);

/// RFC 4648 §4 standard base64 with padding, and back (SNS signatures, certificates).
std::string base64_encode(std::string_view bytes);
bool base64_decode(std::string_view text, std::string& out);

/// Equality in time independent of where `a` and `b` differ (CRYPTO_memcmp); false
/// at once when the lengths differ (lengths are not secret here: both are digests).
bool constant_time_equal(std::string_view a, std::string_view b);

/// Overwrites `secret` with zeros (OPENSSL_cleanse), so it does not linger in freed memory.
void wipe(std::string& secret);

}  // namespace mailer::crypto
