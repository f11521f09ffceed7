#include "http/body_budget.hpp"

namespace mailer::http {

bool BodyBudget::try_reserve(std::size_t bytes) {
  std::lock_guard lock(m_mutex);
  if (bytes > m_max_bytes - m_in_use) return false;
  m_in_use += bytes;
  return true;
}

void BodyBudget::release(std::size_t bytes) {
  std::lock_guard lock(m_mutex);
  m_in_use -= bytes < m_in_use ? bytes : m_in_use;
}

std::size_t BodyBudget::in_use() const {
  std::lock_guard lock(m_mutex);
  return m_in_use;
}

bool BodyReservation::grow_to(BodyBudget& budget, std::size_t total) {
  if (total <= k_min_counted_body_bytes || total <= m_bytes) return true;
  if (m_budget != nullptr && m_budget != &budget) reset();
  if (!budget.try_reserve(total - m_bytes)) return false;
  m_budget = &budget;
  m_bytes = total;
  return true;
}

void BodyReservation::reset() {
  if (m_budget != nullptr) m_budget->release(m_bytes);
  m_budget = nullptr;
  m_bytes = 0;
}

}  // namespace mailer::http
