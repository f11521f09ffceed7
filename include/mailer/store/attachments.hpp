#pragma once
// The attachments table (schema 0013): the files of a batch, stored once for
// all its recipients, or of one transactional message. Rows are written in
// the transaction that stores their owner (BatchRepo::insert_batch,
// MessageRepo::insert_messages) and go when it is deleted (ON DELETE
// CASCADE: erasure, retention). One AttachmentRepo per connection.

#include <cstdint>
#include <string>
#include <vector>

#include "mailer/core/attachment.hpp"
#include "mailer/core/error.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

/// Whose files a row holds.
enum class AttachmentOwner { batch, message };

class AttachmentRepo {
 public:
  explicit AttachmentRepo(Database& db) : m_db(db) {}

  /// The files of batch or message `owner_id`, in the order accepted; empty
  /// when it has none or is gone. Errors: storage_unavailable.
  Result<std::vector<Attachment>> of(AttachmentOwner owner, const std::string& owner_id);

  /// How many attachment rows the database holds, and their bytes (the
  /// decoded file sizes): for reports and for tests that files are stored
  /// once. Errors: storage_unavailable.
  struct Totals {
    std::int64_t rows = 0;
    std::int64_t bytes = 0;
  };
  Result<Totals> totals();

 private:
  Database& m_db;
};

}  // namespace mailer::store
