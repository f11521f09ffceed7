#include <catch2/catch.hpp>

#include <set>

#include "mailer/core/ids.hpp"

namespace ids = mailer::ids;

TEST_CASE("ids::make gives a prefix and 20 base32 characters", "[core]") {
  auto id = ids::make(ids::k_batch);
  CHECK(id.size() == 4 + 20);
  CHECK(id.rfind("bat_", 0) == 0);
  CHECK(ids::valid(id, ids::k_batch));
  CHECK_FALSE(ids::valid(id, ids::k_message));
}

TEST_CASE("ids::make sorts by creation and never repeats", "[core]") {
  std::vector<std::string> made;
  for (int i = 0; i < 5000; ++i) made.push_back(ids::make(ids::k_message));
  CHECK(std::is_sorted(made.begin(), made.end()));
  CHECK(std::set<std::string>(made.begin(), made.end()).size() == made.size());
}

TEST_CASE("ids::valid rejects malformed ids", "[core]") {
  CHECK_FALSE(ids::valid("", ids::k_key));
  CHECK_FALSE(ids::valid("key_", ids::k_key));
  CHECK_FALSE(ids::valid("key_0123456789ABCDEFGHJ", ids::k_key));    // 19
  CHECK_FALSE(ids::valid("key_0123456789ABCDEFGHJKM", ids::k_key));  // 21
  CHECK_FALSE(ids::valid("key_0123456789ABCDEFGHIK", ids::k_key));   // I is not Crockford
  CHECK_FALSE(ids::valid("key_0123456789abcdefghjk", ids::k_key));   // lowercase
  CHECK(ids::valid("key_0123456789ABCDEFGHJK", ids::k_key));
}
