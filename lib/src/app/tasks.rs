//! The task commands (create, update, complete, delete) and queries (get, list, tags).
//!
//! Each command reads the task, applies the change in the domain, and writes the new state
//! together with its event under an optimistic version check, retrying a few times when another
//! writer got there first (unless the client pinned a version with `If-Match`).

use std::sync::Arc;

use bytes::Bytes;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::domain::{
    DomainEvent, OwnerId, Task, TaskChanges, TaskId, ValidationErrors, task::NewTask,
};
use crate::flights::{Flights, FreshChecks, KeyedLocks};
use crate::ports::{ListQuery, StoreError, TaskPage, TaskStore, WriteOutcome};
use crate::snapshot_cache::SnapshotCache;

/// How often a command retries a read-modify-write that lost a race. Within a process writes
/// to one task take turns (`writing`); between replicas they race, and a loser retries on the
/// winner's result. Two replicas each with a queue of writes to one task lose about half the
/// races: five attempts ended a few of fifty concurrent toggles with a 409, twelve make that
/// about one in four thousand.
const MAX_ATTEMPTS: usize = 12;

/// After losing a race twice, a pause of up to 2 ms (random) before reading again, so two
/// replicas' retries fall out of step.
async fn after_lost_race(attempt: usize) {
    if attempt >= 2 {
        let micros = (uuid::Uuid::new_v4().as_u128() % 2_000) as u64;
        tokio::time::sleep(std::time::Duration::from_micros(micros)).await;
    }
}

/// Why a use-case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No such task (for this owner).
    #[error("task not found")]
    NotFound,
    /// The input was rejected; nothing was written.
    #[error("validation failed: {0}")]
    Validation(#[from] ValidationErrors),
    /// `If-Match` named another version than the stored one.
    #[error("the task has changed (current version {current})")]
    PreconditionFailed {
        /// The stored version, for the client to refetch.
        current: i64,
    },
    /// Concurrent writers kept winning; the client may retry.
    #[error("the task is being changed concurrently; retry")]
    Conflict,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Per-request facts the commands record with their events.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    /// W3C `traceparent` of the incoming request.
    pub traceparent: Option<String>,
}

/// The task use-cases.
#[derive(Clone)]
pub struct TaskService {
    store: Arc<dyn TaskStore>,
    source: Arc<str>,
    outbox_signal: Arc<Notify>,
    /// Rendered list pages, each with the state of the tasks it was read under.
    pages: Arc<SnapshotCache<Bytes>>,
    /// Rendered tasks by id, each with the version it was rendered at. Keyed by task only: the
    /// list endpoint is the one renderer (`http::list_tasks`).
    rendered: Arc<SnapshotCache<Bytes, TaskId, i64>>,
    /// Page reads in progress, by page and the state they were asked for (`list_rendered`).
    page_reads: Arc<Flights<Bytes>>,
    /// Checks of the tasks' state for kept pages, shared by the lists waiting at once.
    checks: Arc<FreshChecks<Option<String>>>,
    /// One read-modify-write at a time per task in this process: concurrent changes to a task
    /// queue here rather than race on its version (another process may still race; the
    /// version check and retries cover that).
    writing: Arc<KeyedLocks<TaskId>>,
}

/// Memory for rendered list pages and tasks unless configured (`LIST_CACHE_BYTES`): half for
/// each.
pub const DEFAULT_PAGE_CACHE_BYTES: usize = 16 << 20;

impl TaskService {
    /// `source` names the emitting function in events (CloudEvents `source`); `outbox_signal`
    /// is notified after every committed write so the relay publishes without waiting.
    pub fn new(store: Arc<dyn TaskStore>, source: &str, outbox_signal: Arc<Notify>) -> Self {
        Self {
            store,
            source: Arc::from(source),
            outbox_signal,
            pages: Arc::new(SnapshotCache::new(DEFAULT_PAGE_CACHE_BYTES / 2)),
            rendered: Arc::new(SnapshotCache::new(DEFAULT_PAGE_CACHE_BYTES / 2)),
            page_reads: Arc::default(),
            checks: Arc::default(),
            writing: Arc::default(),
        }
    }

