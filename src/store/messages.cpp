#include "mailer/store/messages.hpp"

#include <cstring>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mailer/core/ids.hpp"
#include "mailer/crypto/crypto.hpp"
#include "mailer/store/events.hpp"
#include "store/batch_status_writer.hpp"
#include "store/attachment_rows.hpp"
#include "store/sql_util.hpp"
#include "store/suppression_rules.hpp"

// How the job table is used (docs/ARCHITECTURE.md "Durability guarantees"):
//
// claim() selects due rows through the partial index messages_claim and marks
// them `sending` inside BEGIN IMMEDIATE, so no two connections can pick the
// same row. Each claim gets a random lease token; every later write for that
// claim says `WHERE id = ? AND lease_token = ? AND state = 'sending'`, so a
// worker whose lease was reaped and re-claimed can no longer touch the row
// (the fencing token pattern). The token is random rather than a counter so
// that no connection needs to know the others' state.
//
// Batch counts are never written here: the triggers of schema 0001 follow
// every `state` change. Only purge_dlq, which deletes rows, adjusts them.

namespace mailer::store {
namespace {

std::int64_t random_lease_token() {
  std::string bytes = crypto::random_bytes(sizeof(std::uint64_t));
  std::uint64_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof(value));
  // 63 bits, never 0: SQLite integers are signed, and 0 reads as "no token".
  value &= 0x7fffffffffffffffULL;
  return value == 0 ? 1 : static_cast<std::int64_t>(value);
}

MessageKind parse_kind(const std::string& text) {
  return text == "transactional" ? MessageKind::transactional : MessageKind::bulk;
}

// Column order of read_claimed().
constexpr const char* k_select_due =
    "SELECT m.id, m.batch_id, m.kind, m.email, m.variables_json, m.attempts,"
    "       m.template_id, m.template_version, m.subject, m.html, m.text, m.from_address,"
    "       m.reply_to_json, m.tags_json, m.configuration_set, m.destinations_json, m.headers_json"
    "  FROM messages m"
    " WHERE m.state = 'queued' AND m.paused = 0 AND m.run_at_ms <= ?";
constexpr const char* k_claim_order = " ORDER BY m.priority, m.run_at_ms LIMIT ?";

ClaimedMessage read_claimed(SQLite::Statement& row) {
  ClaimedMessage m;
  m.id = row.getColumn(0).getString();
  m.batch_id = sql::optional_text(row.getColumn(1));
  m.kind = parse_kind(row.getColumn(2).getString());
  m.email = row.getColumn(3).getString();
  m.variables_json = row.getColumn(4).getString();
  m.attempts = row.getColumn(5).getInt() + 1;
  m.template_id = sql::optional_text(row.getColumn(6));
  m.template_version = sql::optional_int64(row.getColumn(7));
  m.subject = sql::optional_text(row.getColumn(8));
  m.html = sql::optional_text(row.getColumn(9));
  m.text = sql::optional_text(row.getColumn(10));
  m.from_address = sql::optional_text(row.getColumn(11));
  m.reply_to_json = sql::optional_text(row.getColumn(12));
  m.tags_json = sql::optional_text(row.getColumn(13));
  m.configuration_set = sql::optional_text(row.getColumn(14));
  m.destinations_json = sql::optional_text(row.getColumn(15));
  m.headers_json = sql::optional_text(row.getColumn(16));
  return m;
}

// A message with destinations is blocked when each of them is; those blocked
// while others are not are left out of this send (`dropped`). A row whose
// destinations cannot be read is left to the composer, which fails it naming
// the problem.
void check_destinations(sql::StatementCache& cache, ClaimedMessage& m) {
  auto destinations = read_destinations(*m.destinations_json);
  if (!destinations) return;
  std::size_t blocked = 0;
  const std::pair<const char*, const std::vector<std::string>*> lists[] = {
      {"to", &destinations->to}, {"cc", &destinations->cc}, {"bcc", &destinations->bcc}};
  for (const auto& [field, list] : lists) {
    for (const auto& address : *list) {
      auto reason = suppression::blocking_reason(cache, suppression::key_of(address), m.kind);
      if (!reason) continue;
      ++blocked;
      if (!m.suppression_reason) m.suppression_reason = reason;
      m.dropped.push_back({address, field, to_string(*reason)});
    }
  }
  if (blocked < destinations->size()) m.suppression_reason.reset();
  else m.dropped.clear();
}

std::vector<ClaimedMessage> select_due(sql::StatementCache& cache, int max, std::int64_t now_ms, ClaimScope scope) {
  static const std::string k_all = std::string(k_select_due) + k_claim_order;
  static const std::string k_transactional =
      std::string(k_select_due) + " AND m.kind = 'transactional'" + k_claim_order;
  auto& select = cache.get(scope == ClaimScope::transactional_only ? k_transactional : k_all);
  select.bind(1, static_cast<std::int64_t>(now_ms));
  select.bind(2, max);
  std::vector<ClaimedMessage> due;
  while (select.executeStep()) due.push_back(read_claimed(select));
  for (auto& m : due) {
    if (m.destinations_json) check_destinations(cache, m);
    else m.suppression_reason = suppression::blocking_reason(cache, suppression::key_of(m.email), m.kind);
  }
  return due;
}

void mark_sending(sql::StatementCache& cache, ClaimedMessage& m, std::int64_t now_ms, std::int64_t lease_ms) {
  auto& update = cache.get(
      "UPDATE messages SET state = 'sending', lease_token = ?,"
      " lease_expires_ms = ?, attempts = attempts + 1, updated_at_ms = ?"
      " WHERE id = ?");
  m.lease_token = random_lease_token();
  m.lease_expires_ms = now_ms + lease_ms;
  update.bind(1, static_cast<std::int64_t>(m.lease_token));
  update.bind(2, static_cast<std::int64_t>(m.lease_expires_ms));
  update.bind(3, static_cast<std::int64_t>(now_ms));
  update.bind(4, m.id);
  update.exec();
}

// ---- record() ----------------------------------------------------------------

// The row an applied outcome changed, for its event.
struct Fenced {
  std::optional<std::string> batch_id;
  std::string email;
  int attempts = 0;
};

// Runs "UPDATE messages SET <set_clause>, <lease cleared> WHERE <fence>":
// `bind` binds the set clause's parameters and returns the next index.
// nullopt when the fence did not match (a stale outcome): nothing changed.
template <typename Bind>
std::optional<Fenced> update_fenced(sql::StatementCache& cache, const std::string& set_clause, std::int64_t now_ms,
                                    const Outcome& o, Bind&& bind) {
  auto& update = cache.get("UPDATE messages SET " + set_clause +
                           ", lease_token = NULL, lease_expires_ms = NULL,"
                           " updated_at_ms = ?"
                           " WHERE id = ? AND lease_token = ? AND state = 'sending'"
                           " RETURNING batch_id, email, attempts");
  int next = bind(update);
  update.bind(next, static_cast<std::int64_t>(now_ms));
  update.bind(next + 1, o.message_id);
  update.bind(next + 2, static_cast<std::int64_t>(o.lease_token));
  if (!update.executeStep()) return std::nullopt;
  Fenced row{sql::optional_text(update.getColumn(0)), update.getColumn(1).getString(), update.getColumn(2).getInt()};
  while (update.executeStep()) {
  }
  return row;
}

// The event of an applied outcome, written through EventRepo in the caller's
// transaction: a failed insert fails the whole group.
Result<bool> insert_event(Database& db, const char* type, const Fenced& row, const std::string& message_id,
                          const nlohmann::json& detail, std::int64_t now_ms) {
  auto inserted = EventRepo(db).insert(Event{0, type, row.batch_id, message_id, row.email, detail.dump(), now_ms});
  if (!inserted) return inserted.error();
  return true;
}

Result<bool> record_sent(Database& db, const Outcome& o, std::int64_t now_ms) {
  auto& cache = db.statements();
  auto row =
      update_fenced(cache, "state = 'sent', ses_message_id = ?, sent_at_ms = ?", now_ms, o, [&](SQLite::Statement& s) {
        s.bind(1, o.ses_message_id);
        s.bind(2, static_cast<std::int64_t>(now_ms));
        return 3;
      });
  if (!row) return false;
  for (const auto& d : o.dropped) {
    Fenced recipient{row->batch_id, d.email, row->attempts};
    auto event =
        insert_event(db, "SUPPRESSED", recipient, o.message_id, {{"reason", d.reason}, {"field", d.field}}, now_ms);
    if (!event) return event;
  }
  return insert_event(db, "SENT", *row, o.message_id, {{"ses_message_id", o.ses_message_id}}, now_ms);
}

Result<bool> record_retry(Database& db, const Outcome& o, std::int64_t now_ms) {
  auto& cache = db.statements();
  // NOTE: an unconsumed try (throttling, daily quota) was counted at claim
  // time; giving it back here keeps `attempts` equal to the tries that count.
  auto row = update_fenced(cache,
                           "state = 'queued', run_at_ms = ?, last_error_code = ?, last_error = ?,"
                           " attempts = max(0, attempts - ?)",
                           now_ms, o, [&](SQLite::Statement& s) {
                             s.bind(1, static_cast<std::int64_t>(o.run_at_ms));
                             s.bind(2, o.error_code);
                             s.bind(3, o.error);
                             s.bind(4, o.attempt_consumed ? 0 : 1);
                             return 5;
                           });
  if (!row) return false;
  nlohmann::json detail = {{"error_code", o.error_code},
                           {"error", o.error},
                           {"attempt", row->attempts},
                           {"retry_at_ms", o.run_at_ms},
                           {"attempt_consumed", o.attempt_consumed}};
  return insert_event(db, "DEFERRED", *row, o.message_id, detail, now_ms);
}

Result<bool> record_dead_letter(Database& db, const Outcome& o, std::int64_t now_ms) {
  auto& cache = db.statements();
  auto row = update_fenced(cache,
                           "state = 'failed', failed_at_ms = ?, last_error_code = ?,"
                           " last_error = ?",
                           now_ms, o, [&](SQLite::Statement& s) {
                             s.bind(1, static_cast<std::int64_t>(now_ms));
                             s.bind(2, o.error_code);
                             s.bind(3, o.error);
                             return 4;
                           });
  if (!row) return false;
  nlohmann::json detail = {{"error_code", o.error_code}, {"error", o.error}, {"attempts", row->attempts}};
  return insert_event(db, "FAILED", *row, o.message_id, detail, now_ms);
}

Result<bool> record_suppressed(Database& db, const Outcome& o, std::int64_t now_ms) {
  auto& cache = db.statements();
  auto row = update_fenced(cache, "state = 'suppressed'", now_ms, o, [](SQLite::Statement&) { return 1; });
  if (!row) return false;
  return insert_event(db, "SUPPRESSED", *row, o.message_id, {{"reason", o.error}}, now_ms);
}

Result<bool> record_cancelled(Database& db, const Outcome& o, std::int64_t now_ms) {
  auto& cache = db.statements();
  auto row = update_fenced(cache, "state = 'cancelled', last_error_code = ?, last_error = ?", now_ms, o,
                           [&](SQLite::Statement& s) {
                             s.bind(1, o.error_code);
                             s.bind(2, o.error);
                             return 3;
                           });
  return row.has_value();
}

Result<bool> record_one(Database& db, const Outcome& o, std::int64_t now_ms) {
  switch (o.kind) {
    case Outcome::Kind::sent: return record_sent(db, o, now_ms);
    case Outcome::Kind::retry: return record_retry(db, o, now_ms);
    case Outcome::Kind::dead_letter: return record_dead_letter(db, o, now_ms);
    case Outcome::Kind::suppressed: return record_suppressed(db, o, now_ms);
    case Outcome::Kind::cancelled: return record_cancelled(db, o, now_ms);
  }
  return false;
}

Result<std::vector<Recorded>> record_all(Database& db, const std::vector<Outcome>& outcomes, std::int64_t now_ms) {
  std::vector<Recorded> recorded;
  recorded.reserve(outcomes.size());
  for (const auto& o : outcomes) {
    auto applied = record_one(db, o, now_ms);
    if (!applied) return applied.error();
    recorded.push_back(*applied ? Recorded::applied : Recorded::stale);
  }
  return recorded;
}

std::vector<ClaimedMessage> claim_due(sql::StatementCache& cache, int max, std::int64_t now_ms, std::int64_t lease_ms,
                                      ClaimScope scope) {
  auto due = select_due(cache, max, now_ms, scope);
  for (auto& m : due) mark_sending(cache, m, now_ms, lease_ms);
  return due;
}

int exec_count(SQLite::Database& db, const std::string& query, std::int64_t now_ms, std::int64_t arg) {
  SQLite::Statement update(db, query);
  update.bind(1, static_cast<std::int64_t>(now_ms));
  update.bind(2, static_cast<std::int64_t>(arg));
  return update.exec();
}

// ---- batch statuses ------------------------------------------------------------

// Batches whose status can still change by itself: completed and cancelled ones
// change only through a DLQ retry or an operator, which settle them there.
std::vector<std::string> unsettled_batches(SQLite::Database& db) {
  SQLite::Statement query(db, "SELECT id FROM batches WHERE status IN (?, ?, ?, ?)");
  int i = 0;
  for (auto status : {BatchStatus::scheduled, BatchStatus::queued, BatchStatus::sending, BatchStatus::paused})
    query.bind(++i, to_string(status));
  std::vector<std::string> ids;
  while (query.executeStep()) ids.push_back(query.getColumn(0).getString());
  return ids;
}

// ---- DLQ -------------------------------------------------------------------------

constexpr int k_max_dlq_page = 1000;

DlqEntry read_dlq_entry(SQLite::Statement& row) {
  DlqEntry e;
  e.id = row.getColumn(0).getString();
  e.batch_id = sql::optional_text(row.getColumn(1));
  e.kind = parse_kind(row.getColumn(2).getString());
  e.email = row.getColumn(3).getString();
  e.attempts = row.getColumn(4).getInt();
  e.last_error_code = sql::optional_text(row.getColumn(5)).value_or("");
  e.last_error = sql::optional_text(row.getColumn(6)).value_or("");
  e.failed_at_ms = row.getColumn(7).getInt64();
  return e;
}

// Cursor text: "<failed_at_ms>:<message id>" of the last entry of a page.
bool parse_cursor(const std::string& cursor, std::int64_t& failed_at_ms, std::string& id) {
  auto colon = cursor.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == cursor.size()) return false;
  try {
    std::size_t used = 0;
    failed_at_ms = std::stoll(cursor.substr(0, colon), &used);
    if (used != colon) return false;
  } catch (const std::exception&) {
    return false;
  }
  id = cursor.substr(colon + 1);
  return true;
}

