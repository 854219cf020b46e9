-- A count of committed changes to `tasks`, for knowing exactly when a kept list page or total
-- is still right (`snapshot_cache`). Every statement that writes what lists see of `tasks` adds
-- one to a row of this table in its own transaction, so the sum a statement sees moves whenever
-- the tasks it sees have changed: unlike the server's snapshot, it stays still while the relay
-- marks events, consumers write, reminders fire, or other databases on the server commit.
--
-- Spread over 32 rows so that concurrent writers rarely wait for each other's row: each
-- connection adds to the row its backend pid picks, and a transaction holds that row from its
-- write to its commit. Every transaction of the app writes `tasks` in one statement, so it takes
-- that row after all its task rows and cannot deadlock on it; a transaction that wrote `tasks`
-- in two statements could (it would hold the row while waiting for task rows). The 32 rows fill
-- a fraction of one page, so their updates stay on it (HOT) and old versions are pruned there.
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

-- Every column a list can show, filter or sort by: all but `reminder_fired_at`, which only the
-- reminder scheduler sets (every second, usually on no row at all). A column added to `tasks`
-- later belongs in this list unless lists never see it.
CREATE TRIGGER tasks_changed
    AFTER INSERT OR DELETE OR TRUNCATE
       OR UPDATE OF id, owner_id, title, title_key, description, search_text, status, priority, tags,
                    due_date, reminder_at, recurrence_rule, recurrence_anchor, timezone, series_id,
                    series_start, occurrence, completed_at, created_at, updated_at, version
    ON tasks FOR EACH STATEMENT EXECUTE FUNCTION count_task_change();
