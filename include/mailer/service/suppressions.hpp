#pragma once
// The suppression list as the API and mailerctl see it (SPEC §3, §6):
// addresses are accepted in any spelling and compared case-insensitively
// (render::suppression_key).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mailer/core/clock.hpp"
#include "mailer/core/error.hpp"
#include "mailer/service/common.hpp"
#include "mailer/store/database.hpp"
#include "mailer/store/suppressions.hpp"

namespace mailer::service {

/// Bytes the `detail` object of a suppression added by hand or imported may
/// take as compact JSON: room for a ticket reference and a note, not a
/// document (it is shown on every listing of the address).
inline constexpr std::size_t k_max_suppression_detail_bytes = 4096;

/// POST /v1/suppressions body, or one imported row.
struct SuppressionInput {
  std::string email;
  std::optional<std::string> reason;  // bounce | complaint | unsubscribe | manual (default) | soft_bounce
  std::optional<std::string> scope;   // all | bulk; default: bulk for unsubscribe, else all
  std::string detail_json = "{}";     // a JSON object, at most k_max_suppression_detail_bytes
};

/// What an import stored: rows naming the same address in any spelling
/// (A@x.com, a@x.com) are one suppression, so `stored` + `duplicates` is the
/// number of rows given.
struct ImportCounts {
  std::int64_t stored = 0;      // distinct addresses written (added or updated)
  std::int64_t duplicates = 0;  // rows whose address an earlier row already had
};

class SuppressionService {
 public:
  SuppressionService(store::Database& db, const Clock& clock) : m_db(db), m_clock(clock) {}

  /// Ordered by address; `reason` filters (field "reason"). Paging errors as to_page_query().
  Result<ListPage<store::Suppression>> list(const PageParams& page, const std::optional<std::string>& reason);
  /// Errors: invalid_input (field "email"); not_found.
  Result<store::Suppression> get(const std::string& email);
  /// Adds or widens (see store::SuppressionRepo::add). Errors: invalid_input
  /// with fields "email", "reason", "scope".
  Result<store::Suppression> add(const SuppressionInput& input);
  /// Errors: invalid_input (field "email"); not_found.
  Status remove(const std::string& email);
  /// True when mail of `kind` to `email` (any spelling) is blocked; an
  /// address that does not normalize counts as not suppressed.
  Result<bool> is_suppressed(const std::string& email, store::MessageKind kind);
  /// All rows or none: invalid_input lists every bad row as "rows[i].email"
  /// etc. Returns how many addresses were stored and how many rows repeated
  /// one (such rows are merged as consecutive add() calls would be).
  Result<ImportCounts> import(const std::vector<SuppressionInput>& rows);
  Result<std::vector<store::Suppression>> export_all();

 private:
  store::Database& m_db;
  const Clock& m_clock;
};

/// A suppression as both the API and `mailerctl --json` print it: email,
/// reason, scope, detail (an object; `{}` when the stored detail cannot be
/// read), created_at and updated_at (RFC 3339).
nlohmann::json to_json(const store::Suppression& suppression);

}  // namespace mailer::service
