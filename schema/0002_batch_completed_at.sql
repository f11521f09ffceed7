-- A batch that finished (completed or cancelled) always carries the time it
-- did. Earlier versions could store `completed` without completed_at_ms; the
-- last change to such a row is the best record of when it finished.
UPDATE batches SET completed_at_ms = updated_at_ms
 WHERE status IN ('completed', 'cancelled') AND completed_at_ms IS NULL;
