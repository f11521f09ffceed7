#pragma once
// One page of a list, for every repo that lists rows (SPEC §3 Pagination).
// Keyset first: `after` is the sort key of the last row already seen, so rows
// inserted or deleted between two requests cause neither gaps nor repeats.
// The service layer turns `after` into the opaque API cursor and checks limits.

#include <cstdint>
#include <string>
#include <vector>

namespace mailer::store {

struct PageQuery {
  int limit = 50;           // rows wanted, 1..1000 (checked by the service)
  std::string after;        // sort key of the last row of the previous page; "" = from the start
  std::int64_t offset = 0;  // rows to skip; only used when `after` is empty
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_after;  // sort key of the last item when more rows follow, else ""
};

}  // namespace mailer::store
