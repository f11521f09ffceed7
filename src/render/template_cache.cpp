#include "mailer/render/template_cache.hpp"

#include <algorithm>

#include "mailer/core/metrics.hpp"

namespace mailer::render {

TemplateCache::TemplateCache(std::size_t capacity) : m_capacity(std::max<std::size_t>(capacity, 1)) {}

Result<CompiledTemplate> TemplateCache::get(const std::string& id, std::int64_t version, const Loader& load) {
  Key key{id, version};
  {
    std::scoped_lock lock(m_mutex);
    if (auto found = m_compiled.find(key); found != m_compiled.end()) {
      metrics::count_template_cache_lookup("hit");
      return found->second;
    }
  }
  metrics::count_template_cache_lookup("miss");
  auto parts = load();
  if (!parts) return std::move(parts).error();
  auto compiled = compile_template(*parts);
  if (!compiled) return compiled;
  std::scoped_lock lock(m_mutex);
  if (m_compiled.size() >= m_capacity) m_compiled.clear();
  m_compiled.insert_or_assign(std::move(key), *compiled);
  return compiled;
}

std::size_t TemplateCache::size() const {
  std::scoped_lock lock(m_mutex);
  return m_compiled.size();
}

}  // namespace mailer::render
