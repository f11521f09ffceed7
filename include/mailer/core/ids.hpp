#pragma once
// Public ids: a type prefix and 20 characters of Crockford base32 that sort by
// creation time (48-bit ms timestamp + 52 random bits), like ULID. Sortable ids
// make keyset pagination by id match creation order.

#include <string>
#include <string_view>

namespace mailer::ids {

inline constexpr std::string_view k_template = "tmpl_";
inline constexpr std::string_view k_batch = "bat_";
inline constexpr std::string_view k_message = "msg_";
inline constexpr std::string_view k_key = "key_";
inline constexpr std::string_view k_event = "evt_";
inline constexpr std::string_view k_webhook = "whk_";

/// A new id, e.g. make(k_batch) -> "bat_01JD3K8Q2X7M9P4R5T6V".
std::string make(std::string_view prefix);

/// True when `id` is `prefix` followed by 20 base32 characters.
bool valid(std::string_view id, std::string_view prefix);

}  // namespace mailer::ids
