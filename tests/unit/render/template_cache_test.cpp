#include <catch2/catch.hpp>

#include "mailer/core/metrics.hpp"
#include "mailer/render/template_cache.hpp"

using mailer::ErrorCode;
using mailer::Result;
namespace render = mailer::render;

namespace {

/// A loader that counts its calls and gives `parts`.
struct CountingLoader {
  render::TemplateParts parts;
  int calls = 0;
  render::TemplateCache::Loader loader() {
    return [this]() -> Result<render::TemplateParts> {
      ++calls;
      return parts;
    };
  }
};

double lookups(const char* result) {
  return mailer::metrics::global()
      .counter("mailer_template_cache_total", "Compiled-template lookups by result: hit, or miss (compiled).",
               {"result"})
      .value({result});
}

std::string subject_of(const Result<render::CompiledTemplate>& compiled) {
  REQUIRE(compiled);
  auto rendered = render::render(*compiled, nlohmann::json{{"n", "Ana"}});
  REQUIRE(rendered);
  return rendered->subject;
}

}  // namespace

TEST_CASE("render::TemplateCache compiles a version once", "[render]") {
  render::TemplateCache cache;
  CountingLoader v1{{"Hi {{n}}", std::nullopt, "t"}};
  const double hits = lookups("hit");
  const double misses = lookups("miss");
  CHECK(subject_of(cache.get("tmpl_a", 1, v1.loader())) == "Hi Ana");
  CHECK(subject_of(cache.get("tmpl_a", 1, v1.loader())) == "Hi Ana");
  CHECK(v1.calls == 1);
  CHECK(lookups("hit") == hits + 1);
  CHECK(lookups("miss") == misses + 1);

  SECTION("an update is a new version, compiled from its own parts") {
    CountingLoader v2{{"Hello {{n}}", std::nullopt, "t"}};
    CHECK(subject_of(cache.get("tmpl_a", 2, v2.loader())) == "Hello Ana");
    CHECK(v2.calls == 1);
    CHECK(subject_of(cache.get("tmpl_a", 1, v1.loader())) == "Hi Ana");  // the pinned old one stays
    CHECK(v1.calls == 1);
  }
  SECTION("another template with the same version is another entry") {
    CountingLoader other{{"Yo {{n}}", std::nullopt, "t"}};
    CHECK(subject_of(cache.get("tmpl_b", 1, other.loader())) == "Yo Ana");
  }
}

TEST_CASE("render::TemplateCache keeps no failures and stays bounded", "[render]") {
  render::TemplateCache cache(2);
  int calls = 0;
  auto missing = [&]() -> Result<render::TemplateParts> {
    ++calls;
    return mailer::Error{ErrorCode::not_found, "no version 9"};
  };
  CHECK(cache.get("tmpl_a", 9, missing).error().code == ErrorCode::not_found);
  CHECK(cache.get("tmpl_a", 9, missing).error().code == ErrorCode::not_found);
  CHECK(calls == 2);
  CountingLoader bad{{"{{#a}}", std::nullopt, "t"}};
  CHECK(cache.get("tmpl_bad", 1, bad.loader()).error().code == ErrorCode::invalid_input);
  CHECK(cache.size() == 0);

  CountingLoader good{{"s", std::nullopt, "t"}};
  for (int version = 1; version <= 5; ++version) REQUIRE(cache.get("tmpl_a", version, good.loader()));
  CHECK(cache.size() <= 2);
}
