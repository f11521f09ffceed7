#include "mailer/service/erasure.hpp"

#include "mailer/core/log.hpp"
#include "mailer/store/suppressions.hpp"
#include "service/validation.hpp"

namespace mailer::service {

Result<store::ErasureResult> ErasureService::erase(const std::string& email, store::SuppressionHashing hashing,
                                                   const std::string& actor) {
  detail::Errors errors;
  if (store::is_hashed_suppression_key(email)) {
    errors.push_back({"email", "is a hashed suppression, not an address; nothing else is stored under it"});
    return detail::invalid("invalid address", std::move(errors));
  }
  auto key = detail::check_suppression_key(email, "email", errors);
  if (!key) return detail::invalid("invalid address", std::move(errors));
  auto erased = store::ErasureRepo(m_db, m_clock).erase(*key, hashing, actor);
  if (!erased) return erased;
  // The hash, never the address: a log line is kept longer than the rows were.
  log::info("address erased", {{"address_hash", erased->address_hash},
                               {"actor", actor},
                               {"messages", erased->counts.messages},
                               {"events", erased->counts.events},
                               {"suppression", store::to_string(erased->suppression)}});
  return erased;
}

nlohmann::json to_json(const store::ErasureResult& result) {
  auto erased = nlohmann::json::object();
  for (const auto& [name, n] : store::named_counts(result.counts)) erased[name] = n;
  return {{"erased", erased},
          {"suppression", store::to_string(result.suppression)},
          {"address_hash", result.address_hash},
          {"wal_checkpointed", result.wal_checkpointed}};
}

}  // namespace mailer::service
