-- A count of committed changes to `tasks`, for knowing exactly when a kept list page or total
-- is still right (`snapshot_cache`). Every statement that writes `tasks` adds one to a row of
-- this table in its own transaction, so the sum a statement sees moves exactly when the tasks
-- it sees have changed: unlike the server's snapshot, it stays still while the relay marks
-- events, consumers write, or other databases on the server commit.
--
-- Spread over 32 rows so that concurrent writers rarely wait for each other's row: each
-- connection adds to the row its backend pid picks, and a transaction holds that row from its
-- write to its commit.
CREATE TABLE task_changes (
    shard smallint PRIMARY KEY,
    n     bigint NOT NULL
);
INSERT INTO task_changes (shard, n) SELECT s, 0 FROM generate_series(0, 31) AS s;

CREATE FUNCTION count_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_changes SET n = n + 1 WHERE shard = pg_backend_pid() % 32;
    RETURN NULL;
END
$$;

CREATE TRIGGER tasks_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION count_task_change();
