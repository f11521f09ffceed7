#pragma once
// The suppression rules as the other repos apply them inside their own
// transactions (internal to src/store; defined in suppressions.cpp). The
// decisions themselves are the pure blocks() and merged() of
// mailer/store/suppressions.hpp; these functions only read and write rows.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "mailer/store/suppressions.hpp"
#include "store/sql_util.hpp"

namespace mailer::store::suppression {

/// `address` (normalized) in the one spelling suppressions and events store
/// and compare: ASCII A-Z lowered, as render::suppression_key (which src/store
/// cannot call) makes it. Local parts are ASCII, so nothing else changes case.
std::string key_of(std::string_view address);

/// The hashed spelling of `key` (a key_of() spelling) that an erasure with
/// a hashed suppression stores instead of the address: "sha256:" and the 64
/// lower-case hex digits of SHA-256(salt || key), the salt being this
/// database's (table erasure_salt), read once per connection. Throws like
/// SQLiteCpp.
std::string hashed_key_of(sql::StatementCache& statements, const std::string& key);

/// The reason of the suppression of `key` (a key_of() spelling), stored
/// plain or hashed, when it blocks mail of `kind` (blocks()), else nullopt.
/// One primary-key probe for both spellings; the hash costs about 0.6 µs.
/// Throws like SQLiteCpp.
std::optional<SuppressionReason> blocking_reason(sql::StatementCache& statements, const std::string& key,
                                                 MessageKind kind);

/// Writes `incoming` (its email a key) merged with the stored row as merged()
/// says, stamped `now_ms`; returns the row written, or nullopt when the stored
/// row stays as it is. Throws like SQLiteCpp.
std::optional<Suppression> merge(sql::StatementCache& statements, const Suppression& incoming, SuppressionSource source,
                                 std::int64_t now_ms);

}  // namespace mailer::store::suppression
