#pragma once
// Compiled templates by (template id, version), so a template is parsed once rather
// than once per message or preview. Template versions never change once stored (an
// update adds a version), so an entry never goes stale: an update is a new key.
// Used by each job engine worker (one cache each) and by the render preview route
// (one cache shared by the HTTP threads).

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>

#include "mailer/core/error.hpp"
#include "mailer/render/template.hpp"

namespace mailer::render {

class TemplateCache {
 public:
  /// Loads the parts of a template version on a miss (from the database).
  using Loader = std::function<Result<TemplateParts>()>;

  /// Holds at most `capacity` (>= 1) templates; when full, the whole cache is dropped:
  /// simple, and the templates in use at one time are few.
  explicit TemplateCache(std::size_t capacity = 256);

  /// Version `version` of template `id`, compiled; on a miss `load()` gives its parts
  /// and they are compiled (errors of `load` and compile_template pass through and are
  /// not cached). Counts mailer_template_cache_total{result="hit"|"miss"}.
  /// Thread-safe; the compile runs outside the lock.
  Result<CompiledTemplate> get(const std::string& id, std::int64_t version, const Loader& load);

  /// How many templates it holds.
  std::size_t size() const;

 private:
  using Key = std::pair<std::string, std::int64_t>;
  mutable std::mutex m_mutex;
  std::map<Key, CompiledTemplate> m_compiled;
  std::size_t m_capacity;
};

}  // namespace mailer::render
