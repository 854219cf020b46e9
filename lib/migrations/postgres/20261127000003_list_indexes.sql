-- Due-date sorting in both directions with missing dates last, and the common "one status,
-- sorted" list, served from indexes.
CREATE INDEX tasks_owner_due_desc_idx        ON tasks (owner_id, due_date DESC NULLS LAST, id DESC);
CREATE INDEX tasks_owner_status_priority_idx ON tasks (owner_id, status, priority, id);
CREATE INDEX tasks_owner_status_created_idx  ON tasks (owner_id, status, created_at, id);
