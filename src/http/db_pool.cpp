#include "mailer/http/db_pool.hpp"

namespace mailer::http {

DbPool::Lease::~Lease() {
  if (m_db) m_pool->give_back(std::move(m_db));
}

Result<DbPool::Lease> DbPool::acquire() {
  {
    std::scoped_lock lock(m_mutex);
    if (!m_idle.empty()) {
      auto db = std::move(m_idle.back());
      m_idle.pop_back();
      return Lease(*this, std::move(db));
    }
  }
  // Opening happens outside the lock: it touches the disk and may wait on busy_timeout.
  auto db = store::Database::open(m_path);
  if (!db) return std::move(db).error();
  return Lease(*this, std::move(*db));
}

void DbPool::give_back(std::unique_ptr<store::Database> db) {
  std::scoped_lock lock(m_mutex);
  if (m_idle.size() < m_max_idle) m_idle.push_back(std::move(db));
}

}  // namespace mailer::http