// Runs a DLQ retry UPDATE (k_retry_dlq_set + extra, RETURNING batch_id) and
// collects the batches it gave work again.
int retry_failed(SQLite::Statement& update, std::set<std::string>& batches) {
  int moved = 0;
  while (update.executeStep()) {
    ++moved;
    if (auto batch = sql::optional_text(update.getColumn(0))) batches.insert(*batch);
  }
  return moved;
}

// A batch that a DLQ retry gives work again follows its counts.
void reopen_batches(SQLite::Database& db, const std::set<std::string>& batches, std::int64_t now_ms) {
  for (const auto& id : batches) batch_rows::settle(db, id, now_ms);
}

std::string retry_dlq_sql(const char* extra) {
  return std::string(
             "UPDATE messages SET state = 'queued', attempts = 0, run_at_ms = ?1,"
             " failed_at_ms = NULL, updated_at_ms = ?1 WHERE state = 'failed'") +
         extra + " RETURNING batch_id";
}

// ---- accepting transactional messages ---------------------------------------

// `m`'s destinations without those a suppression of scope all blocks now.
struct Split {
  Destinations kept;
  std::vector<DroppedRecipient> dropped;
};

Split split_suppressed(sql::StatementCache& cache, const NewMessage& m) {
  Destinations given = m.destinations.size() > 0 ? m.destinations : Destinations{{m.email}, {}, {}};
  Split out;
  const std::pair<const char*, std::pair<const std::vector<std::string>*, std::vector<std::string>*>> lists[] = {
      {"to", {&given.to, &out.kept.to}}, {"cc", {&given.cc, &out.kept.cc}}, {"bcc", {&given.bcc, &out.kept.bcc}}};
  for (const auto& [field, from_to] : lists) {
    for (const auto& address : *from_to.first) {
      auto reason = suppression::blocking_reason(cache, suppression::key_of(address), MessageKind::transactional);
      if (reason) out.dropped.push_back({address, field, to_string(*reason)});
      else from_to.second->push_back(address);
    }
  }
  return out;
}

