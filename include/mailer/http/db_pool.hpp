#pragma once
// Database connections for request threads. A SQLite connection must not be
// shared between threads (STYLE §5), and cpp-httplib runs handlers on a pool
// of threads, so each request leases a connection and gives it back. Idle
// connections are kept (at most `max_idle`) so a request rarely opens one.

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::http {

class DbPool {
 public:
  explicit DbPool(std::string path, std::size_t max_idle = 16) : m_path(std::move(path)), m_max_idle(max_idle) {}

  /// One connection for the holder's use only; returned to the pool on destruction.
  class Lease {
   public:
    Lease(DbPool& pool, std::unique_ptr<store::Database> db) : m_pool(&pool), m_db(std::move(db)) {}
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    store::Database& operator*() { return *m_db; }
    store::Database* operator->() { return m_db.get(); }

   private:
    DbPool* m_pool;
    std::unique_ptr<store::Database> m_db;
  };

  /// An idle connection or a newly opened one. Errors: storage_unavailable
  /// from store::Database::open.
  Result<Lease> acquire();
  const std::string& path() const { return m_path; }

 private:
  void give_back(std::unique_ptr<store::Database> db);

  std::string m_path;
  std::size_t m_max_idle;
  std::mutex m_mutex;
  std::vector<std::unique_ptr<store::Database>> m_idle;
};

}  // namespace mailer::http
