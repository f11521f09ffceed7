-- Files sent with a message as SES v2 Content.Simple.Attachments, decoded
-- from base64 once at acceptance and kept as bytes.
--
-- A batch's attachments are the same for every recipient, so they are stored
-- once, owned by the batch (batch_id); a transactional message owns its own
-- (message_id). Exactly one owner is set, and deleting the owner deletes its
-- attachments: an erased or pruned message takes its files with it, a batch
-- keeps its files as long as the batch row exists.
--
--   position      0-based order in the request, the order they are sent in
--   disposition   'attachment' or 'inline' (shown in the HTML by content_id)
--   content_id    the Content-ID an inline part is referenced by (cid:...)
--   content       the decoded bytes
CREATE TABLE attachments (
  id            INTEGER PRIMARY KEY,
  batch_id      TEXT REFERENCES batches(id) ON DELETE CASCADE,
  message_id    TEXT REFERENCES messages(id) ON DELETE CASCADE,
  position      INTEGER NOT NULL,
  filename      TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  disposition   TEXT NOT NULL CHECK (disposition IN ('attachment', 'inline')),
  content_id    TEXT,
  content       BLOB NOT NULL,
  CHECK ((batch_id IS NULL) <> (message_id IS NULL))
) STRICT;
-- Reading a message's or batch's files in order, and the lookups SQLite makes
-- for ON DELETE CASCADE (without them each deleted message scans this table).
CREATE INDEX attachments_by_batch ON attachments(batch_id, position);
CREATE INDEX attachments_by_message ON attachments(message_id, position);
