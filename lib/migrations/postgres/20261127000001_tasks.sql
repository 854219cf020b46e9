-- Tasks and the transactional outbox.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE tasks (
    id                uuid PRIMARY KEY,
    owner_id          text NOT NULL,
    title             text NOT NULL,
    title_key         text NOT NULL,
    description       text,
    search_text       text NOT NULL,
    status            text NOT NULL CHECK (status IN ('pending', 'in_progress', 'completed')),
    priority          smallint NOT NULL CHECK (priority BETWEEN 1 AND 3),
    tags              jsonb NOT NULL DEFAULT '[]'::jsonb,
    due_date          timestamptz,
    reminder_at       timestamptz,
    recurrence_rule   text,
    recurrence_anchor text NOT NULL DEFAULT 'schedule' CHECK (recurrence_anchor IN ('schedule', 'completion')),
    timezone          text NOT NULL DEFAULT 'UTC',
    series_id         uuid,
    series_start      timestamptz,
    occurrence        integer NOT NULL DEFAULT 1,
    reminder_fired_at timestamptz,
    completed_at      timestamptz,
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    version           bigint NOT NULL,
    CONSTRAINT tasks_completed_at_matches_status CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);

CREATE INDEX tasks_owner_created_idx  ON tasks (owner_id, created_at, id);
CREATE INDEX tasks_owner_due_idx      ON tasks (owner_id, due_date, id);
CREATE INDEX tasks_owner_priority_idx ON tasks (owner_id, priority, id);
CREATE INDEX tasks_owner_title_idx    ON tasks (owner_id, (title_key COLLATE "C"), id);
CREATE INDEX tasks_owner_status_idx   ON tasks (owner_id, status);
CREATE INDEX tasks_series_idx         ON tasks (series_id) WHERE series_id IS NOT NULL;
CREATE INDEX tasks_reminder_due_idx   ON tasks (reminder_at) WHERE reminder_fired_at IS NULL AND completed_at IS NULL;
CREATE INDEX tasks_tags_idx           ON tasks USING gin (tags);
CREATE INDEX tasks_search_idx         ON tasks USING gin (search_text gin_trgm_ops);

-- Every task change writes its CloudEvent here in the same transaction; a relay publishes it.
CREATE TABLE outbox (
    seq             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              uuid NOT NULL UNIQUE,
    task_id         uuid NOT NULL,
    event_type      text NOT NULL,
    topic           text NOT NULL,
    cloudevent      jsonb NOT NULL,
    created_at      timestamptz NOT NULL,
    published_at    timestamptz,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text
);

CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at, seq) WHERE published_at IS NULL;
