#pragma once
// Pieces every service shares: list paging in API terms and the engine hook.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/page.hpp"

namespace mailer::service {

/// Called after a commit that made work claimable (a batch, a message, a
/// resume), so mailerd can wake idle workers at once instead of at their next
/// poll. Runs on the caller's thread; must be cheap and must not throw.
using OnEnqueued = std::function<void()>;

inline constexpr int k_default_page_limit = 50;
inline constexpr int k_max_page_limit = 1000;

/// Paging as the API receives it (SPEC §3): `limit` (default 50, 1..1000), and
/// either `cursor` (opaque, from a previous next_cursor) or `offset` (≥ 0).
struct PageParams {
  std::optional<int> limit;
  std::string cursor;  // "" = first page
  std::optional<std::int64_t> offset;
};

/// One page in API shape: `{data, next_cursor}`; next_cursor is "" on the last page.
template <typename T>
struct ListPage {
  std::vector<T> data;
  std::string next_cursor;
};

/// The repo query for `params`. A list ordered by public id passes its prefix
/// (ids::k_template...) as `id_prefix`, and a cursor must then decode to such an
/// id: a made-up or foreign cursor would otherwise page from an arbitrary spot.
/// Errors: invalid_input with fields "limit" ("must be between 1 and 1000"),
/// "offset" ("must not be negative"), "cursor" ("is not a valid cursor", or
/// "use cursor or offset, not both").
Result<store::PageQuery> to_page_query(const PageParams& params, std::string_view id_prefix = {});

/// The request_hash for store::IdempotencyRepo: SHA-256 hex of `method`,
/// `route` (the path as requested) and `body`, newline-separated (HTTP
/// methods and paths hold no newline), so the same key reused on another
/// endpoint or with another body is a conflict.
std::string idempotency_request_hash(std::string_view method, std::string_view route, std::string_view body);

/// The opaque cursor for a repo's sort key: base64url without padding.
std::string encode_cursor(const std::string& sort_key);

/// A repo page as an API page.
template <typename T>
ListPage<T> to_list_page(store::Page<T>&& page) {
  return ListPage<T>{std::move(page.items), page.next_after.empty() ? std::string() : encode_cursor(page.next_after)};
}

}  // namespace mailer::service
