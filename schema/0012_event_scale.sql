-- Two things GET /metrics and GET /v1/events need to cost the same on any
-- history (docs/PERFORMANCE.md "Scale").
--
-- Every event ever recorded, by type: one row per type, kept by a trigger in
-- the transaction that inserts the event, like event_counts_hourly. GET
-- /metrics reads these few rows for mailer_events_total instead of summing
-- every hour of event_counts_hourly, which grows with the history kept (a
-- year of hours is tens of thousands of rows to add up on every scrape).
-- There is no DELETE trigger: pruning old events leaves the totals as they
-- were, so the counters only ever grow, as Prometheus counters must.
CREATE TABLE event_counts_total (
  type TEXT PRIMARY KEY,  -- an event type (events.type)
  n    INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TRIGGER events_total_insert AFTER INSERT ON events
BEGIN
  INSERT INTO event_counts_total(type, n) VALUES (NEW.type, 1)
    ON CONFLICT(type) DO UPDATE SET n = n + 1;
END;

-- The hourly aggregates have counted every event so far (nothing deletes
-- their rows); their derived keys (unique:OPEN, feedback:...) hold a colon,
-- event types never do.
INSERT INTO event_counts_total(type, n)
  SELECT type, sum(n) FROM event_counts_hourly WHERE instr(type, ':') = 0 GROUP BY type;

-- GET /v1/events?batch_id=... lists a batch's events in id order. Through
-- events_by_batch (batch_id, type, occurred_at_ms) that meant reading every
-- event of the batch and sorting them for each page: ~100 ms for a batch of
-- 100,000 recipients. In (batch_id, id) order a page is a seek and 51 steps.
-- A filter on type as well keeps events_by_batch (store/events.cpp), which
-- finds a rare type without stepping over the batch's other events.
CREATE INDEX events_by_batch_id ON events(batch_id, id) WHERE batch_id IS NOT NULL;
