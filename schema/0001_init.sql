-- mailerd schema, version 1: the whole data model.
-- Conventions: ids are opaque TEXT with a type prefix (tmpl_, bat_, msg_, key_);
-- events use their INTEGER rowid (shown as evt_<n>). Times are INTEGER
-- milliseconds since the Unix epoch (UTC) in columns ending _ms. JSON documents
-- are TEXT columns ending _json. A released migration file is never edited:
-- later changes go into 0002_*.sql and onwards.

CREATE TABLE templates (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL UNIQUE,
  current_version INTEGER NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
) STRICT;

-- Each update of a template adds a row; rows are never changed, so a batch
-- pinned to (template_id, version) renders exactly what it was created with.
CREATE TABLE template_versions (
  template_id     TEXT NOT NULL REFERENCES templates(id) ON DELETE CASCADE,
  version         INTEGER NOT NULL,
  subject         TEXT NOT NULL,
  html            TEXT,
  text            TEXT,
  variables_json  TEXT NOT NULL DEFAULT '[]',  -- variable names the parts use
  created_at_ms   INTEGER NOT NULL,
  PRIMARY KEY (template_id, version)
) STRICT;

CREATE TABLE batches (
  id                TEXT PRIMARY KEY,
  status            TEXT NOT NULL CHECK (status IN
                      ('scheduled','queued','sending','paused','completed','cancelled')),
  template_id       TEXT,                 -- NULL when content is inline
  template_version  INTEGER,
  subject           TEXT,                 -- inline content (when template_id IS NULL)
  html              TEXT,
  text              TEXT,
  from_address      TEXT NOT NULL,
  reply_to_json     TEXT NOT NULL DEFAULT '[]',
  variables_json    TEXT NOT NULL DEFAULT '{}',
  metadata_json     TEXT NOT NULL DEFAULT '{}',
  tags_json         TEXT NOT NULL DEFAULT '{}',
  configuration_set TEXT,
  send_at_ms        INTEGER,
  send_before_ms    INTEGER,
  pause_reason      TEXT,                 -- operator or reputation guard
  accepted_count    INTEGER NOT NULL DEFAULT 0,
  invalid_count     INTEGER NOT NULL DEFAULT 0,
  duplicate_count   INTEGER NOT NULL DEFAULT 0,
  suppressed_count  INTEGER NOT NULL DEFAULT 0,  -- suppressed when accepted
  invalid_json      TEXT NOT NULL DEFAULT '[]',  -- [{index, address, reason}] skipped
  api_key_id        TEXT,
  created_at_ms     INTEGER NOT NULL,
  updated_at_ms     INTEGER NOT NULL,
  completed_at_ms   INTEGER
) STRICT;
CREATE INDEX batches_by_status ON batches(status, id);
CREATE INDEX batches_by_template ON batches(template_id) WHERE template_id IS NOT NULL;

-- The durable job table: one row per recipient (bulk) or per transactional send.
CREATE TABLE messages (
  id                 TEXT PRIMARY KEY,
  batch_id           TEXT REFERENCES batches(id) ON DELETE CASCADE,  -- NULL: transactional
  recipient_index    INTEGER,           -- position in the batch request
  kind               TEXT NOT NULL CHECK (kind IN ('bulk','transactional')),
  priority           INTEGER NOT NULL,  -- lower is claimed first: 0 transactional, 1 bulk
  state              TEXT NOT NULL CHECK (state IN
                       ('scheduled','queued','sending','sent','failed','suppressed','cancelled')),
  paused             INTEGER NOT NULL DEFAULT 0,  -- 1 while its batch is paused
  email              TEXT NOT NULL,     -- normalized address (punycode domain, lowercase domain)
  variables_json     TEXT NOT NULL DEFAULT '{}',
  -- Transactional messages carry their own content; bulk ones take the batch's.
  template_id        TEXT,
  template_version   INTEGER,
  subject            TEXT,
  html               TEXT,
  text               TEXT,
  from_address       TEXT,
  reply_to_json      TEXT,
  tags_json          TEXT,
  configuration_set  TEXT,
  run_at_ms          INTEGER NOT NULL,  -- not claimed before this time
  lease_token        INTEGER,           -- fencing token of the current claim
  lease_expires_ms   INTEGER,
  attempts           INTEGER NOT NULL DEFAULT 0,
  last_error_code    TEXT,              -- SES error code or our ErrorCode name
  last_error         TEXT,
  ses_message_id     TEXT,
  created_at_ms      INTEGER NOT NULL,
  updated_at_ms      INTEGER NOT NULL,
  sent_at_ms         INTEGER,
  failed_at_ms       INTEGER            -- when it entered the DLQ
) STRICT;
-- Claiming: due, unpaused queued work by priority then time.
CREATE INDEX messages_claim ON messages(priority, run_at_ms) WHERE state = 'queued' AND paused = 0;
CREATE INDEX messages_leased ON messages(lease_expires_ms) WHERE state = 'sending';
CREATE INDEX messages_scheduled ON messages(run_at_ms) WHERE state = 'scheduled';
CREATE INDEX messages_by_batch ON messages(batch_id, state);
CREATE INDEX messages_by_ses_id ON messages(ses_message_id) WHERE ses_message_id IS NOT NULL;
CREATE INDEX messages_dlq ON messages(failed_at_ms) WHERE state = 'failed';
CREATE INDEX messages_sent_time ON messages(sent_at_ms) WHERE sent_at_ms IS NOT NULL;

