//! The ports the use-cases need. Adapters (storage/, events/) implement them; the use-cases in
//! app/ depend only on these traits and on the domain.

use async_trait::async_trait;

use crate::domain::{DomainEvent, OwnerId, Priority, Status, Tag, Task, TaskId};

/// Why a storage call failed. Never carries user input problems (those are caught earlier).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or refused the operation transiently.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// A stored row could not be turned back into a domain value.
    #[error("stored data is unreadable: {0}")]
    Corrupt(String),
    /// A remote store (the Dapr state API) failed.
    #[error("state store: {0}")]
    Remote(String),
    /// A start-up step around the database failed (creating a SQLite file's directory, taking
    /// the migration lock).
    #[error("{0}")]
    Setup(String),
    /// Migrations failed at start-up.
    #[error("database migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Unavailable(e)
    }
}

/// A column the task list can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortField {
    /// Due date, tasks without one last.
    DueDate,
    /// Priority by meaning (low < medium < high).
    Priority,
    /// Creation time (the default).
    #[default]
    CreatedAt,
    /// Title, case-insensitively.
    Title,
}

impl SortField {
    /// Parses the `sort_by` query value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "due_date" => Some(Self::DueDate),
            "priority" => Some(Self::Priority),
            "created_at" => Some(Self::CreatedAt),
            "title" => Some(Self::Title),
            _ => None,
        }
    }
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Ascending (the spec's default).
    #[default]
    Asc,
    /// Descending.
    Desc,
}

/// A task-list query. Everything here is applied in SQL.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Only tasks with this status.
    pub status: Option<Status>,
    /// Only tasks with this priority.
    pub priority: Option<Priority>,
    /// Only tasks carrying this tag.
    pub tag: Option<Tag>,
    /// Case-insensitive substring of title or description; `%` and `_` are literal.
    pub search: Option<String>,
    /// Only tasks of this recurring series.
    pub series_id: Option<TaskId>,
    /// Sort column.
    pub sort_by: SortField,
    /// Sort direction (nulls always last; ties broken by id).
    pub sort_order: SortOrder,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

/// One page of tasks and the number of tasks matching the filters.
#[derive(Debug, Clone)]
pub struct TaskPage {
    /// The page.
    pub tasks: Vec<Task>,
    /// All matches, ignoring limit and offset.
    pub total: u64,
    /// The state of the tasks (see [`TaskStore::snapshot`]) both the page and the total were
    /// read under, when the store can name one (PostgreSQL): the page stays exact while
    /// `snapshot` returns the same (see `snapshot_cache`).
    pub snapshot: Option<String>,
}

/// A page as the ids and versions of its tasks, in order, with the total (see
/// [`TaskStore::list_versions`]).
#[derive(Debug, Clone)]
pub struct VersionPage {
    /// The page's tasks: id and version.
    pub keys: Vec<(TaskId, i64)>,
    /// All matches, ignoring limit and offset.
    pub total: u64,
    /// As [`TaskPage::snapshot`].
    pub snapshot: Option<String>,
}

/// Outcome of a conditional write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Written.
    Done,
    /// The row is gone.
    NotFound,
    /// The row exists with another version.
    VersionMismatch,
}

