#include "mailer/core/ids.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

// An id is 100 bits written as 20 Crockford base32 characters, most significant
// first: 48 bits of milliseconds since the epoch, then 52 bits that start random.
// Within one process ids are strictly increasing: when the clock has not moved
// past the last id's millisecond (same ms, or the clock stepped back), the last
// id's low part is incremented instead of drawing a new random one, as ULID's
// monotonic mode does. So "ORDER BY id" is creation order for keyset pagination.
// The randomness only keeps ids from different processes apart; ids are not
// secrets, so a seeded PRNG serves (and keeps core free of OpenSSL).

namespace mailer::ids {
namespace {

constexpr std::string_view k_alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";  // Crockford
constexpr std::size_t k_body_length = 20;
constexpr std::uint64_t k_random_bits = 52;
constexpr std::uint64_t k_random_mask = (std::uint64_t{1} << k_random_bits) - 1;
constexpr std::uint64_t k_time_mask = (std::uint64_t{1} << 48) - 1;

struct Generator {
  std::mutex mutex;
  std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t last_ms = 0;
  std::uint64_t last_random = 0;

  // The (time, random) pair of the next id.
  std::pair<std::uint64_t, std::uint64_t> next(std::uint64_t now_ms) {
    std::scoped_lock lock(mutex);
    if (now_ms > last_ms) {
      last_ms = now_ms;
      // Leave headroom so increments within one millisecond rarely overflow.
      last_random = (rng() & k_random_mask) >> 1;
    } else if (++last_random > k_random_mask) {
      // 2^51 ids in one millisecond: borrow the next millisecond.
      ++last_ms;
      last_random = 0;
    }
    return {last_ms & k_time_mask, last_random};
  }
};

Generator& generator() {
  static Generator instance;
  return instance;
}

std::string encode(std::uint64_t time_ms, std::uint64_t random) {
  // The 100-bit number is split at a character boundary: the low 60 bits (12
  // chars) hold the 8 lowest time bits and the 52 random bits, the high 40 bits
  // (8 chars) the remaining time bits.
  std::string out(k_body_length, '0');
  std::uint64_t low = ((time_ms & 0xff) << k_random_bits) | random;
  std::uint64_t high = time_ms >> 8;
  for (std::size_t i = 0; i < 12; ++i) {  // 12 chars x 5 bits = 60 low bits
    out[k_body_length - 1 - i] = k_alphabet[low & 31];
    low >>= 5;
  }
  for (std::size_t i = 12; i < k_body_length; ++i) {  // 8 chars x 5 bits = 40 high bits
    out[k_body_length - 1 - i] = k_alphabet[high & 31];
    high >>= 5;
  }
  return out;
}

}  // namespace

std::string make(std::string_view prefix) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  auto [time_ms, random] = generator().next(static_cast<std::uint64_t>(ms));
  return std::string(prefix) + encode(time_ms, random);
}

bool valid(std::string_view id, std::string_view prefix) {
  if (id.size() != prefix.size() + k_body_length || id.substr(0, prefix.size()) != prefix) return false;
  for (char c : id.substr(prefix.size()))
    if (k_alphabet.find(c) == std::string_view::npos) return false;
  return true;
}

}  // namespace mailer::ids
