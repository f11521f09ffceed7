#pragma once
// Plain-SQL rows for job engine and MessageRepo tests: batches, messages,
// template versions and suppressions inserted directly, so the tests do not
// depend on the service layer's acceptance code. Column meanings: schema/0001_init.sql.

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "mailer/store/database.hpp"

namespace mailer::test {

struct BatchRow {
  std::string id;  // empty: a fresh bat_ id
  std::string status = "queued";
  std::optional<std::string> template_id;
  std::optional<std::int64_t> template_version;
  std::optional<std::string> subject = "Hello {{name}}";
  std::optional<std::string> html = "<p>Hi {{name}}</p>";
  std::optional<std::string> text = "Hi {{name}}";
  std::string from_address = "news@example.com";
  std::string variables_json = "{}";
  std::optional<std::int64_t> send_before_ms;
};

struct MessageRow {
  std::string id;                       // empty: a fresh msg_ id
  std::optional<std::string> batch_id;  // set: bulk (priority 1); unset: transactional (0)
  std::string state = "queued";
  int paused = 0;
  std::string email = "ana@example.com";
  std::string variables_json = "{}";
  std::int64_t run_at_ms = 0;
  int attempts = 0;
  // Transactional content (ignored for bulk rows).
  std::optional<std::string> subject = "Reset for {{email}}";
  std::optional<std::string> html;
  std::optional<std::string> text = "Code {{code}}";
  std::string from_address = "app@example.com";
};

/// Inserts `row` and returns its id. Throws SQLite::Exception on failure.
std::string insert_batch(store::Database& db, BatchRow row, std::int64_t now_ms);
std::string insert_message(store::Database& db, MessageRow row, std::int64_t now_ms);
void insert_template_version(store::Database& db, const std::string& template_id, std::int64_t version,
                             const std::string& subject, const std::string& text, std::int64_t now_ms);
void insert_suppression(store::Database& db, const std::string& email, const std::string& reason,
                        const std::string& scope, std::int64_t now_ms);

/// The `state` column of message `id`.
std::string message_state(store::Database& db, const std::string& id);
/// An integer column of message `id` (NULL reads as -1).
std::int64_t message_int(store::Database& db, const std::string& id, const std::string& column);

/// "batch|state:x" -> n from batch_counts (zero rows left out) and the same
/// computed with COUNT(*) over messages: equal when the triggers kept up.
std::map<std::string, std::int64_t> batch_counts_table(store::Database& db);
std::map<std::string, std::int64_t> batch_counts_actual(store::Database& db);

}  // namespace mailer::test