    /// Keeps at most `bytes` of rendered list pages and tasks, half for each (0: none).
    #[must_use]
    pub fn with_page_cache(mut self, bytes: usize) -> Self {
        self.pages = Arc::new(SnapshotCache::new(bytes / 2));
        self.rendered = Arc::new(SnapshotCache::new(bytes / 2));
        self
    }

    /// The store, for health checks.
    pub fn store(&self) -> &Arc<dyn TaskStore> {
        &self.store
    }

    fn stamp(&self, mut ev: DomainEvent, ctx: &RequestContext) -> DomainEvent {
        ev.traceparent.clone_from(&ctx.traceparent);
        ev
    }

    fn committed(&self) {
        self.outbox_signal.notify_one();
    }

    /// Creates a task.
    pub async fn create(
        &self,
        owner: &OwnerId,
        input: NewTask,
        ctx: &RequestContext,
    ) -> Result<Task, AppError> {
        let now = crate::domain::time::now();
        let task = Task::create(TaskId::new(), owner.clone(), input, now)?;
        let ev = self.stamp(DomainEvent::created(&task, &self.source, now), ctx);
        if task.completed_at().is_some() && task.is_recurring() {
            // A recurring task created already done: a completion too, as from any other
            // endpoint, so it gets its next occurrence. (Not for other tasks: their creation
            // event says completed already, and a second event would take every such create
            // off the batched insert.)
            let done = self.stamp(DomainEvent::completed(&task, &self.source, now), ctx);
            self.store.insert(&task, &[ev, done]).await?;
        } else {
            self.store.insert(&task, &[ev]).await?;
        }
        self.committed();
        Ok(task)
    }

    /// Reads one task.
    pub async fn get(&self, owner: &OwnerId, id: TaskId) -> Result<Task, AppError> {
        self.store.get(owner, id).await?.ok_or(AppError::NotFound)
    }

    /// Lists tasks.
    pub async fn list(&self, owner: &OwnerId, query: &ListQuery) -> Result<TaskPage, AppError> {
        Ok(self.store.list(owner, query).await?)
    }

    /// Lists tasks and renders the page: each task with `render_task`, the page around them with
    /// `assemble` (the rendered tasks in order, and the total).
    ///
    /// Two things read before are reused, both exact (ADR 0005):
    /// - While the tasks are unchanged (the store names the same state as when the page was
    ///   read: on PostgreSQL the count of committed task changes) the same query gets the same
    ///   page again, checked with one small query instead of the page and its count: lists are
    ///   read far more often than tasks change.
    /// - Otherwise, where the store can list a page as ids and versions, only the tasks not
    ///   rendered before at their current version are read and rendered; the rest of the page is
    ///   the renderings kept from earlier lists.
    ///
    /// Concurrent lists share work (ADR 0005 §6): the state check is one query for every list
    /// that arrived before it began, and the lists that find a kept page stale together share
    /// one read of it. No list is answered from a read that began before it arrived.
    pub async fn list_rendered<E: From<AppError>>(
        &self,
        owner: &OwnerId,
        query: &ListQuery,
        render_task: impl Fn(&Task) -> Result<Bytes, E>,
        assemble: impl Fn(&[Bytes], u64) -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let key = format!("{}\u{1f}{query:?}", owner.as_str());
        let Some((snapshot, body)) = self.pages.latest(key.as_str()) else {
            return self
                .read_page(owner, query, key, &render_task, &assemble)
                .await;
        };
        let now = self
            .checks
            .read(|| self.store.snapshot())
            .await
            .map_err(AppError::from)?;
        if now.as_deref() == Some(snapshot.as_str()) {
            return Ok(body);
        }
        let Some(now) = now else {
            return self
                .read_page(owner, query, key, &render_task, &assemble)
                .await;
        };
        // The kept page is stale. Every list of this page in flight finds that at once (after
        // a write); those that saw the same state share one read. The read began after the
        // first of them saw `now`, and the state only grows: a list that joins later still saw
        // `now` itself, so no commit it saw can be missing from the page (ADR 0005 §6).
        self.page_reads
            .share(format!("{key}\u{1f}{now}"), || {
                self.read_page(owner, query, key.clone(), &render_task, &assemble)
            })
            .await
    }