CREATE TABLE events (
  id              INTEGER PRIMARY KEY,  -- shown as evt_<id>
  type            TEXT NOT NULL CHECK (type IN ('SENT','DEFERRED','FAILED','SUPPRESSED',
                    'DELIVERY','BOUNCE','COMPLAINT','UNSUBSCRIBE')),
  batch_id        TEXT,
  message_id      TEXT,
  email           TEXT NOT NULL,
  detail_json     TEXT NOT NULL DEFAULT '{}',
  occurred_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX events_by_batch ON events(batch_id, type, occurred_at_ms) WHERE batch_id IS NOT NULL;
CREATE INDEX events_by_type ON events(type, occurred_at_ms);
CREATE INDEX events_by_email ON events(email, occurred_at_ms);
CREATE INDEX events_by_message ON events(message_id) WHERE message_id IS NOT NULL;

-- Per-batch counts kept exact inside the same transaction as the change that
-- moves them (triggers below), so GET /v1/batches/{id} never counts rows.
-- key: 'state:<message state>' or 'event:<event type>'.
CREATE TABLE batch_counts (
  batch_id TEXT NOT NULL,
  key      TEXT NOT NULL,
  n        INTEGER NOT NULL,
  PRIMARY KEY (batch_id, key)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER messages_count_insert AFTER INSERT ON messages WHEN NEW.batch_id IS NOT NULL
BEGIN
  INSERT INTO batch_counts(batch_id, key, n) VALUES (NEW.batch_id, 'state:' || NEW.state, 1)
    ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER messages_count_update AFTER UPDATE OF state ON messages
  WHEN NEW.batch_id IS NOT NULL AND NEW.state <> OLD.state
BEGIN
  UPDATE batch_counts SET n = n - 1 WHERE batch_id = OLD.batch_id AND key = 'state:' || OLD.state;
  INSERT INTO batch_counts(batch_id, key, n) VALUES (NEW.batch_id, 'state:' || NEW.state, 1)
    ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER events_count_insert AFTER INSERT ON events WHEN NEW.batch_id IS NOT NULL
BEGIN
  INSERT INTO batch_counts(batch_id, key, n) VALUES (NEW.batch_id, 'event:' || NEW.type, 1)
    ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1;
END;

-- Hourly event aggregates for admin metrics over millions of events.
CREATE TABLE event_counts_hourly (
  hour_ms INTEGER NOT NULL,  -- start of the UTC hour
  type    TEXT NOT NULL,
  n       INTEGER NOT NULL,
  PRIMARY KEY (hour_ms, type)
) STRICT, WITHOUT ROWID;
CREATE TRIGGER events_hourly_insert AFTER INSERT ON events
BEGIN
  INSERT INTO event_counts_hourly(hour_ms, type, n)
    VALUES (NEW.occurred_at_ms - NEW.occurred_at_ms % 3600000, NEW.type, 1)
    ON CONFLICT(hour_ms, type) DO UPDATE SET n = n + 1;
END;

-- email: normalized, lowercased address (comparison is case-insensitive).
CREATE TABLE suppressions (
  email          TEXT PRIMARY KEY,
  reason         TEXT NOT NULL CHECK (reason IN
                   ('bounce','complaint','unsubscribe','manual','soft_bounce')),
  scope          TEXT NOT NULL CHECK (scope IN ('all','bulk')),  -- unsubscribe: bulk only
  detail_json    TEXT NOT NULL DEFAULT '{}',
  created_at_ms  INTEGER NOT NULL,
  updated_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX suppressions_by_time ON suppressions(created_at_ms);

CREATE TABLE api_keys (
  id               TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  scope            TEXT NOT NULL CHECK (scope IN ('read','send','admin')),
  prefix           TEXT NOT NULL,         -- first 12 characters of the key, e.g. "mk_AbCdEfGhI"
  hash             BLOB NOT NULL UNIQUE,  -- SHA-256 of the whole key
  created_at_ms    INTEGER NOT NULL,
  revoked_at_ms    INTEGER,
  last_used_at_ms  INTEGER,
  use_count        INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE api_key_audit (
  id             INTEGER PRIMARY KEY,
  key_id         TEXT NOT NULL,
  action         TEXT NOT NULL CHECK (action IN ('created','revoked','used')),
  actor          TEXT NOT NULL,          -- 'mailerctl' or the acting key id
  detail_json    TEXT NOT NULL DEFAULT '{}',
  at_ms          INTEGER NOT NULL
) STRICT;
CREATE INDEX api_key_audit_by_key ON api_key_audit(key_id, id);

CREATE TABLE idempotency_keys (
  api_key_id     TEXT NOT NULL,
  key            TEXT NOT NULL,
  request_hash   TEXT NOT NULL,          -- SHA-256 of method, route and body
  status         INTEGER NOT NULL,
  response_body  TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  PRIMARY KEY (api_key_id, key)
) STRICT;
CREATE INDEX idempotency_by_time ON idempotency_keys(created_at_ms);

-- SNS redelivers; a MessageId seen here is acknowledged and not processed again.
CREATE TABLE sns_messages (
  message_id      TEXT PRIMARY KEY,
  topic_arn       TEXT NOT NULL,
  type            TEXT NOT NULL,
  received_at_ms  INTEGER NOT NULL
) STRICT;
CREATE INDEX sns_messages_by_time ON sns_messages(received_at_ms);
