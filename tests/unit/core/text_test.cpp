#include <catch2/catch.hpp>

#include "mailer/core/text.hpp"

using mailer::text::name_problem;

TEST_CASE("name_problem refuses empty, long and control-character names", "[core]") {
  CHECK_FALSE(name_problem("welcome", 10));
  CHECK(name_problem("", 10) == "must be 1 to 10 characters");
  CHECK(name_problem("elevenchars", 10) == "must be 1 to 10 characters");
  for (std::string name : {std::string("a\0b", 3), std::string("a\nb"), std::string("a\tb"), std::string("a\x7f")}) {
    INFO(name);
    CHECK(name_problem(name, 10) == "must not contain control characters (line breaks, tabs, NUL)");
  }
}