/// Where tasks live. Every mutation also stores its events in the outbox, in the same
/// transaction: either both are committed or neither is.
#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Inserts a new task and its events.
    async fn insert(&self, task: &Task, events: &[DomainEvent]) -> Result<(), StoreError>;
    /// Reads one task of `owner`.
    async fn get(&self, owner: &OwnerId, id: TaskId) -> Result<Option<Task>, StoreError>;
    /// Replaces a task if its stored version is still `expected_version`.
    async fn update(
        &self,
        task: &Task,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError>;
    /// Deletes a task if its stored version is still `expected_version`.
    async fn delete(
        &self,
        owner: &OwnerId,
        id: TaskId,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError>;
    /// Filters, sorts and pages tasks in the database.
    async fn list(&self, owner: &OwnerId, query: &ListQuery) -> Result<TaskPage, StoreError>;
    /// The page `list` returns, named by its tasks' ids and versions only, for a caller that
    /// keeps tasks it has already read (a task's version changes with every change to it).
    /// `None` (the default): this store does not offer it, call `list`.
    async fn list_versions(
        &self,
        _owner: &OwnerId,
        _query: &ListQuery,
    ) -> Result<Option<VersionPage>, StoreError> {
        Ok(None)
    }
    /// The tasks of `owner` with these ids, in any order; ids not found are left out.
    async fn get_many(&self, owner: &OwnerId, ids: &[TaskId]) -> Result<Vec<Task>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.extend(self.get(owner, *id).await?);
        }
        Ok(out)
    }
    /// Every tag of `owner` with the number of tasks carrying it, most used first.
    async fn tags(&self, owner: &OwnerId) -> Result<Vec<(String, i64)>, StoreError>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
    /// A name for the current state of the tasks as lists see them, if this store can give one
    /// (PostgreSQL: the count of committed changes to them; the reminder scan's
    /// `reminder_fired_at` is not counted): equal names mean the same tasks in every list. `None`
    /// (the default) means results cannot be checked this way.
    async fn snapshot(&self) -> Result<Option<String>, StoreError> {
        Ok(None)
    }
}

// ---- Events: the outbox, the consumers' records, reminders, publishing. ----

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::event::IncomingEvent;

/// An outbox row claimed for publishing.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    /// The event id.
    pub id: Uuid,
    /// The task (partition key).
    pub task_id: TaskId,
    /// The CloudEvent to publish.
    pub cloudevent: Value,
    /// Failed attempts so far.
    pub attempts: i32,
}

/// One audit-log entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    /// The event id.
    pub event_id: Uuid,
    /// The task.
    pub task_id: TaskId,
    /// Event type name.
    pub event_type: String,
    /// Emitting function.
    pub source: String,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// When the audit consumer recorded it.
    pub recorded_at: DateTime<Utc>,
    /// The event's payload.
    pub payload: Value,
}

/// A notification shown to the owner (and delivered through a binding when configured).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Identity.
    pub id: Uuid,
    /// The `task.reminder.due` event it came from.
    pub event_id: Uuid,
    /// Owner.
    pub owner: String,
    /// The task.
    pub task_id: TaskId,
    /// Short title (the task's).
    pub title: String,
    /// Text shown.
    pub message: String,
    /// The task's due time, if any.
    pub due_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the owner marked it read.
    pub read_at: Option<DateTime<Utc>>,
    /// When the output binding accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

/// Filters of the activity feed.
#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    /// Only this event type.
    pub event_type: Option<String>,
    /// Only this task.
    pub task_id: Option<TaskId>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u64,
}

