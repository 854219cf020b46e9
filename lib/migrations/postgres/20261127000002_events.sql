-- The consumers' tables: audit log, recurrence links, notifications. Each consumer's effect is
-- keyed so that redelivery changes nothing (event id, or the completed occurrence's id).
CREATE INDEX outbox_task_pending_idx ON outbox (task_id, seq) WHERE published_at IS NULL;

CREATE TABLE audit_log (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    owner_id    text NOT NULL,
    task_id     uuid NOT NULL,
    event_type  text NOT NULL,
    source      text NOT NULL,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL,
    payload     jsonb NOT NULL
);
CREATE INDEX audit_log_task_idx  ON audit_log (task_id, occurred_at, seq);
CREATE INDEX audit_log_owner_idx ON audit_log (owner_id, seq);

-- One row per completed occurrence that produced its successor: the natural key that makes
-- "create the next occurrence" happen once, whatever is redelivered or re-completed.
CREATE TABLE recurrence_links (
    task_id      uuid PRIMARY KEY,
    next_task_id uuid NOT NULL,
    event_id     uuid NOT NULL,
    created_at   timestamptz NOT NULL
);

CREATE TABLE notifications (
    id                uuid PRIMARY KEY,
    event_id          uuid NOT NULL UNIQUE,
    owner_id          text NOT NULL,
    task_id           uuid NOT NULL,
    title             text NOT NULL,
    message           text NOT NULL,
    due_at            timestamptz,
    created_at        timestamptz NOT NULL,
    read_at           timestamptz,
    delivered_at      timestamptz,
    delivery_attempts integer NOT NULL DEFAULT 0,
    next_delivery_at  timestamptz,
    last_error        text
);
CREATE INDEX notifications_owner_idx    ON notifications (owner_id, created_at);
CREATE INDEX notifications_delivery_idx ON notifications (next_delivery_at) WHERE delivered_at IS NULL AND next_delivery_at IS NOT NULL;