    /// Reads and renders the page for `query` and keeps it under `key` (see `list_rendered`).
    async fn read_page<E: From<AppError>>(
        &self,
        owner: &OwnerId,
        query: &ListQuery,
        key: String,
        render_task: &impl Fn(&Task) -> Result<Bytes, E>,
        assemble: &impl Fn(&[Bytes], u64) -> Result<Bytes, E>,
    ) -> Result<Bytes, E> {
        let versions = if self.rendered.budget() > 0 {
            self.store
                .list_versions(owner, query)
                .await
                .map_err(AppError::from)?
        } else {
            None
        };
        let offered = versions.is_some();
        let kept = match versions {
            Some(page) => self
                .render_kept(owner, &page.keys, render_task)
                .await?
                .map(|parts| (parts, page.total, page.snapshot)),
            None => None,
        };
        let (parts, total, snapshot) = match kept {
            Some(found) => found,
            None => {
                let page = self.list(owner, query).await?;
                let mut parts = Vec::with_capacity(page.tasks.len());
                for task in &page.tasks {
                    let body = render_task(task)?;
                    if offered {
                        self.rendered.put(task.id, task.version, body.clone());
                    }
                    parts.push(body);
                }
                (parts, page.total, page.snapshot)
            }
        };
        let body = assemble(&parts, total)?;
        if let Some(snapshot) = snapshot {
            self.pages.put(key, snapshot, body.clone());
        }
        Ok(body)
    }

    /// The renderings of the tasks `keys` names, in order: kept ones where the version matches,
    /// the others read (in one query) and rendered. `None` when a task changed or went away
    /// between the page and that read: the caller then reads the page whole.
    async fn render_kept<E: From<AppError>>(
        &self,
        owner: &OwnerId,
        keys: &[(TaskId, i64)],
        render_task: &impl Fn(&Task) -> Result<Bytes, E>,
    ) -> Result<Option<Vec<Bytes>>, E> {
        let mut parts: Vec<Option<Bytes>> = keys
            .iter()
            .map(|(id, version)| self.rendered.get(id, version))
            .collect();
        let missing: Vec<TaskId> = keys
            .iter()
            .zip(&parts)
            .filter(|(_, part)| part.is_none())
            .map(|((id, _), _)| *id)
            .collect();
        if !missing.is_empty() {
            let read = self
                .store
                .get_many(owner, &missing)
                .await
                .map_err(AppError::from)?;
            for task in &read {
                let Some(i) = keys
                    .iter()
                    .position(|(id, version)| *id == task.id && *version == task.version)
                else {
                    return Ok(None);
                };
                let body = render_task(task)?;
                self.rendered.put(task.id, task.version, body.clone());
                parts[i] = Some(body);
            }
        }
        Ok(parts.into_iter().collect())
    }

    /// Lists tags with their use counts.
    pub async fn tags(&self, owner: &OwnerId) -> Result<Vec<(String, i64)>, AppError> {
        Ok(self.store.tags(owner).await?)
    }

