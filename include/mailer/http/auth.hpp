#pragma once
// Authentication of API calls: `Authorization: Bearer <key>` (RFC 6750 §2.1)
// checked against the key store, then the route's scope (read < send < admin).

#include <optional>
#include <string>
#include <string_view>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/http/router.hpp"
#include "mailer/store/keys.hpp"

namespace mailer::store {
class Database;
}

namespace mailer::http {

/// The token of an `Authorization` header value "Bearer <token>" (scheme
/// case-insensitive, surrounding spaces ignored), or nullopt when absent,
/// another scheme, or empty.
std::optional<std::string> parse_bearer(std::string_view header_value);

/// The store scope a route needs; nullopt for Access::none.
std::optional<store::Scope> required_scope(Access access);

/// The key an `Authorization` header value presents, whatever the route
/// needs. Errors: unauthorized (no, malformed, unknown or revoked key);
/// storage_unavailable from the store. Records the key's last use.
Result<store::ApiKey> identify_key(std::string_view authorization_header, store::Database& db, const Clock& clock);

/// Whether `key` may call a route needing `access`. Errors: forbidden (scope
/// too low), naming the key, its scope and the one needed.
Status check_scope(const store::ApiKey& key, Access access);

/// identify_key, then check_scope: the caller of a route needing `access`.
Result<store::ApiKey> authenticate(std::string_view authorization_header, Access access, store::Database& db,
                                   const Clock& clock);

}  // namespace mailer::http
