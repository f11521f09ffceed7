#pragma once
// The dead-letter queue as the API and mailerctl see it: failed messages
// listed, sent back to the queue, or deleted for good. Both surfaces call
// this service, so they follow one rule:
//  - retry by ids moves every listed id that is in the DLQ and reports each
//    one that is not (unknown id, or a message in another state), so a typo
//    is never a silent no-op and never stops the other ids;
//  - purge needs a cut-off or an explicit `all`: a request that names
//    neither is refused rather than read as "delete everything".

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"

namespace mailer::service {

/// What a retry by ids did: the ids put back in the queue, in the order
/// given and each once however often given, and one FieldError {id, why}
/// per id left alone, e.g.
/// {"msg_x", "not found"} or {"msg_y", "not in the DLQ (state queued)"}.
struct DlqRetried {
  std::vector<std::string> retried;
  std::vector<FieldError> not_retried;
};

/// Which failed messages a purge deletes: those that failed before
/// `failed_before_ms` (ms since the epoch), or every one when `all`.
/// Exactly one of the two must be given.
struct DlqPurgeScope {
  std::optional<std::int64_t> failed_before_ms;
  bool all = false;
};

class DlqService {
 public:
  DlqService(store::Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Oldest failure first, `limit` (1-1000) entries after `cursor` ("" = the
  /// start). Errors: invalid_input (bad cursor or limit).
  Result<store::DlqPage> list(int limit, const std::string& cursor);
  /// Requeues (attempts 0, due now) the ids that are failed messages; see
  /// DlqRetried for the others. Errors: storage_unavailable.
  Result<DlqRetried> retry(const std::vector<std::string>& ids);
  /// Requeues every failed message; returns how many.
  Result<int> retry_all();
  /// Deletes the failed messages `scope` names; returns how many. Errors:
  /// invalid_input, field "older_than", when `scope` gives neither a cut-off
  /// nor `all`, or both.
  Result<int> purge(const DlqPurgeScope& scope);

 private:
  store::Database& m_db;
  const Clock& m_clock;
};

/// A DLQ entry as both the API and `mailerctl --json` print it: id, batch_id
/// (or null), kind, email, attempts, last_error_code, last_error, failed_at
/// (RFC 3339).
nlohmann::json to_json(const store::DlqEntry& entry);

}  // namespace mailer::service
