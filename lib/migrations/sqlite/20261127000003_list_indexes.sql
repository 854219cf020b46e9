-- The common "one status, sorted" list, served from indexes (see the PostgreSQL twin).
CREATE INDEX tasks_owner_status_priority_idx ON tasks (owner_id, status, priority, id);
CREATE INDEX tasks_owner_status_created_idx  ON tasks (owner_id, status, created_at, id);