Result<CreatedMessage> insert_one(Database& db, const NewMessage& m, std::int64_t now_ms) {
  auto split = split_suppressed(db.statements(), m);
  const bool suppressed = split.kept.size() == 0;
  CreatedMessage created{ids::make(ids::k_message), suppressed ? MessageState::suppressed : MessageState::queued,
                         std::move(split.dropped)};
  const std::string email =
      suppressed ? (m.destinations.to.empty() ? m.email : m.destinations.to.front()) : split.kept.first();
  auto& insert = db.statements().get(
      "INSERT INTO messages(id, kind, priority, state, email, variables_json, template_id, template_version, "
      "subject, html, text, from_address, reply_to_json, tags_json, configuration_set, run_at_ms, created_at_ms, "
      "updated_at_ms, destinations_json, suppressed_json, headers_json, metadata_json) VALUES (?1, "
      "'transactional', 0, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14, ?14, ?15, ?16, ?17, ?18)");
  insert.bind(1, created.id);
  insert.bind(2, to_string(created.state));
  insert.bind(3, email);
  insert.bind(4, m.variables_json);
  sql::bind_optional(insert, 5, m.template_id);
  sql::bind_optional(insert, 6, m.template_version ? std::optional<std::int64_t>(*m.template_version) : std::nullopt);
  insert.bind(7, m.subject);
  sql::bind_optional(insert, 8, m.html);
  sql::bind_optional(insert, 9, m.text);
  insert.bind(10, m.from_address);
  insert.bind(11, m.reply_to_json);
  insert.bind(12, m.tags_json);
  sql::bind_optional(insert, 13, m.configuration_set);
  insert.bind(14, static_cast<std::int64_t>(now_ms));
  insert.bind(15, write_destinations(split.kept));
  insert.bind(16, write_dropped(created.dropped));
  insert.bind(17, m.headers_json);
  insert.bind(18, m.metadata_json);
  insert.exec();
  insert_attachment_rows(db, AttachmentOwner::message, created.id, m.attachments);
  std::vector<Event> events;
  for (const auto& d : created.dropped)
    events.push_back(suppressed_at_acceptance(std::nullopt, created.id, d.email, now_ms));
  if (auto inserted = EventRepo(db).insert(events); !inserted) return inserted.error();
  return created;
}

}  // namespace

