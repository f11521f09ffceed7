-- Engagement figures (unique opens and clicks, hard bounces, clicked links)
-- kept as aggregates written in the transaction that inserts the event, like
-- batch_counts and event_counts_hourly, so the batch view and the admin
-- metrics never count event rows and stay right when old events are pruned.
--
-- New keys, in batch_counts (per batch) and event_counts_hourly (per UTC hour,
-- in the `type` column next to the event types):
--   'unique:OPEN'  messages opened at least once, counted at their first OPEN
--   'unique:CLICK' messages clicked at least once, counted at their first CLICK
-- and in event_counts_hourly only (batch_counts has it since 0001, written by
-- the feedback code):
--   'feedback:bounce_permanent' BOUNCE events whose detail says bounce_type
--                               Permanent (hard bounces, what SES's bounce
--                               rate counts)
-- "First" means no other event of that type on the same message, looked up
-- INDEXED BY events_by_message: a message has a handful of events, so the
-- check costs the same on any database size (never a scan of events_by_type).
-- A later migration that rebuilds `events` drops these triggers with it and
-- must create them again. An event with no message (SES named a message
-- mailerd does not know) counts in 'event:…' only: nothing tells whether its
-- reader opened before. NOTE: once retention deletes a message's events, a
-- later open of that message is counted as a first one again.
--
-- Detail JSON is written by mailerd itself (always valid), but every read of
-- it is guarded by json_valid so that a bad row can never fail an insert.

-- Links clicked in a batch's messages, as SES reports them (the link before
-- SES's tracking redirect), cut to their first 2048 characters (the event
-- detail keeps at most 2048 bytes already). unique_clicks counts messages that
-- clicked this link at least once.
CREATE TABLE batch_links (
  batch_id       TEXT NOT NULL,
  link           TEXT NOT NULL,
  clicks         INTEGER NOT NULL,
  unique_clicks  INTEGER NOT NULL,
  PRIMARY KEY (batch_id, link)
) STRICT;
-- The top links of a batch are the first rows of this index: no sort.
CREATE INDEX batch_links_top ON batch_links(batch_id, unique_clicks DESC, clicks DESC, link);

CREATE TRIGGER events_unique_engagement AFTER INSERT ON events
  WHEN NEW.type IN ('OPEN', 'CLICK') AND NEW.message_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM events e INDEXED BY events_by_message
                    WHERE e.message_id = NEW.message_id AND e.type = NEW.type AND e.id <> NEW.id)
BEGIN
  INSERT INTO event_counts_hourly(hour_ms, type, n)
    VALUES (NEW.occurred_at_ms - NEW.occurred_at_ms % 3600000, 'unique:' || NEW.type, 1)
    ON CONFLICT(hour_ms, type) DO UPDATE SET n = n + 1;
  INSERT INTO batch_counts(batch_id, key, n)
    SELECT NEW.batch_id, 'unique:' || NEW.type, 1 WHERE NEW.batch_id IS NOT NULL
    ON CONFLICT(batch_id, key) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER events_hard_bounce_hourly AFTER INSERT ON events
  WHEN NEW.type = 'BOUNCE'
   AND (CASE WHEN json_valid(NEW.detail_json) THEN json_extract(NEW.detail_json, '$.bounce_type') END) = 'Permanent'
BEGIN
  INSERT INTO event_counts_hourly(hour_ms, type, n)
    VALUES (NEW.occurred_at_ms - NEW.occurred_at_ms % 3600000, 'feedback:bounce_permanent', 1)
    ON CONFLICT(hour_ms, type) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER events_click_link AFTER INSERT ON events
  WHEN NEW.type = 'CLICK' AND NEW.batch_id IS NOT NULL AND NEW.message_id IS NOT NULL
BEGIN
  INSERT INTO batch_links(batch_id, link, clicks, unique_clicks)
    SELECT NEW.batch_id, c.link, 1,
           NOT EXISTS (SELECT 1 FROM events e INDEXED BY events_by_message
                        WHERE e.message_id = NEW.message_id AND e.type = 'CLICK' AND e.id <> NEW.id
                          AND (CASE WHEN json_valid(e.detail_json)
                                    THEN substr(json_extract(e.detail_json, '$.link'), 1, 2048) END) = c.link)
      FROM (SELECT CASE WHEN json_valid(NEW.detail_json) THEN
                     CASE WHEN json_type(NEW.detail_json, '$.link') = 'text'
                          THEN substr(json_extract(NEW.detail_json, '$.link'), 1, 2048) END END AS link) AS c
     WHERE c.link IS NOT NULL AND c.link <> ''
    ON CONFLICT(batch_id, link) DO UPDATE
      SET clicks = clicks + 1, unique_clicks = unique_clicks + excluded.unique_clicks;
END;

-- Backfill from the events already stored, with the rules above: a message's
-- first OPEN or CLICK is its lowest event id of that type.
INSERT INTO batch_counts(batch_id, key, n)
  SELECT batch_id, 'unique:' || type, count(DISTINCT message_id) FROM events
   WHERE type IN ('OPEN', 'CLICK') AND batch_id IS NOT NULL AND message_id IS NOT NULL
   GROUP BY batch_id, type;

INSERT INTO event_counts_hourly(hour_ms, type, n)
  SELECT e.occurred_at_ms - e.occurred_at_ms % 3600000, 'unique:' || e.type, count(*)
    FROM (SELECT min(id) AS id FROM events
           WHERE type IN ('OPEN', 'CLICK') AND message_id IS NOT NULL
           GROUP BY message_id, type) AS first
    JOIN events e ON e.id = first.id
   WHERE true
   GROUP BY 1, 2;

INSERT INTO event_counts_hourly(hour_ms, type, n)
  SELECT occurred_at_ms - occurred_at_ms % 3600000, 'feedback:bounce_permanent', count(*) FROM events
   WHERE type = 'BOUNCE'
     AND (CASE WHEN json_valid(detail_json) THEN json_extract(detail_json, '$.bounce_type') END) = 'Permanent'
   GROUP BY 1;

INSERT INTO batch_links(batch_id, link, clicks, unique_clicks)
  SELECT batch_id, link, count(*), count(DISTINCT message_id)
    FROM (SELECT batch_id, message_id,
                 CASE WHEN json_valid(detail_json) THEN
                   CASE WHEN json_type(detail_json, '$.link') = 'text'
                        THEN substr(json_extract(detail_json, '$.link'), 1, 2048) END END AS link
            FROM events
           WHERE type = 'CLICK' AND batch_id IS NOT NULL AND message_id IS NOT NULL)
   WHERE link IS NOT NULL AND link <> ''
   GROUP BY batch_id, link;
