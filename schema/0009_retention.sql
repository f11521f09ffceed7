-- Retention (docs/API.md "Retention"): the pruner finds finished messages by
-- the time they finished, oldest first, through this index, so a pass costs
-- the rows it clears or deletes, never a walk over every message. `failed`
-- messages are found through messages_dlq (failed_at_ms) instead; queued,
-- scheduled and sending ones are never pruned, so they stay out of it.
-- Events, API key audit rows, SNS message ids and idempotency keys are found
-- through their rowid or the time indexes 0001_init.sql made.
--
-- Nothing here changes batch_counts, event_counts_hourly or batch_links: they
-- have no DELETE trigger, so the counts survive the rows they count.
CREATE INDEX messages_finished ON messages(updated_at_ms)
  WHERE state IN ('sent', 'suppressed', 'cancelled');
