#include "mailer/service/common.hpp"

#include "mailer/core/ids.hpp"
#include "mailer/crypto/crypto.hpp"

namespace mailer::service {

std::string idempotency_request_hash(std::string_view method, std::string_view route, std::string_view body) {
  std::string text;
  text.reserve(method.size() + route.size() + body.size() + 2);
  text.append(method).append("\n").append(route).append("\n").append(body);
  return crypto::sha256_hex(text);
}

std::string encode_cursor(const std::string& sort_key) { return crypto::base64url_encode(sort_key); }

Result<store::PageQuery> to_page_query(const PageParams& params, std::string_view id_prefix) {
  FieldErrors fields;
  store::PageQuery query;
  query.limit = params.limit.value_or(k_default_page_limit);
  if (query.limit < 1 || query.limit > k_max_page_limit) fields.push_back({"limit", "must be between 1 and 1000"});
  if (params.offset && *params.offset < 0) fields.push_back({"offset", "must not be negative"});
  if (!params.cursor.empty()) {
    bool decoded = crypto::base64url_decode(params.cursor, query.after) && !query.after.empty();
    // One error per field: a cursor given with offset is wrong whatever it holds.
    if (params.offset) fields.push_back({"cursor", "use cursor or offset, not both"});
    else if (!decoded || (!id_prefix.empty() && !ids::valid(query.after, id_prefix)))
      fields.push_back({"cursor", "is not a valid cursor"});
  }
  if (!fields.empty()) return Error{ErrorCode::invalid_input, "invalid paging parameters", std::move(fields)};
  query.offset = params.offset.value_or(0);
  return query;
}

}  // namespace mailer::service
