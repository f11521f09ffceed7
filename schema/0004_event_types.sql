-- Every SES event type is stored: SEND, REJECT, OPEN, CLICK, DELIVERY_DELAY,
-- RENDERING_FAILURE, SUBSCRIPTION, and OTHER for a type mailerd does not
-- know. SQLite cannot change a CHECK constraint, so the table is rebuilt:
-- copy every row (ids kept, so cursors stay valid), drop the old table (which
-- drops its indexes and triggers), rename, then recreate the indexes and
-- triggers exactly as 0001_init.sql made them. The copy fires no trigger:
-- batch_counts and event_counts_hourly already count these rows.
CREATE TABLE events_new (
  id              INTEGER PRIMARY KEY,  -- shown as evt_<id>
  type            TEXT NOT NULL CHECK (type IN ('SENT','DEFERRED','FAILED','SUPPRESSED',
                    'DELIVERY','BOUNCE','COMPLAINT','UNSUBSCRIBE',
                    'SEND','REJECT','OPEN','CLICK','DELIVERY_DELAY','RENDERING_FAILURE',
                    'SUBSCRIPTION','OTHER')),
  batch_id        TEXT,
  message_id      TEXT,
  email           TEXT NOT NULL,
  detail_json     TEXT NOT NULL DEFAULT '{}',
  occurred_at_ms  INTEGER NOT NULL
) STRICT;
INSERT INTO events_new(id, type, batch_id, message_id, email, detail_json, occurred_at_ms)
  SELECT id, type, batch_id, message_id, email, detail_json, occurred_at_ms FROM events;
DROP TABLE events;
ALTER TABLE events_new RENAME TO events;
CREATE INDEX events_by_batch ON events(batch_id, type, occurred_at_ms) WHERE batch_id IS NOT NULL;
CREATE INDEX events_by_type ON events(type, occurred_at_ms);
CREATE INDEX events_by_email ON events(email, occurred_at_ms);
CREATE INDEX events_by_message ON events(message_id) WHERE message_id IS NOT NULL;
CREATE TRIGGER events_count_insert AFTER INSERT ON events WHEN NEW.batch_id IS NOT NULL
BEGIN
  INSERT INTO batch_counts(batch_id, key, n) VALUES (NEW.batch_id, 'event:' || NEW.type, 1)
    ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER events_hourly_insert AFTER INSERT ON events
BEGIN
  INSERT INTO event_counts_hourly(hour_ms, type, n)
    VALUES (NEW.occurred_at_ms - NEW.occurred_at_ms % 3600000, NEW.type, 1)
    ON CONFLICT(hour_ms, type) DO UPDATE SET n = n + 1;
END;
