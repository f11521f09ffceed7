#pragma once
// The suppression list (SPEC §6): addresses mail must not go to. Rows are keyed
// by render::suppression_key (the normalized address, lowercased), so lookups
// are case-insensitive. Scope `all` blocks every message; scope `bulk` (from an
// unsubscribe) blocks bulk mail only.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/messages.hpp"  // MessageKind
#include "mailer/store/page.hpp"

namespace mailer::store {

enum class SuppressionReason { bounce, complaint, unsubscribe, manual, soft_bounce };
enum class SuppressionScope { all, bulk };

const char* to_string(SuppressionReason reason);
const char* to_string(SuppressionScope scope);
std::optional<SuppressionReason> parse_suppression_reason(std::string_view text);
std::optional<SuppressionScope> parse_suppression_scope(std::string_view text);
/// The scope a reason implies: `bulk` for unsubscribe, `all` otherwise.
SuppressionScope default_scope(SuppressionReason reason);

struct Suppression {
  std::string email;                 // suppression key (lowercase normalized address)
  SuppressionReason reason = SuppressionReason::manual;
  SuppressionScope scope = SuppressionScope::all;
  std::string detail_json = "{}";    // e.g. {"bounce_type":"Permanent"}
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

/// True when a suppression of `scope` blocks mail of `kind`: `all` blocks both
/// kinds, `bulk` only bulk (SPEC §6: unsubscribe does not stop transactional mail).
bool blocks(SuppressionScope scope, MessageKind kind);

class SuppressionRepo {
 public:
  SuppressionRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Page ordered by email; `after` is the last email seen. `reason` filters.
  Result<Page<Suppression>> list(const PageQuery& page,
                                 std::optional<SuppressionReason> reason = std::nullopt);
  /// Errors: not_found naming the address.
  Result<Suppression> get(const std::string& key);
  /// Adds or updates `s.email` (a suppression key; created/updated times are
  /// set here). An existing entry is replaced unless that would narrow it: an
  /// existing scope `all` is kept over a new `bulk` (an unsubscribe never
  /// lifts a bounce). Returns the stored row.
  Result<Suppression> add(const Suppression& s);
  /// Errors: not_found when the address is not suppressed.
  Status remove(const std::string& key);
  /// True when mail of `kind` to `key` is blocked. Errors: storage_unavailable.
  Result<bool> is_suppressed(const std::string& key, MessageKind kind);
  /// add() for each row in one transaction (mailerctl import); returns how many.
  Result<std::int64_t> import(const std::vector<Suppression>& rows);
  /// Every row ordered by email (mailerctl export).
  Result<std::vector<Suppression>> export_all();

 private:
  Database& m_db;
  const Clock& m_clock;
};

}  // namespace mailer::store
