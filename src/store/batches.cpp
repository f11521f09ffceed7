#include "mailer/store/batches.hpp"

#include <fmt/format.h>

#include "mailer/core/ids.hpp"
#include "store/batch_status_writer.hpp"
#include "store/engagement_rows.hpp"
#include "store/attachment_rows.hpp"
#include "store/sql_util.hpp"
#include "store/suppression_rules.hpp"

// insert_batch is the hot path of POST /v1/batches (100,000 recipients must be
// stored in well under a second): one transaction, statements prepared once
// and re-bound with bindNoCopy, and 64 message (or event) rows per INSERT. NOTE: one row
// per statement step cost 1.6x the CPU (measured with bench/batch_accept.cpp):
// each step also runs the batch_counts trigger program and statement setup.

namespace mailer::store {
namespace {

constexpr const char* k_select_batch =
    "SELECT id, status, template_id, template_version, subject, html, text, from_address, "
    "reply_to_json, variables_json, metadata_json, tags_json, configuration_set, send_at_ms, "
    "send_before_ms, pause_reason, accepted_count, invalid_count, duplicate_count, suppressed_count, "
    "invalid_json, api_key_id, created_at_ms, updated_at_ms, completed_at_ms, contact_list_name, topic_name "
    "FROM batches";

std::optional<int> optional_int(const SQLite::Column& column) {
  if (column.isNull()) return std::nullopt;
  return column.getInt();
}

Batch read_batch(SQLite::Statement& row) {
  Batch b;
  b.id = row.getColumn(0).getString();
  b.status = batch_rows::stored_status(row.getColumn(1).getString());
  b.template_id = sql::optional_text(row.getColumn(2));
  b.template_version = optional_int(row.getColumn(3));
  b.subject = sql::optional_text(row.getColumn(4));
  b.html = sql::optional_text(row.getColumn(5));
  b.text = sql::optional_text(row.getColumn(6));
  b.from_address = row.getColumn(7).getString();
  b.reply_to_json = row.getColumn(8).getString();
  b.variables_json = row.getColumn(9).getString();
  b.metadata_json = row.getColumn(10).getString();
  b.tags_json = row.getColumn(11).getString();
  b.configuration_set = sql::optional_text(row.getColumn(12));
  b.send_at_ms = sql::optional_int64(row.getColumn(13));
  b.send_before_ms = sql::optional_int64(row.getColumn(14));
  b.pause_reason = sql::optional_text(row.getColumn(15));
  b.accepted_count = row.getColumn(16).getInt64();
  b.invalid_count = row.getColumn(17).getInt64();
  b.duplicate_count = row.getColumn(18).getInt64();
  b.suppressed_count = row.getColumn(19).getInt64();
  b.invalid_json = row.getColumn(20).getString();
  b.api_key_id = sql::optional_text(row.getColumn(21));
  b.created_at_ms = row.getColumn(22).getInt64();
  b.updated_at_ms = row.getColumn(23).getInt64();
  b.completed_at_ms = sql::optional_int64(row.getColumn(24));
  b.contact_list_name = sql::optional_text(row.getColumn(25));
  b.topic_name = sql::optional_text(row.getColumn(26));
  return b;
}

void read_counts(SQLite::Database& db, Batch& b) {
  SQLite::Statement query(db, "SELECT key, n FROM batch_counts WHERE batch_id = ? AND n <> 0");
  query.bind(1, b.id);
  while (query.executeStep()) {
    std::string key = query.getColumn(0).getString();
    std::int64_t n = query.getColumn(1).getInt64();
    if (key.starts_with("state:")) b.state_counts[key.substr(6)] = n;
    else if (key.starts_with("event:")) b.event_counts[key.substr(6)] = n;
    engagement_rows::add_count(b.engagement, key, n, "event:");
  }
}

// Fills counts and the status batch_status() gives them.
void derive_status(SQLite::Database& db, Batch& b) {
  read_counts(db, b);
  b.status = batch_status(b.status, b.state_counts, b.suppressed_count);
}

// Stores the derived status of `b` when the stored one lags behind, so that
// what a read shows (completed with its completed_at) is what is stored. A
// write the database refuses (locked, read-only) leaves it to the reaper.
void store_lagging_status(SQLite::Database& db, Batch& b, BatchStatus stored, std::int64_t now_ms) {
  if (b.status == stored) return;
  try {
    if (!batch_rows::write_status(db, b.id, stored, b.status, now_ms)) return;
  } catch (const SQLite::Exception&) {
    return;
  }
  b.updated_at_ms = now_ms;
  if (!is_finished(b.status)) b.completed_at_ms.reset();
  else if (!b.completed_at_ms) b.completed_at_ms = now_ms;
}

// The batch with counts and its status, or nullopt.
std::optional<Batch> find(SQLite::Database& db, const std::string& id, std::int64_t now_ms) {
  SQLite::Statement query(db, std::string(k_select_batch) + " WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep()) return std::nullopt;
  Batch b = read_batch(query);
  BatchStatus stored = b.status;
  derive_status(db, b);
  store_lagging_status(db, b, stored, now_ms);
  b.top_links = engagement_rows::top_links(db, b.id, k_top_links);
  return b;
}

Error batch_not_found(const std::string& id) {
  return make_error(ErrorCode::not_found, fmt::format("batch {} not found", id));
}

Error wrong_status(const std::string& id, BatchStatus status, std::string_view action) {
  return make_error(ErrorCode::conflict, fmt::format("batch {} is {}; it cannot be {}", id, to_string(status), action));
}

// Marks which recipients a suppression blocks from bulk mail.
std::vector<char> suppressed_flags(Database& db, const std::vector<NewRecipient>& recipients) {
  std::vector<char> flags(recipients.size(), 0);
  if (sql::query_int64(db.sql(), "SELECT EXISTS (SELECT 1 FROM suppressions)") == 0) return flags;
  for (std::size_t i = 0; i < recipients.size(); ++i)
    flags[i] = suppression::blocking_reason(db.statements(), recipients[i].key, MessageKind::bulk) ? 1 : 0;
  return flags;
}

void insert_batch_row(SQLite::Database& db, const Batch& b) {
  SQLite::Statement insert(db,
                           "INSERT INTO batches(id, status, template_id, template_version, subject, html, "
                           "text, from_address, reply_to_json, variables_json, metadata_json, tags_json, "
                           "configuration_set, send_at_ms, send_before_ms, accepted_count, invalid_count, "
                           "duplicate_count, suppressed_count, invalid_json, api_key_id, created_at_ms, "
                           "updated_at_ms, completed_at_ms, contact_list_name, topic_name) VALUES "
                           "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  int i = 0;
  insert.bind(++i, b.id);
  insert.bind(++i, to_string(b.status));
  sql::bind_optional(insert, ++i, b.template_id);
  sql::bind_optional(insert, ++i, b.template_version ? std::optional<std::int64_t>(*b.template_version) : std::nullopt);
  sql::bind_optional(insert, ++i, b.subject);
  sql::bind_optional(insert, ++i, b.html);
  sql::bind_optional(insert, ++i, b.text);
  insert.bind(++i, b.from_address);
  insert.bind(++i, b.reply_to_json);
  insert.bind(++i, b.variables_json);
  insert.bind(++i, b.metadata_json);
  insert.bind(++i, b.tags_json);
  sql::bind_optional(insert, ++i, b.configuration_set);
  sql::bind_optional(insert, ++i, b.send_at_ms);
  sql::bind_optional(insert, ++i, b.send_before_ms);
  insert.bind(++i, static_cast<std::int64_t>(b.accepted_count));
  insert.bind(++i, static_cast<std::int64_t>(b.invalid_count));
  insert.bind(++i, static_cast<std::int64_t>(b.duplicate_count));
  insert.bind(++i, static_cast<std::int64_t>(b.suppressed_count));
  insert.bind(++i, b.invalid_json);
  sql::bind_optional(insert, ++i, b.api_key_id);
  insert.bind(++i, static_cast<std::int64_t>(b.created_at_ms));
  insert.bind(++i, static_cast<std::int64_t>(b.updated_at_ms));
  sql::bind_optional(insert, ++i, b.completed_at_ms);
  sql::bind_optional(insert, ++i, b.contact_list_name);
  sql::bind_optional(insert, ++i, b.topic_name);
  insert.exec();
}

constexpr int k_rows_per_insert = 64;  // 64 x 9 parameters, far below SQLite's limit
constexpr int k_params_per_row = 9;

// "INSERT INTO messages ... VALUES (...), (...)" for `rows` rows: one statement
// step per 64 rows instead of per row.
std::string insert_messages_sql(int rows) {
  std::string sql =
      "INSERT INTO messages(id, batch_id, recipient_index, kind, priority, state, email, variables_json, "
      "run_at_ms, created_at_ms, updated_at_ms) VALUES ";
  for (int i = 0; i < rows; ++i) sql += i == 0 ? "(?,?,?,'bulk',1,?,?,?,?,?,?)" : ",(?,?,?,'bulk',1,?,?,?,?,?,?)";
  return sql;
}

Status insert_messages(Database& store, const Batch& b, const std::vector<NewRecipient>& recipients,
                       const std::vector<char>& suppressed, std::int64_t now_ms) {
  SQLite::Database& db = store.sql();
  bool scheduled = b.send_at_ms && *b.send_at_ms > now_ms;
  const std::string live_state = to_string(scheduled ? MessageState::scheduled : MessageState::queued);
  const std::string suppressed_state = to_string(MessageState::suppressed);
  std::int64_t run_at_ms = scheduled ? *b.send_at_ms : now_ms;
  SQLite::Statement full(db, insert_messages_sql(k_rows_per_insert));
  std::vector<std::string> message_ids(k_rows_per_insert);
  std::vector<Event> suppressed_events;
  for (std::size_t first = 0; first < recipients.size(); first += k_rows_per_insert) {
    int rows = static_cast<int>(std::min<std::size_t>(k_rows_per_insert, recipients.size() - first));
    std::optional<SQLite::Statement> partial;
    if (rows < k_rows_per_insert) partial.emplace(db, insert_messages_sql(rows));
    SQLite::Statement& insert = partial ? *partial : full;
    for (int row = 0; row < rows; ++row) {
      const NewRecipient& r = recipients[first + row];
      bool is_suppressed = suppressed[first + row] != 0;
      message_ids[row] = ids::make(ids::k_message);
      int p = row * k_params_per_row;
      insert.bindNoCopy(p + 1, message_ids[row]);
      insert.bindNoCopy(p + 2, b.id);
      insert.bind(p + 3, r.index);
      insert.bindNoCopy(p + 4, is_suppressed ? suppressed_state : live_state);
      insert.bindNoCopy(p + 5, r.email);
      insert.bindNoCopy(p + 6, r.variables_json);
      insert.bind(p + 7, static_cast<std::int64_t>(run_at_ms));
      insert.bind(p + 8, static_cast<std::int64_t>(now_ms));
      insert.bind(p + 9, static_cast<std::int64_t>(now_ms));
      if (is_suppressed) suppressed_events.push_back(suppressed_at_acceptance(b.id, message_ids[row], r.email, now_ms));
    }
    insert.exec();
    insert.reset();
  }
  return EventRepo(store).insert(suppressed_events);
}

// Connection settings for one large batch insert, put back afterwards.
//
// NOTE: SQLite's default page cache (2 MB) is far smaller than a large batch
// (~300 bytes of rows and indexes per message), so it would spill dirty pages
// to the WAL mid-transaction and write many of them again: with 100,000
// recipients, 4x the system time. The cache grows on demand, so a generous
// limit costs only what the batch uses.
//
// NOTE: the commit of a large batch leaves tens of MB in the WAL, and the
// automatic checkpoint would copy them into the database file before the
// commit returns, inside the API request. The batch is durable once the WAL
// is synced (synchronous=FULL); the copy is left to the next commit of any
// connection (or to mailerd's periodic checkpoint).
class BulkInsertSettings {
 public:
  BulkInsertSettings(SQLite::Database& db, std::size_t rows) : m_db(db) {
    if (rows < k_min_rows) return;
    m_old_cache = db.execAndGet("PRAGMA cache_size").getInt64();
    m_old_checkpoint = db.execAndGet("PRAGMA wal_autocheckpoint").getInt64();
    db.exec("PRAGMA cache_size = " + std::to_string(-k_max_cache_kib));
    db.exec("PRAGMA wal_autocheckpoint = 0");
    m_set = true;
  }
  ~BulkInsertSettings() {
    if (!m_set) return;
    try {
      m_db.exec("PRAGMA cache_size = " + std::to_string(m_old_cache));
      m_db.exec("PRAGMA wal_autocheckpoint = " + std::to_string(m_old_checkpoint));
    } catch (const SQLite::Exception&) {
      // A pragma on an open connection does not fail in practice; if it did,
      // only a larger cache or a later checkpoint would remain: harmless.
    }
  }
  BulkInsertSettings(const BulkInsertSettings&) = delete;
  BulkInsertSettings& operator=(const BulkInsertSettings&) = delete;

 private:
  static constexpr std::size_t k_min_rows = 2000;
  static constexpr std::int64_t k_max_cache_kib = 256 * 1024;
  SQLite::Database& m_db;
  std::int64_t m_old_cache = 0;
  std::int64_t m_old_checkpoint = 0;
  bool m_set = false;
};

Recipient read_recipient(SQLite::Statement& row) {
  Recipient r;
  r.message_id = row.getColumn(0).getString();
  r.index = row.getColumn(1).isNull() ? 0 : row.getColumn(1).getInt();
  r.email = row.getColumn(2).getString();
  r.state = batch_rows::stored_state(row.getColumn(3).getString());
  r.paused = row.getColumn(4).getInt() != 0;
  r.attempts = row.getColumn(5).getInt();
  r.last_error_code = sql::optional_text(row.getColumn(6));
  r.last_error = sql::optional_text(row.getColumn(7));
  r.ses_message_id = sql::optional_text(row.getColumn(8));
  r.sent_at_ms = sql::optional_int64(row.getColumn(9));
  r.updated_at_ms = row.getColumn(10).getInt64();
  return r;
}

// A page of batches newest first, each with the stored status it was read with.
// The status is derived from counts, so the filter cannot be a WHERE clause:
// rows are stepped through, skipping those of another status, until the page
// (plus one row, to know whether another page follows) is full.
//
// NOTE: two statements, not one with "(?1 = '' OR id < ?1)": SQLite cannot
// seek the primary key on an OR with a term of parameters alone, so that form
// walked every batch newer than the cursor: a page deep in the list cost its
// depth.
Page<std::pair<Batch, BatchStatus>> select_page(SQLite::Database& db, const PageQuery& page,
                                                std::optional<BatchStatus> status) {
  SQLite::Statement query(
      db, std::string(k_select_batch) + (page.after.empty() ? "" : " WHERE id < ?1") + " ORDER BY id DESC");
  if (!page.after.empty()) query.bind(1, page.after);
  std::int64_t skip = sql::page_offset(page);
  Page<std::pair<Batch, BatchStatus>> result;
  while (result.items.size() <= static_cast<std::size_t>(page.limit) && query.executeStep()) {
    Batch b = read_batch(query);
    BatchStatus stored = b.status;
    if (status) {
      derive_status(db, b);
      if (b.status != *status) continue;
    }
    if (skip > 0) {
      --skip;
      continue;
    }
    if (!status) derive_status(db, b);
    result.items.emplace_back(std::move(b), stored);
  }
  sql::end_page(result, page, [](const std::pair<Batch, BatchStatus>& item) { return item.first.id; });
  return result;
}

Page<Batch> to_batches(Page<std::pair<Batch, BatchStatus>> page) {
  Page<Batch> batches;
  batches.next_after = std::move(page.next_after);
  for (auto& item : page.items) batches.items.push_back(std::move(item.first));
  return batches;
}

// The counts a new batch starts with: its suppressed recipients, and the others
// scheduled for send_at or queued.
StateCounts initial_counts(const Batch& b, std::int64_t now_ms) {
  bool scheduled = b.send_at_ms && *b.send_at_ms > now_ms;
  return {{to_string(MessageState::suppressed), b.suppressed_count},
          {to_string(scheduled ? MessageState::scheduled : MessageState::queued), b.accepted_count}};
}

}  // namespace

Status BatchRepo::insert_batch(Batch& batch, const std::vector<NewRecipient>& recipients,
                               const std::vector<Attachment>& attachments) {
  std::int64_t now_ms = to_ms(m_clock.now());
  BulkInsertSettings settings(m_db.sql(), recipients.size());
  return sql::transaction(m_db, "store batch", [&]() -> Status {
    // The service checked the template before this transaction; a delete in
    // between must not leave a batch pinned to nothing.
    if (batch.template_id) {
      SQLite::Statement pinned(m_db.sql(), "SELECT 1 FROM template_versions WHERE template_id = ? AND version = ?");
      pinned.bind(1, *batch.template_id);
      pinned.bind(2, batch.template_version.value_or(0));
      if (!pinned.executeStep())
        return make_error(ErrorCode::conflict, fmt::format("template {} was deleted meanwhile", *batch.template_id));
    }
    auto suppressed = suppressed_flags(m_db, recipients);
    std::int64_t suppressed_count = 0;
    for (char flag : suppressed) suppressed_count += flag;
    batch.suppressed_count = suppressed_count;
    batch.accepted_count = static_cast<std::int64_t>(recipients.size()) - suppressed_count;
    batch.created_at_ms = batch.updated_at_ms = now_ms;
    batch.status = batch_status(BatchStatus::queued, initial_counts(batch, now_ms), suppressed_count);
    batch.completed_at_ms = is_finished(batch.status) ? std::optional<std::int64_t>(now_ms) : std::nullopt;
    insert_batch_row(m_db.sql(), batch);
    insert_attachment_rows(m_db, AttachmentOwner::batch, batch.id, attachments);
    return insert_messages(m_db, batch, recipients, suppressed, now_ms);
  });
}

Result<Batch> BatchRepo::get(const std::string& id) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::guard("read batch", [&]() -> Result<Batch> {
    auto found = find(m_db.sql(), id, now_ms);
    if (!found) return batch_not_found(id);
    return *found;
  });
}

Result<Page<Batch>> BatchRepo::list(const PageQuery& page, std::optional<BatchStatus> status) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::guard("list batches", [&]() -> Result<Page<Batch>> {
    auto result = select_page(m_db.sql(), page, status);
    for (auto& [b, stored] : result.items) {
      store_lagging_status(m_db.sql(), b, stored, now_ms);
      b.top_links = engagement_rows::top_links(m_db.sql(), b.id, k_top_links);
    }
    return to_batches(std::move(result));
  });
}

Result<Page<Recipient>> BatchRepo::recipients(const std::string& id, const PageQuery& page,
                                              std::optional<MessageState> state) {
  return sql::guard("list batch recipients", [&]() -> Result<Page<Recipient>> {
    SQLite::Statement exists(m_db.sql(), "SELECT 1 FROM batches WHERE id = ?");
    exists.bind(1, id);
    if (!exists.executeStep()) return batch_not_found(id);
    SQLite::Statement query(m_db.sql(),
                            "SELECT id, recipient_index, email, state, paused, attempts, last_error_code, "
                            "last_error, ses_message_id, sent_at_ms, updated_at_ms FROM messages "
                            "WHERE batch_id = ?1 AND id > ?2 AND (?3 IS NULL OR state = ?3) "
                            "ORDER BY id LIMIT ?4 OFFSET ?5");
    query.bind(1, id);
    query.bind(2, page.after);
    if (state) query.bind(3, to_string(*state));
    sql::bind_page(query, 4, page);
    return sql::read_page(query, page, read_recipient, [](const Recipient& r) { return r.message_id; });
  });
}

Result<Batch> BatchRepo::pause(const std::string& id, const std::string& reason) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "pause batch", [&]() -> Result<Batch> {
    auto b = find(m_db.sql(), id, now_ms);
    if (!b) return batch_not_found(id);
    if (is_finished(b->status) || b->status == BatchStatus::paused) return wrong_status(id, b->status, "paused");
    SQLite::Statement update(m_db.sql(),
                             "UPDATE messages SET paused = 1, updated_at_ms = ? "
                             "WHERE batch_id = ? AND state IN ('queued', 'scheduled')");
    update.bind(1, static_cast<std::int64_t>(now_ms));
    update.bind(2, id);
    update.exec();
    batch_rows::write_status(m_db.sql(), id, std::nullopt, BatchStatus::paused, now_ms, batch_rows::PauseReason::set,
                             reason);
    return *find(m_db.sql(), id, now_ms);
  });
}

