-- A delivery's id is its Standard Webhooks message id (webhook-id
-- "whd_<id>"), which receivers keep to drop repeats, so it must never be
-- given twice. INTEGER PRIMARY KEY alone reuses the largest id once its row
-- is gone (an endpoint deleted with its deliveries); AUTOINCREMENT does not.
-- SQLite cannot add AUTOINCREMENT to a table, so both webhook tables are
-- rebuilt with their rows and ids. The attempts are copied into a table that
-- already points at the new deliveries before the old tables are dropped, so
-- no ON DELETE CASCADE fires (foreign keys stay on while migrating). The
-- sequence starts after the largest id still stored: an id whose rows were
-- deleted before this migration may be given once more.
CREATE TABLE webhook_deliveries_new (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,  -- shown as whd_<id>
  endpoint_id         TEXT NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  kind                TEXT NOT NULL CHECK (kind IN ('events','test')),
  first_event_id      INTEGER,                    -- NULL for a test delivery
  last_event_id       INTEGER,
  event_count         INTEGER NOT NULL,
  body                TEXT NOT NULL,              -- the exact bytes signed and sent
  status              TEXT NOT NULL CHECK (status IN ('pending','delivered','failed')),
  attempts            INTEGER NOT NULL DEFAULT 0,
  next_attempt_at_ms  INTEGER NOT NULL,
  retry_until_ms      INTEGER NOT NULL,           -- given up after the first failure past this
  last_status_code    INTEGER,                    -- HTTP status of the last attempt; NULL: no answer
  last_error          TEXT,
  last_latency_ms     INTEGER,
  created_at_ms       INTEGER NOT NULL,
  updated_at_ms       INTEGER NOT NULL,
  delivered_at_ms     INTEGER
) STRICT;
INSERT INTO webhook_deliveries_new SELECT * FROM webhook_deliveries;

CREATE TABLE webhook_attempts_new (
  id                  INTEGER PRIMARY KEY,
  delivery_id         INTEGER NOT NULL REFERENCES webhook_deliveries_new(id) ON DELETE CASCADE,
  attempted_at_ms     INTEGER NOT NULL,
  status_code         INTEGER,                    -- NULL: no HTTP answer (see error)
  error               TEXT,
  latency_ms          INTEGER NOT NULL,
  response            TEXT NOT NULL DEFAULT ''    -- the first 256 bytes of the answer
) STRICT;
INSERT INTO webhook_attempts_new SELECT * FROM webhook_attempts;

DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
-- RENAME also rewrites webhook_attempts_new's reference to the new name.
ALTER TABLE webhook_deliveries_new RENAME TO webhook_deliveries;
ALTER TABLE webhook_attempts_new RENAME TO webhook_attempts;
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(endpoint_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, id);
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, id);