/// Storage for everything on the event side. Each consumer's effect is recorded under a key
/// that makes redelivery a no-op, in the same transaction as the effect.
#[async_trait]
pub trait EventStore: Send + Sync {
    /// Claims up to `limit` publishable outbox rows (the oldest unpublished event of each task,
    /// so one task's events go out in order), leasing them for `lease_secs`.
    async fn claim_outbox(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<OutboxRow>, StoreError>;
    /// Marks an event published.
    async fn outbox_published(&self, id: Uuid, now: DateTime<Utc>) -> Result<(), StoreError>;
    /// Marks several events published, in one statement.
    async fn outbox_published_many(
        &self,
        ids: &[Uuid],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for id in ids {
            self.outbox_published(*id, now).await?;
        }
        Ok(())
    }
    /// Records a failed publish and when to try again.
    async fn outbox_failed(
        &self,
        id: Uuid,
        error: &str,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// Deletes events published before `before` (the audit log keeps the history); returns how
    /// many. Keeps the claim query cheap as the table would otherwise only grow.
    async fn prune_outbox(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
    /// Index upkeep that would otherwise fall on some unlucky write or read: on PostgreSQL,
    /// merging the GIN indexes' pending lists, which the insert that fills one does while every
    /// create waits (ADR 0005); on SQLite, refreshing the planner's statistics on tasks when
    /// the table has doubled or halved. Run by the relay, off the request path.
    async fn tidy_indexes(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Events not yet published.
    async fn outbox_pending(&self) -> Result<u64, StoreError>;

    /// Appends an event to the audit log; `false` when it was already there.
    async fn record_audit(
        &self,
        ev: &IncomingEvent,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Appends several events in one transaction (each still keyed by its id). Only for the
    /// relay's own in-process delivery, between its claim and its published mark: PostgreSQL
    /// commits it without waiting for the WAL flush, which is durable only because the mark
    /// comes after it (ADR 0005). A consumer that acknowledges to someone else (Dapr) uses
    /// [`record_audit`](Self::record_audit).
    async fn record_audit_many(
        &self,
        evs: &[IncomingEvent],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for ev in evs {
            self.record_audit(ev, now).await?;
        }
        Ok(())
    }
    /// Creates `next` (and stores `events`) unless `from` already produced its successor;
    /// `false` when it had.
    async fn spawn_next(
        &self,
        from: TaskId,
        next: &Task,
        event_id: Uuid,
        events: &[DomainEvent],
    ) -> Result<bool, StoreError>;
    /// Stores a notification; `false` when its event was already recorded.
    async fn record_notification(
        &self,
        n: &Notification,
        deliver: bool,
    ) -> Result<bool, StoreError>;

    /// Marks every due, armed reminder as fired and stores a `task.reminder.due` event for each,
    /// atomically (a reminder fires once, however many schedulers run).
    async fn fire_due_reminders(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        source: &str,
    ) -> Result<Vec<Task>, StoreError>;

    /// A task's audit history, oldest first.
    async fn history(
        &self,
        owner: &OwnerId,
        task: TaskId,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError>;
    /// The owner's activity feed, newest first.
    async fn activity(
        &self,
        owner: &OwnerId,
        q: &ActivityQuery,
    ) -> Result<(Vec<AuditEntry>, u64), StoreError>;
    /// The owner's notifications, newest first.
    async fn notifications(
        &self,
        owner: &OwnerId,
        unread_only: bool,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Notification>, u64), StoreError>;
    /// Marks one read; `false` when it does not exist.
    async fn mark_notification_read(
        &self,
        owner: &OwnerId,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Claims notifications awaiting delivery, leasing them for `lease_secs`.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        limit: u32,
        lease_secs: i64,
    ) -> Result<Vec<Notification>, StoreError>;
    /// Records a delivery outcome (`error` None = delivered).
    async fn delivery_result(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        error: Option<&str>,
        retry_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
}

/// Why publishing failed; the relay retries every kind.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The sidecar or broker did not accept the event.
    #[error("publish refused: {0}")]
    Refused(String),
    /// The sidecar could not be reached.
    #[error("publish failed: {0}")]
    Transport(String),
}

/// Hands an event to whoever delivers it (the Dapr sidecar, or the in-process consumers).
#[async_trait]
pub trait Publisher: Send + Sync {
    /// Publishes one structured CloudEvent, keyed by `partition_key`.
    async fn publish(&self, cloudevent: &Value, partition_key: &str) -> Result<(), PublishError>;

    /// Publishes several events (of different tasks, so their relative order does not matter);
    /// one result per event, in order. The default publishes one after the other.
    async fn publish_batch(&self, events: &[(Value, String)]) -> Vec<Result<(), PublishError>> {
        let mut out = Vec::with_capacity(events.len());
        for (ce, key) in events {
            out.push(self.publish(ce, key).await);
        }
        out
    }
}

/// A stored response for an `Idempotency-Key`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StoredResponse {
    /// Hash of the method, path and body the key was first used with.
    pub fingerprint: String,
    /// `None` while the first request is still running.
    pub status: Option<u16>,
    /// Response headers worth replaying (ETag, Location, Content-Type).
    pub headers: Vec<(String, String)>,
    /// Response body.
    pub body: String,
}

/// Shared, expiring key-value state for `Idempotency-Key` (Dapr state store, or in-process).
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Reads a key.
    async fn get(&self, key: &str) -> Result<Option<StoredResponse>, StoreError>;
    /// Writes a key only if it is absent; `false` when it already existed.
    async fn create(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<bool, StoreError>;
    /// Overwrites a key.
    async fn put(&self, key: &str, value: &StoredResponse, ttl_secs: u64)
    -> Result<(), StoreError>;
    /// Removes a key (when the first request failed and may be retried).
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
}