const char* to_string(MessageKind kind) { return kind == MessageKind::transactional ? "transactional" : "bulk"; }

Result<std::vector<ClaimedMessage>> MessageRepo::claim(int max, std::int64_t now_ms, std::int64_t lease_ms,
                                                       ClaimScope scope) {
  if (max <= 0) return std::vector<ClaimedMessage>{};
  return sql::transaction(m_db, "claim messages", [&]() -> Result<std::vector<ClaimedMessage>> {
    return claim_due(m_db.statements(), max, now_ms, lease_ms, scope);
  });
}

Result<std::vector<Recorded>> MessageRepo::record(const std::vector<Outcome>& outcomes) {
  const std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "record outcomes",
                          [&]() -> Result<std::vector<Recorded>> { return record_all(m_db, outcomes, now_ms); });
}

Result<MessageRepo::Cycle> MessageRepo::record_and_claim(const std::vector<Outcome>& outcomes, int max,
                                                         std::int64_t now_ms, std::int64_t lease_ms, ClaimScope scope) {
  return sql::transaction(m_db, "record outcomes and claim", [&]() -> Result<Cycle> {
    Cycle cycle;
    auto recorded = record_all(m_db, outcomes, now_ms);
    if (!recorded) return recorded.error();
    cycle.recorded = std::move(*recorded);
    if (max > 0) cycle.claimed = claim_due(m_db.statements(), max, now_ms, lease_ms, scope);
    return cycle;
  });
}