    /// Applies a partial update. A change that changes nothing writes nothing and emits no event.
    ///
    /// A change of status that completes or reopens the task emits `task.completed`, as
    /// `POST /complete` does, so completing a recurring task from either endpoint schedules its
    /// next occurrence; other fields changed in the same request go out first as `task.updated`.
    pub async fn update(
        &self,
        owner: &OwnerId,
        id: TaskId,
        changes: TaskChanges,
        if_match: Option<&[i64]>,
        ctx: &RequestContext,
    ) -> Result<Task, AppError> {
        self.read_modify_write(
            owner,
            id,
            if_match,
            |task, now| {
                let was_done = task.completed_at().is_some();
                let changed = task.apply(changes.clone(), now)?;
                if task.completed_at().is_some() == was_done {
                    return Ok(if changed.is_empty() {
                        vec![]
                    } else {
                        vec![DomainEvent::updated(task, &changed, &self.source, now)]
                    });
                }
                let others: Vec<&str> = changed
                    .into_iter()
                    .filter(|f| !matches!(*f, "status" | "completed_at"))
                    .collect();
                let mut events = Vec::with_capacity(2);
                if !others.is_empty() {
                    events.push(DomainEvent::updated(task, &others, &self.source, now));
                }
                events.push(DomainEvent::completed(task, &self.source, now));
                Ok(events)
            },
            ctx,
        )
        .await
    }

    /// Toggles completion (completed ↔ pending).
    pub async fn toggle_complete(
        &self,
        owner: &OwnerId,
        id: TaskId,
        if_match: Option<&[i64]>,
        ctx: &RequestContext,
    ) -> Result<Task, AppError> {
        self.read_modify_write(
            owner,
            id,
            if_match,
            |task, now| {
                task.toggle_complete(now);
                Ok(vec![DomainEvent::completed(task, &self.source, now)])
            },
            ctx,
        )
        .await
    }

    /// Deletes a task.
    pub async fn delete(
        &self,
        owner: &OwnerId,
        id: TaskId,
        if_match: Option<&[i64]>,
        ctx: &RequestContext,
    ) -> Result<(), AppError> {
        let _writing = self.writing.lock(id).await;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                after_lost_race(attempt).await;
            }
            let task = self.get(owner, id).await?;
            check_if_match(if_match, &task)?;
            let now = crate::domain::time::now();
            let ev = self.stamp(DomainEvent::deleted(&task, &self.source, now), ctx);
            match self.store.delete(owner, id, task.version, &[ev]).await? {
                WriteOutcome::Done => {
                    self.committed();
                    return Ok(());
                }
                WriteOutcome::NotFound => return Err(AppError::NotFound),
                WriteOutcome::VersionMismatch => continue,
            }
        }
        Err(AppError::Conflict)
    }

    async fn read_modify_write<F>(
        &self,
        owner: &OwnerId,
        id: TaskId,
        if_match: Option<&[i64]>,
        change: F,
        ctx: &RequestContext,
    ) -> Result<Task, AppError>
    where
        F: Fn(&mut Task, DateTime<Utc>) -> Result<Vec<DomainEvent>, ValidationErrors>,
    {
        let _writing = self.writing.lock(id).await;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                after_lost_race(attempt).await;
            }
            let mut task = self.get(owner, id).await?;
            check_if_match(if_match, &task)?;
            let expected = task.version;
            let now = crate::domain::time::now();
            let events: Vec<DomainEvent> = change(&mut task, now)?
                .into_iter()
                .map(|ev| self.stamp(ev, ctx))
                .collect();
            if events.is_empty() {
                return Ok(task);
            }
            match self.store.update(&task, expected, &events).await? {
                WriteOutcome::Done => {
                    self.committed();
                    return Ok(task);
                }
                WriteOutcome::NotFound => return Err(AppError::NotFound),
                WriteOutcome::VersionMismatch if if_match.is_some() => {
                    let current = self.get(owner, id).await?.version;
                    return Err(AppError::PreconditionFailed { current });
                }
                WriteOutcome::VersionMismatch => continue,
            }
        }
        Err(AppError::Conflict)
    }
}

/// `If-Match`: `None` allows any version, otherwise the task's must be one of those given.
fn check_if_match(if_match: Option<&[i64]>, task: &Task) -> Result<(), AppError> {
    match if_match {
        Some(vs) if !vs.contains(&task.version) => Err(AppError::PreconditionFailed {
            current: task.version,
        }),
        _ => Ok(()),
    }
}
