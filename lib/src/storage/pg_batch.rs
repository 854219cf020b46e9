//! Batched task creation for PostgreSQL: the creates of concurrent requests share one statement.
//!
//! A create is one task row and its one outbox row. Alone, that is one statement and one commit
//! (a data-modifying CTE), and most of its cost is per statement, not per row: the round trip,
//! binding, executor start-up, the commit and its WAL flush. So requests hand their rows to a few
//! inserter tasks; each takes every row queued at that moment (up to [`MAX_BATCH`]) and writes
//! them all with one statement (`unnest` of one array per column), then answers each request.
//! A request is answered only after the statement has committed, so "created" still means
//! durable, and the statement is atomic: all rows or none. With one request in flight a batch is
//! one row and the statement is the single-row one, so an idle server adds no waiting.
//!
//! Failures are rare (ids are fresh UUIDs, the values were validated): if a batch fails, each of
//! its rows is written again alone, so every request gets its own row's outcome and one bad row
//! cannot fail the others. The inserters are spawned tasks, not the requests' own futures, so a
//! client hanging up cannot abandon a statement other requests wait on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgPool};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::postgres::bind_raw;
use super::sql::{Dialect, RawTask, TASK_COLUMNS};
use crate::domain::DomainEvent;
use crate::ports::StoreError;

/// The most creates written by one statement.
pub const MAX_BATCH: usize = 64;

/// Statements in flight at once: while one runs, the next batch gathers. One: most of a
/// statement's cost is per statement, so under load fewer, larger batches cost less. Measured
/// (sixth/seventh session, docs/benchmarks.md), one against two inserters on fresh databases,
/// six rounds each: closed-loop creates at c=16 2,242 against 2,061 per second on average, and
/// the median p99 at 1,500 creates/s 15 against 20 ms (noisy: the load generator and
/// PostgreSQL share the two cores).
const INSERTERS: usize = 1;

/// One create: the task row and its event.
pub struct NewRow {
    raw: RawTask,
    event_id: Uuid,
    event_type: &'static str,
    cloudevent: serde_json::Value,
    at: DateTime<Utc>,
}

impl NewRow {
    /// The rows of a task created with its one event.
    pub fn new(raw: RawTask, ev: &DomainEvent) -> Self {
        Self {
            raw,
            event_id: ev.id,
            event_type: ev.event_type.as_str(),
            cloudevent: ev.to_cloudevent(),
            at: ev.time,
        }
    }
}

struct Job {
    row: NewRow,
    reply: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle requests send their creates through.
#[derive(Clone)]
pub struct InsertBatcher {
    tx: mpsc::Sender<Job>,
    batched: Arc<AtomicU64>,
}

impl InsertBatcher {
    /// Starts the inserters on the current runtime; they stop when the last handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        let batched = Arc::new(AtomicU64::new(0));
        for _ in 0..INSERTERS {
            tokio::spawn(inserter(pool.clone(), rx.clone(), batched.clone()));
        }
        Self { tx, batched }
    }

    /// Rows written so far by statements that wrote more than one.
    pub fn batched_rows(&self) -> u64 {
        self.batched.load(Ordering::Relaxed)
    }

    /// Writes `row` in the next batch; returns once that batch has committed (or failed).
    pub async fn insert(&self, row: NewRow) -> Result<(), StoreError> {
        super::submit(&self.tx, |reply| Job { row, reply }, "PostgreSQL inserter").await
    }
}

async fn inserter(pool: PgPool, rx: Arc<Mutex<mpsc::Receiver<Job>>>, batched: Arc<AtomicU64>) {
    loop {
        // Wait for work holding the receiver, take what is queued, and let the next inserter
        // gather while this batch runs.
        let jobs = {
            let mut rx = rx.lock().await;
            let Some(first) = rx.recv().await else {
                return;
            };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            jobs
        };
        let (rows, replies): (Vec<NewRow>, Vec<_>) =
            jobs.into_iter().map(|j| (j.row, j.reply)).unzip();
        if rows.len() > 1 {
            match insert_many(&pool, &rows).await {
                Ok(()) => {
                    batched.fetch_add(rows.len() as u64, Ordering::Relaxed);
                    for reply in replies {
                        let _ = reply.send(Ok(()));
                    }
                    continue;
                }
                Err(e) => {
                    tracing::warn!(error = %e, rows = rows.len(), "batched create failed; writing its rows one by one");
                }
            }
        }
        for (row, reply) in rows.iter().zip(replies) {
            let _ = reply.send(insert_one(&pool, row).await);
        }
    }
}