Result<int> MessageRepo::requeue_expired(std::int64_t now_ms) {
  return sql::guard("requeue expired leases", [&]() -> Result<int> {
    return exec_count(m_db.sql(),
                      "UPDATE messages SET state = 'queued', lease_token = NULL,"
                      " lease_expires_ms = NULL, updated_at_ms = ?1"
                      " WHERE state = 'sending' AND lease_expires_ms < ?2",
                      now_ms, now_ms);
  });
}

Result<int> MessageRepo::release(const std::vector<Claim>& claims) {
  const std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "release claims", [&]() -> Result<int> {
    SQLite::Statement update(m_db.sql(),
                             "UPDATE messages SET state = 'queued', lease_token = NULL,"
                             " lease_expires_ms = NULL, attempts = max(0, attempts - 1),"
                             " updated_at_ms = ? WHERE id = ? AND lease_token = ?"
                             " AND state = 'sending'");
    int released = 0;
    for (const auto& c : claims) {
      update.reset();
      update.bind(1, static_cast<std::int64_t>(now_ms));
      update.bind(2, c.message_id);
      update.bind(3, static_cast<std::int64_t>(c.lease_token));
      released += update.exec();
    }
    return released;
  });
}

Result<int> MessageRepo::promote_scheduled(std::int64_t now_ms) {
  return sql::guard("promote scheduled messages", [&]() -> Result<int> {
    return exec_count(m_db.sql(),
                      "UPDATE messages SET state = 'queued', updated_at_ms = ?1"
                      " WHERE state = 'scheduled' AND run_at_ms <= ?2",
                      now_ms, now_ms);
  });
}

