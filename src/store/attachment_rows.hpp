#pragma once
// Writing attachment rows inside a transaction another repo holds (private to
// src/store: BatchRepo and MessageRepo store their owner's files with it).

#include <string>
#include <vector>

#include "mailer/core/attachment.hpp"
#include "mailer/store/attachments.hpp"
#include "mailer/store/database.hpp"

namespace mailer::store {

/// Inserts `attachments` for `owner_id` in order (position 0, 1, ...). Runs
/// in the caller's transaction; throws SQLite::Exception like the caller's
/// other statements, which its sql::transaction turns into an Error.
void insert_attachment_rows(Database& db, AttachmentOwner owner, const std::string& owner_id,
                            const std::vector<Attachment>& attachments);

}  // namespace mailer::store
