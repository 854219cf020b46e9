-- The relay walks unpublished events oldest first and stops after a batch: an index in that
-- order, holding only unpublished rows, keeps a claim proportional to the batch, not to the
-- backlog (the earlier (next_attempt_at, seq) index made every claim sort the whole backlog).
-- Its predicate also names `attempts >= 0` (always true), so that only a query that says so
-- can use it: the claim's "no older unpublished event of this task" probe cannot, and always
-- takes the (task_id, seq) index. A cost-based choice between the two went wrong when the
-- statistics said both partial indexes were empty, as they are whenever the relay is caught up.
DROP INDEX outbox_pending_idx;
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL AND attempts >= 0;
-- Already covered by the (owner_id, status, ...) indexes; one index less on every task write.
DROP INDEX tasks_owner_status_idx;
