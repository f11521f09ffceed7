// Key checks against the store, apart from auth.cpp's pure parsing so the unit
// tests of the parser do not need a database.
#include <fmt/format.h>

#include "mailer/http/auth.hpp"
#include "mailer/store/database.hpp"

namespace mailer::http {

Result<store::ApiKey> authenticate(std::string_view authorization_header, Access access, store::Database& db,
                                   const Clock& clock) {
  auto token = parse_bearer(authorization_header);
  if (!token) {
    return make_error(ErrorCode::unauthorized, "this route needs an API key: send 'Authorization: Bearer <key>'");
  }
  store::KeyRepo keys(db, clock);
  auto key = keys.authenticate(*token);
  if (!key) return key;
  auto need = required_scope(access);
  if (need && !store::allows(key->scope, *need)) {
    return make_error(ErrorCode::forbidden, fmt::format("key {} has scope '{}'; this route needs '{}'", key->id,
                                                        store::to_string(key->scope), store::to_string(*need)));
  }
  return key;
}

}  // namespace mailer::http