Result<Batch> BatchRepo::resume(const std::string& id) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "resume batch", [&]() -> Result<Batch> {
    auto b = find(m_db.sql(), id, now_ms);
    if (!b) return batch_not_found(id);
    if (b->status != BatchStatus::paused) return wrong_status(id, b->status, "resumed");
    SQLite::Statement update(m_db.sql(),
                             "UPDATE messages SET paused = 0, updated_at_ms = ? WHERE batch_id = ? AND paused = 1");
    update.bind(1, static_cast<std::int64_t>(now_ms));
    update.bind(2, id);
    update.exec();
    // Any status but paused (or cancelled) lets the counts decide alone.
    BatchStatus unpaused = batch_status(BatchStatus::queued, b->state_counts, b->suppressed_count);
    batch_rows::write_status(m_db.sql(), id, std::nullopt, unpaused, now_ms, batch_rows::PauseReason::set);
    return *find(m_db.sql(), id, now_ms);
  });
}

Result<Batch> BatchRepo::cancel(const std::string& id) {
  std::int64_t now_ms = to_ms(m_clock.now());
  return sql::transaction(m_db, "cancel batch", [&]() -> Result<Batch> {
    auto b = find(m_db.sql(), id, now_ms);
    if (!b) return batch_not_found(id);
    if (is_finished(b->status)) return wrong_status(id, b->status, "cancelled");
    SQLite::Statement update(m_db.sql(),
                             "UPDATE messages SET state = 'cancelled', updated_at_ms = ? "
                             "WHERE batch_id = ? AND state IN ('queued', 'scheduled')");
    update.bind(1, static_cast<std::int64_t>(now_ms));
    update.bind(2, id);
    update.exec();
    batch_rows::write_status(m_db.sql(), id, std::nullopt, BatchStatus::cancelled, now_ms);
    return *find(m_db.sql(), id, now_ms);
  });
}

}  // namespace mailer::store