/// One task and its outbox row, in one statement (a data-modifying CTE).
static INSERT_ONE_SQL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "WITH t AS (INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({}) RETURNING id) \
         INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at) \
         SELECT $22, t.id, $23, $24, $25, $26, $26 FROM t",
        Dialect::Postgres.placeholders(1, 21)
    )
});

/// Writes one create alone.
pub async fn insert_one(pool: &PgPool, row: &NewRow) -> Result<(), StoreError> {
    bind_raw(
        sqlx::query(AssertSqlSafe(INSERT_ONE_SQL.as_str())),
        &row.raw,
    )
    .bind(row.event_id)
    .bind(row.event_type)
    .bind(crate::domain::event::TOPIC)
    .bind(Json(&row.cloudevent))
    .bind(row.at)
    .execute(pool)
    .await?;
    Ok(())
}

/// Many tasks and their outbox rows, in one statement (one array per column).
const INSERT_MANY_SQL: &str = "WITH t AS (INSERT INTO tasks (id, owner_id, title, title_key, description, search_text, \
       status, priority, tags, due_date, reminder_at, recurrence_rule, recurrence_anchor, timezone, series_id, \
       series_start, occurrence, completed_at, created_at, updated_at, version) \
     SELECT id, owner_id, title, title_key, description, search_text, status, priority, tags::jsonb, due_date, \
       reminder_at, recurrence_rule, recurrence_anchor, timezone, series_id, series_start, occurrence, completed_at, \
       created_at, updated_at, version \
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int2[], \
       $9::text[], $10::timestamptz[], $11::timestamptz[], $12::text[], $13::text[], $14::text[], $15::uuid[], \
       $16::timestamptz[], $17::int4[], $18::timestamptz[], $19::timestamptz[], $20::timestamptz[], $21::int8[]) \
       AS r(id, owner_id, title, title_key, description, search_text, status, priority, tags, due_date, reminder_at, \
       recurrence_rule, recurrence_anchor, timezone, series_id, series_start, occurrence, completed_at, created_at, \
       updated_at, version) \
     RETURNING id) \
   INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at) \
   SELECT e.id, e.task_id, e.event_type, $27, e.cloudevent::jsonb, e.at, e.at \
   FROM unnest($22::uuid[], $23::uuid[], $24::text[], $25::text[], $26::timestamptz[]) \
     AS e(id, task_id, event_type, cloudevent, at)";

async fn insert_many(pool: &PgPool, rows: &[NewRow]) -> Result<(), StoreError> {
    fn col<'a, T>(rows: &'a [NewRow], f: impl Fn(&'a NewRow) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    let tags: Vec<String> = rows
        .iter()
        .map(|r| serde_json::to_string(&r.raw.tags))
        .collect::<Result<_, _>>()
        .map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?;
    let cloudevents: Vec<String> = col(rows, |r| r.cloudevent.to_string());
    sqlx::query(INSERT_MANY_SQL)
        .bind(col(rows, |r| r.raw.id))
        .bind(col(rows, |r| r.raw.owner_id.as_str()))
        .bind(col(rows, |r| r.raw.title.as_str()))
        .bind(col(rows, |r| r.raw.title_key.as_str()))
        .bind(col(rows, |r| r.raw.description.as_deref()))
        .bind(col(rows, |r| r.raw.search_text.as_str()))
        .bind(col(rows, |r| r.raw.status.as_str()))
        .bind(col(rows, |r| r.raw.priority))
        .bind(tags)
        .bind(col(rows, |r| r.raw.due_date))
        .bind(col(rows, |r| r.raw.reminder_at))
        .bind(col(rows, |r| r.raw.recurrence_rule.as_deref()))
        .bind(col(rows, |r| r.raw.recurrence_anchor.as_str()))
        .bind(col(rows, |r| r.raw.timezone.as_str()))
        .bind(col(rows, |r| r.raw.series_id))
        .bind(col(rows, |r| r.raw.series_start))
        .bind(col(rows, |r| r.raw.occurrence))
        .bind(col(rows, |r| r.raw.completed_at))
        .bind(col(rows, |r| r.raw.created_at))
        .bind(col(rows, |r| r.raw.updated_at))
        .bind(col(rows, |r| r.raw.version))
        .bind(col(rows, |r| r.event_id))
        .bind(col(rows, |r| r.raw.id))
        .bind(col(rows, |r| r.event_type))
        .bind(cloudevents)
        .bind(col(rows, |r| r.at))
        .bind(crate::domain::event::TOPIC)
        .execute(pool)
        .await?;
    Ok(())
}
