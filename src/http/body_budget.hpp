#pragma once
// How many bytes of large request bodies mailerd holds at once, across all
// connections. Private to src/http/.
//
// Why: server.max_body_bytes bounds one body, not their sum. A 60 MB batch
// body raised the peak RSS by ~350 MB (the body, its parsed JSON, the
// recipients built from it), and four at once by ~1.3 GB, so a few keyed
// clients could exhaust memory. Each body over k_min_counted_body_bytes
// reserves its size here before it is read (its declared Content-Length, or
// chunk by chunk) and keeps it until its request is answered; a body that
// does not fit is answered 503 with Retry-After before it is read. Small
// bodies (single messages, SNS notifications, unsubscribes: at most 512 KiB
// unkeyed) are not counted, so they never wait behind a large upload; they
// are bounded per connection by server.max_connections instead.

#include <cstddef>
#include <mutex>

namespace mailer::http {

/// Bodies this size or smaller are not counted, in bytes.
inline constexpr std::size_t k_min_counted_body_bytes = 1024 * 1024;

class BodyBudget {
 public:
  /// `max_bytes`: server.max_body_bytes_in_flight, resolved (> 0).
  explicit BodyBudget(std::size_t max_bytes) : m_max_bytes(max_bytes) {}

  /// Adds `bytes` to the sum held; false (and nothing added) when the sum
  /// would pass max_bytes.
  bool try_reserve(std::size_t bytes);
  /// Gives back `bytes` from an earlier try_reserve.
  void release(std::size_t bytes);
  /// The sum held now, in bytes.
  std::size_t in_use() const;
  std::size_t max_bytes() const { return m_max_bytes; }

 private:
  mutable std::mutex m_mutex;
  const std::size_t m_max_bytes;
  std::size_t m_in_use = 0;
};

/// One request's share of a BodyBudget: grows with the body, returned by
/// reset() or when the reservation is destroyed (the connection ends).
class BodyReservation {
 public:
  BodyReservation() = default;
  ~BodyReservation() { reset(); }
  BodyReservation(const BodyReservation&) = delete;
  BodyReservation& operator=(const BodyReservation&) = delete;

  /// Holds `total` body bytes from `budget` (the part past what is already
  /// held is reserved). Bodies of at most k_min_counted_body_bytes hold
  /// nothing. False when the budget cannot take the difference; what was
  /// held stays held.
  bool grow_to(BodyBudget& budget, std::size_t total);
  /// Returns what is held.
  void reset();
  std::size_t held() const { return m_bytes; }

 private:
  BodyBudget* m_budget = nullptr;
  std::size_t m_bytes = 0;
};

}  // namespace mailer::http
