-- Outgoing webhooks (Standard Webhooks): the operator's endpoints, the
-- deliveries made for them and every attempt of each delivery.
--
-- An endpoint reads the events table through a cursor, last_event_id: the
-- webhook thread groups the events after it into a delivery and moves the
-- cursor in the same transaction, so the sending of mail writes nothing for
-- webhooks. Event ids are given in commit order (one writer at a time), so a
-- cursor never passes an event that commits later.

CREATE TABLE webhook_endpoints (
  id                  TEXT PRIMARY KEY,           -- whk_...
  url                 TEXT NOT NULL,
  description         TEXT NOT NULL DEFAULT '',
  -- "whsec_" + base64 of 32 random bytes. Kept as is, not hashed: mailerd
  -- signs every delivery with it.
  secret              TEXT NOT NULL,
  event_types_json    TEXT NOT NULL DEFAULT '[]', -- event types wanted; [] = all
  batch_id            TEXT,                       -- only events of this batch
  tags_json           TEXT NOT NULL DEFAULT '{}', -- only events whose message has all these tags
  enabled             INTEGER NOT NULL DEFAULT 1,
  disabled_reason     TEXT,
  disabled_at_ms      INTEGER,
  last_event_id       INTEGER NOT NULL,           -- events up to this id are in a delivery or filtered out
  failing_since_ms    INTEGER,                    -- first failed attempt since the last success
  last_success_at_ms  INTEGER,
  created_at_ms       INTEGER NOT NULL,
  updated_at_ms       INTEGER NOT NULL
) STRICT;

-- One request body, retried until delivered or given up. Its id is the
-- Standard Webhooks message id (header webhook-id "whd_<id>"), the same on
-- every attempt and replay, so receivers can drop duplicates by it.
CREATE TABLE webhook_deliveries (
  id                  INTEGER PRIMARY KEY,        -- shown as whd_<id>
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
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries(endpoint_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_by_endpoint ON webhook_deliveries(endpoint_id, id);

CREATE TABLE webhook_attempts (
  id                  INTEGER PRIMARY KEY,
  delivery_id         INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  attempted_at_ms     INTEGER NOT NULL,
  status_code         INTEGER,                    -- NULL: no HTTP answer (see error)
  error               TEXT,
  latency_ms          INTEGER NOT NULL,
  response            TEXT NOT NULL DEFAULT ''    -- the first 256 bytes of the answer
) STRICT;
CREATE INDEX webhook_attempts_by_delivery ON webhook_attempts(delivery_id, id);
