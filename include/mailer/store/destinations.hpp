#pragma once
// The recipients of a transactional message as the `messages` row keeps them
// (schema 0007 destinations_json): To, Cc and Bcc lists of normalized
// addresses. Written at acceptance without the addresses suppressed then, and
// read by the claim (which drops addresses suppressed since) and the composer.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"

namespace mailer::store {

/// SES v2 SendEmail: at most 50 recipients in To, Cc and Bcc together.
/// https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_Destination.html
inline constexpr std::size_t k_max_destinations = 50;

struct Destinations {
  std::vector<std::string> to;
  std::vector<std::string> cc;
  std::vector<std::string> bcc;
  std::size_t size() const { return to.size() + cc.size() + bcc.size(); }
  /// The first address of to, then cc, then bcc; "" when there is none.
  std::string first() const;
  friend bool operator==(const Destinations&, const Destinations&) = default;
};

/// An address left out of a message because a suppression blocks it.
struct DroppedRecipient {
  std::string email;   // normalized, lower case (the suppression key)
  std::string field;   // "to", "cc" or "bcc"
  std::string reason;  // the suppression's reason, e.g. "bounce"
  friend bool operator==(const DroppedRecipient&, const DroppedRecipient&) = default;
};

/// The one way destinations are written: {"to":[...],"cc":[...],"bcc":[...]}.
std::string write_destinations(const Destinations& destinations);
/// Reads the column back: an object of up to three arrays of non-empty
/// strings, 1 to 50 addresses in all. Error (invalid_input), detail
/// "stored destinations: <problem>".
Result<Destinations> read_destinations(std::string_view stored);

/// [{"email","field","reason"}...], the suppressed_json column.
std::string write_dropped(const std::vector<DroppedRecipient>& dropped);

}  // namespace mailer::store