Result<int> MessageRepo::expire_send_before(std::int64_t now_ms) {
  return sql::guard("expire send_before", [&]() -> Result<int> {
    return exec_count(m_db.sql(),
                      "UPDATE messages SET state = 'cancelled', updated_at_ms = ?1,"
                      " last_error_code = 'send_before_passed',"
                      " last_error = 'not sent before the batch''s send_before'"
                      " WHERE state IN ('queued', 'scheduled') AND batch_id IN"
                      " (SELECT id FROM batches WHERE send_before_ms IS NOT NULL"
                      "  AND send_before_ms < ?2)",
                      now_ms, now_ms);
  });
}

Result<std::vector<BatchStatusChange>> MessageRepo::update_batch_statuses() {
  const std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "update batch statuses", [&]() -> Result<std::vector<BatchStatusChange>> {
    std::vector<BatchStatusChange> changes;
    for (const auto& id : unsettled_batches(m_db.sql())) {
      if (auto change = batch_rows::settle(m_db.sql(), id, now_ms)) changes.push_back(*change);
    }
    return changes;
  });
}

Result<std::map<std::string, std::int64_t>> MessageRepo::count_by_state() {
  return sql::guard("count messages by state", [&]() -> Result<std::map<std::string, std::int64_t>> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT substr(key, 7), sum(n) FROM batch_counts WHERE key LIKE 'state:%' GROUP BY 1"
                            " UNION ALL"
                            " SELECT state, count(*) FROM messages WHERE batch_id IS NULL GROUP BY state");
    std::map<std::string, std::int64_t> counts;
    while (query.executeStep()) counts[query.getColumn(0).getString()] += query.getColumn(1).getInt64();
    std::erase_if(counts, [](const auto& item) { return item.second == 0; });
    return counts;
  });
}

Result<DlqPage> MessageRepo::list_dlq(int limit, const std::string& cursor) {
  if (limit < 1 || limit > k_max_dlq_page) {
    auto why = fmt::format("must be between 1 and {}", k_max_dlq_page);
    return Error{ErrorCode::invalid_input, fmt::format("limit: {}: {}", limit, why), {{"limit", why}}};
  }
  std::int64_t after_ms = -1;
  std::string after_id;
  if (!cursor.empty() && !parse_cursor(cursor, after_ms, after_id)) {
    return Error{
        ErrorCode::invalid_input, "cursor: not a cursor from a previous page", {{"cursor", "is not a valid cursor"}}};
  }
  return sql::guard("list DLQ", [&]() -> Result<DlqPage> {
    SQLite::Statement query(m_db.sql(),
                            "SELECT id, batch_id, kind, email, attempts, last_error_code,"
                            " last_error, failed_at_ms FROM messages WHERE state = 'failed'"
                            " AND (failed_at_ms, id) > (?, ?) ORDER BY failed_at_ms, id LIMIT ?");
    query.bind(1, static_cast<std::int64_t>(after_ms));
    query.bind(2, after_id);
    query.bind(3, limit + 1);
    DlqPage page;
    while (query.executeStep()) page.entries.push_back(read_dlq_entry(query));
    if (static_cast<int>(page.entries.size()) > limit) {
      page.entries.pop_back();
      const auto& last = page.entries.back();
      page.next_cursor = fmt::format("{}:{}", last.failed_at_ms, last.id);
    }
    return page;
  });
}

Result<int> MessageRepo::retry_dlq(const std::vector<std::string>& ids) {
  const std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "retry DLQ", [&]() -> Result<int> {
    SQLite::Statement update(m_db.sql(), retry_dlq_sql(" AND id = ?2"));
    std::set<std::string> batches;
    int moved = 0;
    for (const auto& id : ids) {
      update.reset();
      update.bind(1, static_cast<std::int64_t>(now_ms));
      update.bind(2, id);
      moved += retry_failed(update, batches);
    }
    reopen_batches(m_db.sql(), batches, now_ms);
    return moved;
  });
}

