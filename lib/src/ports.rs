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
    /// Every tag of `owner` with the number of tasks carrying it, most used first.
    async fn tags(&self, owner: &OwnerId) -> Result<Vec<(String, i64)>, StoreError>;
    /// Checks the database answers.
    async fn ping(&self) -> Result<(), StoreError>;
}
