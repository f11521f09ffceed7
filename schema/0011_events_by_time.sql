-- Events by time (`mailerctl events export --since --until`, and the API's
-- since/until without a type): the existing indexes all start with another
-- column (type, email, batch_id, message_id), so a time range over every type
-- scanned the whole table. An index entry ends in the rowid, so this one is
-- ordered by (occurred_at_ms, id): the keyset an export pages by.
CREATE INDEX events_by_time ON events(occurred_at_ms);
