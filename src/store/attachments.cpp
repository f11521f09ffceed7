#include "mailer/store/attachments.hpp"

#include "store/attachment_rows.hpp"
#include "store/sql_util.hpp"

namespace mailer::store {
namespace {

const char* owner_column(AttachmentOwner owner) { return owner == AttachmentOwner::batch ? "batch_id" : "message_id"; }

Attachment read_row(SQLite::Statement& query) {
  Attachment a;
  a.filename = query.getColumn(0).getString();
  a.content_type = query.getColumn(1).getString();
  a.disposition = query.getColumn(2).getString() == "inline" ? Disposition::inlined : Disposition::attachment;
  a.content_id = query.getColumn(3).getString();  // NULL reads as ""
  const auto& blob = query.getColumn(4);
  a.content = std::make_shared<const std::string>(static_cast<const char*>(blob.getBlob()),
                                                  static_cast<std::size_t>(blob.getBytes()));
  return a;
}

}  // namespace

void insert_attachment_rows(Database& db, AttachmentOwner owner, const std::string& owner_id,
                            const std::vector<Attachment>& attachments) {
  if (attachments.empty()) return;
  SQLite::Statement insert(db.sql(), std::string("INSERT INTO attachments(") + owner_column(owner) +
                                         ", position, filename, content_type, disposition, content_id, content)"
                                         " VALUES (?, ?, ?, ?, ?, ?, ?)");
  for (std::size_t i = 0; i < attachments.size(); ++i) {
    const auto& a = attachments[i];
    insert.bind(1, owner_id);
    insert.bind(2, static_cast<std::int64_t>(i));
    insert.bind(3, a.filename);
    insert.bind(4, a.content_type);
    insert.bind(5, to_string(a.disposition));
    if (a.content_id.empty()) insert.bind(6);
    else insert.bind(6, a.content_id);
    // NOTE: bindNoCopy: the bytes (up to 25 MiB) live in `a` until exec() returns.
    insert.bindNoCopy(7, static_cast<const void*>(a.content->data()), static_cast<int>(a.content->size()));
    insert.exec();
    insert.reset();
  }
}

Result<std::vector<Attachment>> AttachmentRepo::of(AttachmentOwner owner, const std::string& owner_id) {
  return sql::guard("read attachments", [&]() -> Result<std::vector<Attachment>> {
    SQLite::Statement query(m_db.sql(), std::string("SELECT filename, content_type, disposition, content_id, content"
                                                    " FROM attachments WHERE ") +
                                            owner_column(owner) + " = ? ORDER BY position");
    query.bind(1, owner_id);
    std::vector<Attachment> out;
    while (query.executeStep()) out.push_back(read_row(query));
    return out;
  });
}

Result<AttachmentRepo::Totals> AttachmentRepo::totals() {
  return sql::guard("count attachments", [&]() -> Result<Totals> {
    SQLite::Statement query(m_db.sql(), "SELECT count(*), coalesce(sum(length(content)), 0) FROM attachments");
    query.executeStep();
    return Totals{query.getColumn(0).getInt64(), query.getColumn(1).getInt64()};
  });
}

}  // namespace mailer::store
