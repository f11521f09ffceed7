#include "message_rows.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include "mailer/core/ids.hpp"

namespace mailer::test {

std::string insert_batch(store::Database& db, BatchRow row, std::int64_t now_ms) {
  if (row.id.empty()) row.id = ids::make(ids::k_batch);
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO batches(id, status, template_id, template_version, subject,"
                           " html, text, from_address, variables_json, send_before_ms,"
                           " created_at_ms, updated_at_ms) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)");
  insert.bind(1, row.id);
  insert.bind(2, row.status);
  if (row.template_id) insert.bind(3, *row.template_id);
  if (row.template_version) insert.bind(4, static_cast<std::int64_t>(*row.template_version));
  if (row.subject) insert.bind(5, *row.subject);
  if (row.html) insert.bind(6, *row.html);
  if (row.text) insert.bind(7, *row.text);
  insert.bind(8, row.from_address);
  insert.bind(9, row.variables_json);
  if (row.send_before_ms) insert.bind(10, static_cast<std::int64_t>(*row.send_before_ms));
  insert.bind(11, static_cast<std::int64_t>(now_ms));
  insert.bind(12, static_cast<std::int64_t>(now_ms));
  insert.exec();
  return row.id;
}

std::string insert_message(store::Database& db, MessageRow row, std::int64_t now_ms) {
  if (row.id.empty()) row.id = ids::make(ids::k_message);
  const bool bulk = row.batch_id.has_value();
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO messages(id, batch_id, kind, priority, state, paused, email,"
                           " variables_json, subject, html, text, from_address, run_at_ms,"
                           " attempts, created_at_ms, updated_at_ms)"
                           " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  insert.bind(1, row.id);
  if (bulk) insert.bind(2, *row.batch_id);
  insert.bind(3, bulk ? "bulk" : "transactional");
  insert.bind(4, bulk ? 1 : 0);
  insert.bind(5, row.state);
  insert.bind(6, row.paused);
  insert.bind(7, row.email);
  insert.bind(8, row.variables_json);
  if (!bulk) {
    if (row.subject) insert.bind(9, *row.subject);
    if (row.html) insert.bind(10, *row.html);
    if (row.text) insert.bind(11, *row.text);
    insert.bind(12, row.from_address);
  }
  insert.bind(13, static_cast<std::int64_t>(row.run_at_ms));
  insert.bind(14, row.attempts);
  insert.bind(15, static_cast<std::int64_t>(now_ms));
  insert.bind(16, static_cast<std::int64_t>(now_ms));
  insert.exec();
  return row.id;
}

void insert_template_version(store::Database& db, const std::string& template_id, std::int64_t version,
                             const std::string& subject, const std::string& text, std::int64_t now_ms) {
  SQLite::Statement tmpl(db.sql(),
                         "INSERT INTO templates(id, name, current_version, created_at_ms,"
                         " updated_at_ms) VALUES (?1, ?1, ?2, ?3, ?3)"
                         " ON CONFLICT(id) DO UPDATE SET current_version = ?2");
  tmpl.bind(1, template_id);
  tmpl.bind(2, static_cast<std::int64_t>(version));
  tmpl.bind(3, static_cast<std::int64_t>(now_ms));
  tmpl.exec();
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO template_versions(template_id, version, subject, text,"
                           " created_at_ms) VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, template_id);
  insert.bind(2, static_cast<std::int64_t>(version));
  insert.bind(3, subject);
  insert.bind(4, text);
  insert.bind(5, static_cast<std::int64_t>(now_ms));
  insert.exec();
}

void insert_suppression(store::Database& db, const std::string& email, const std::string& reason,
                        const std::string& scope, std::int64_t now_ms) {
  SQLite::Statement insert(db.sql(),
                           "INSERT INTO suppressions(email, reason, scope, created_at_ms,"
                           " updated_at_ms) VALUES (?, ?, ?, ?, ?)");
  insert.bind(1, email);
  insert.bind(2, reason);
  insert.bind(3, scope);
  insert.bind(4, static_cast<std::int64_t>(now_ms));
  insert.bind(5, static_cast<std::int64_t>(now_ms));
  insert.exec();
}

std::string message_state(store::Database& db, const std::string& id) {
  SQLite::Statement query(db.sql(), "SELECT state FROM messages WHERE id = ?");
  query.bind(1, id);
  return query.executeStep() ? query.getColumn(0).getString() : std::string("(missing)");
}

std::int64_t message_int(store::Database& db, const std::string& id, const std::string& column) {
  SQLite::Statement query(db.sql(), "SELECT " + column + " FROM messages WHERE id = ?");
  query.bind(1, id);
  if (!query.executeStep() || query.getColumn(0).isNull()) return -1;
  return query.getColumn(0).getInt64();
}

namespace {
std::map<std::string, std::int64_t> read_counts(store::Database& db, const std::string& query) {
  SQLite::Statement rows(db.sql(), query);
  std::map<std::string, std::int64_t> counts;
  while (rows.executeStep()) counts[rows.getColumn(0).getString()] = rows.getColumn(1).getInt64();
  return counts;
}
}  // namespace

std::map<std::string, std::int64_t> batch_counts_table(store::Database& db) {
  return read_counts(db,
                     "SELECT batch_id || '|' || key, n FROM batch_counts"
                     " WHERE key LIKE 'state:%' AND n <> 0");
}

std::map<std::string, std::int64_t> batch_counts_actual(store::Database& db) {
  return read_counts(db,
                     "SELECT batch_id || '|state:' || state, count(*) FROM messages"
                     " WHERE batch_id IS NOT NULL GROUP BY batch_id, state");
}

}  // namespace mailer::test
