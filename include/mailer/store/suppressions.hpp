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
  std::string email;  // suppression key (lowercase normalized address)
  SuppressionReason reason = SuppressionReason::manual;
  SuppressionScope scope = SuppressionScope::all;
  std::string detail_json = "{}";  // e.g. {"bounce_type":"Permanent"}
  std::int64_t created_at_ms = 0;
  std::int64_t updated_at_ms = 0;
};

/// Whether `email` is the hashed spelling an erasure stores for a suppressed
/// address it was asked to hash (docs/API.md "Erasing an address"):
/// "sha256:" followed by 64 lower-case hex digits. Such a row blocks mail to
/// the address whose salted hash it is, and to no other.
bool is_hashed_suppression_key(std::string_view email);

/// True when a suppression of `scope` blocks mail of `kind`: `all` blocks both
/// kinds, `bulk` only bulk (SPEC §6: unsubscribe does not stop transactional mail).
/// The one block rule: accept, the transactional insert, the claim and
/// is_suppressed all decide through it.
bool blocks(SuppressionScope scope, MessageKind kind);

/// Who adds a suppression; decides how it merges with a stored one.
enum class SuppressionSource {
  /// An operator (API, mailerctl add/import) states what the row should be: it
  /// replaces the stored row, except that it never narrows it (a stored scope
  /// `all` keeps its reason and detail against a new `bulk`).
  operator_request,
  /// SES feedback and unsubscribe links only ever add: a row is written when
  /// none is stored, or when a new scope `all` widens a stored `bulk` or
  /// hardens a stored soft_bounce; otherwise the stored row stays untouched.
  feedback,
};

/// The row to store when `incoming` (times already set) meets `stored` (the
/// row for the same email, nullopt when none), or nullopt when nothing is
/// written. The written row keeps `stored`'s created_at_ms. The one merge rule:
/// SuppressionRepo::add/import and FeedbackRepo all write through it.
/// Example: stored bounce/all, incoming unsubscribe/bulk, operator_request ->
/// bounce/all with incoming's updated_at_ms; feedback -> nullopt.
std::optional<Suppression> merged(const std::optional<Suppression>& stored, const Suppression& incoming,
                                  SuppressionSource source);

class SuppressionRepo {
 public:
  SuppressionRepo(Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Page ordered by email; `after` is the last email seen. `reason` filters.
  Result<Page<Suppression>> list(const PageQuery& page, std::optional<SuppressionReason> reason = std::nullopt);
  /// The row of `key`, else the hashed row of it (its email the hash).
  /// Errors: not_found naming the address.
  Result<Suppression> get(const std::string& key);
  /// Adds or updates `s.email` (a suppression key; created/updated times are
  /// set here), merged as merged(..., operator_request) says: an existing
  /// entry is replaced unless that would narrow it (an unsubscribe never
  /// lifts a bounce). Returns the stored row.
  Result<Suppression> add(const Suppression& s);
  /// Lifts the suppression of `key`, plain and hashed. Errors: not_found
  /// when the address is not suppressed.
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