Result<int> MessageRepo::retry_dlq_all() {
  const std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "retry DLQ", [&]() -> Result<int> {
    SQLite::Statement update(m_db.sql(), retry_dlq_sql(""));
    update.bind(1, static_cast<std::int64_t>(now_ms));
    std::set<std::string> batches;
    int moved = retry_failed(update, batches);
    reopen_batches(m_db.sql(), batches, now_ms);
    return moved;
  });
}

Result<int> MessageRepo::purge_dlq(std::int64_t older_than_ms) {
  return sql::transaction(m_db, "purge DLQ", [&]() -> Result<int> {
    // No DELETE trigger keeps batch_counts, so take the purged rows off here.
    SQLite::Statement counts(m_db.sql(),
                             "UPDATE batch_counts SET n = n - (SELECT count(*) FROM messages m"
                             " WHERE m.batch_id = batch_counts.batch_id AND m.state = 'failed'"
                             " AND m.failed_at_ms < ?1) WHERE key = 'state:failed' AND batch_id IN"
                             " (SELECT batch_id FROM messages WHERE state = 'failed'"
                             "  AND failed_at_ms < ?1 AND batch_id IS NOT NULL)");
    counts.bind(1, static_cast<std::int64_t>(older_than_ms));
    counts.exec();
    SQLite::Statement purge(m_db.sql(), "DELETE FROM messages WHERE state = 'failed' AND failed_at_ms < ?");
    purge.bind(1, static_cast<std::int64_t>(older_than_ms));
    return purge.exec();
  });
}

Result<CreatedMessage> MessageRepo::insert_message(const NewMessage& m) {
  auto created = insert_messages({m});
  if (!created) return std::move(created).error();
  return std::move(created->front());
}

Result<std::vector<CreatedMessage>> MessageRepo::insert_messages(const std::vector<NewMessage>& messages) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "store messages", [&]() -> Result<std::vector<CreatedMessage>> {
    std::vector<CreatedMessage> out;
    out.reserve(messages.size());
    for (const auto& m : messages) {
      auto created = insert_one(m_db, m, now_ms);
      if (!created) return std::move(created).error();
      out.push_back(std::move(*created));
    }
    return out;
  });
}

Result<Message> MessageRepo::message(const std::string& id) {
  return sql::guard("read message", [&]() -> Result<Message> {
    SQLite::Statement query(
        m_db.sql(),
        "SELECT id, batch_id, kind, state, paused, email, template_id, template_version, "
        "attempts, run_at_ms, last_error_code, last_error, ses_message_id, created_at_ms, "
        "updated_at_ms, sent_at_ms, failed_at_ms, destinations_json, suppressed_json, headers_json, "
        "metadata_json FROM messages WHERE id = ?");
    query.bind(1, id);
    if (!query.executeStep()) return make_error(ErrorCode::not_found, fmt::format("message {} not found", id));
    Message m;
    m.id = query.getColumn(0).getString();
    m.batch_id = sql::optional_text(query.getColumn(1));
    m.kind = parse_kind(query.getColumn(2).getString());
    m.state = batch_rows::stored_state(query.getColumn(3).getString());
    m.paused = query.getColumn(4).getInt() != 0;
    m.email = query.getColumn(5).getString();
    m.template_id = sql::optional_text(query.getColumn(6));
    if (auto version = sql::optional_int64(query.getColumn(7))) m.template_version = static_cast<int>(*version);
    m.attempts = query.getColumn(8).getInt();
    m.run_at_ms = query.getColumn(9).getInt64();
    m.last_error_code = sql::optional_text(query.getColumn(10));
    m.last_error = sql::optional_text(query.getColumn(11));
    m.ses_message_id = sql::optional_text(query.getColumn(12));
    m.created_at_ms = query.getColumn(13).getInt64();
    m.updated_at_ms = query.getColumn(14).getInt64();
    m.sent_at_ms = sql::optional_int64(query.getColumn(15));
    m.failed_at_ms = sql::optional_int64(query.getColumn(16));
    m.destinations_json = sql::optional_text(query.getColumn(17));
    m.suppressed_json = sql::optional_text(query.getColumn(18));
    m.headers_json = sql::optional_text(query.getColumn(19));
    m.metadata_json = sql::optional_text(query.getColumn(20));
    auto events = EventRepo(m_db).of_message(id);
    if (!events) return events.error();
    m.events = std::move(*events);
    return m;
  });
}

}  // namespace mailer::store
