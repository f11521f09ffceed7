// Key checks against the store, apart from auth.cpp's pure parsing so the unit
// tests of the parser do not need a database.
#include <fmt/format.h>

#include "mailer/http/auth.hpp"
#include "mailer/store/database.hpp"

namespace mailer::http {

Result<store::ApiKey> identify_key(std::string_view authorization_header, store::Database& db, const Clock& clock) {
  auto token = parse_bearer(authorization_header);
  if (!token) {
    return make_error(ErrorCode::unauthorized, "this route needs an API key: send 'Authorization: Bearer <key>'");
  }
  return store::KeyRepo(db, clock).authenticate(*token);
}

Status check_scope(const store::ApiKey& key, Access access) {
  auto need = required_scope(access);
  if (need && !store::allows(key.scope, *need)) {
    return make_error(ErrorCode::forbidden, fmt::format("key {} has scope '{}'; this route needs '{}'", key.id,
                                                        store::to_string(key.scope), store::to_string(*need)));
  }
  return {};
}

Result<store::ApiKey> authenticate(std::string_view authorization_header, Access access, store::Database& db,
                                   const Clock& clock) {
  auto key = identify_key(authorization_header, db, clock);
  if (!key) return key;
  if (auto allowed = check_scope(*key, access); !allowed) return allowed.error();
  return key;
}

}  // namespace mailer::http
