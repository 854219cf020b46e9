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
//! Failures are rare (ids are fresh UUIDs, the values were validated): if a statement fails, each
//! of its rows is written again alone on a checked connection, so every request gets its own
//! row's outcome, one bad row cannot fail the others, and a connection that broke (the server
//! restarted while the inserter kept it) costs no request its create. The inserters are spawned tasks, not the requests' own futures, so a
//! client hanging up cannot abandon a statement other requests wait on.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::Connection;
use sqlx::pool::PoolConnection;
use sqlx::types::Json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool, Postgres};
use tokio::sync::{Mutex, mpsc, oneshot};
use uuid::Uuid;

use super::pg_kept::KeptConnection;
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
pub const INSERTERS: usize = 1;

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

/// What the inserters have done, for tests and diagnostics.
#[derive(Default)]
struct Counts {
    /// Rows written by statements that wrote more than one.
    batched: AtomicU64,
    /// Rows written again alone after the statement that held them failed.
    rewritten: AtomicU64,
}

/// The handle requests send their creates through.
#[derive(Clone)]
pub struct InsertBatcher {
    tx: mpsc::Sender<Job>,
    counts: Arc<Counts>,
}

impl InsertBatcher {
    /// Starts the inserters on the current runtime, with connections from `pool` (theirs alone,
    /// [`INSERTERS`] connections); they stop when the last handle is dropped.
    pub fn spawn(pool: PgPool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let rx = Arc::new(Mutex::new(rx));
        let counts = Arc::new(Counts::default());
        for _ in 0..INSERTERS {
            let kept = Arc::new(KeptConnection::new(pool.clone()));
            tokio::spawn(inserter(kept, rx.clone(), counts.clone()));
        }
        Self { tx, counts }
    }

    /// Rows written so far by statements that wrote more than one.
    pub fn batched_rows(&self) -> u64 {
        self.counts.batched.load(Ordering::Relaxed)
    }

    /// Rows written again alone so far, after the statement that held them failed.
    pub fn rewritten_rows(&self) -> u64 {
        self.counts.rewritten.load(Ordering::Relaxed)
    }

    /// Writes `row` in the next batch; returns once that batch has committed (or failed).
    pub async fn insert(&self, row: NewRow) -> Result<(), StoreError> {
        super::submit(&self.tx, |reply| Job { row, reply }, "PostgreSQL inserter").await
    }
}

/// How long an inserter keeps its connection with no create to write: through the gaps between
/// batches under load, so a batch does not take the connection from its pool and give it back
/// (sqlx checks a connection with a round trip to the server each time it comes back), but
/// not for ever, so an idle process holds no connection for its creates.
const HOLD: Duration = Duration::from_secs(1);

/// How long a connection's check (one round trip) may take before the connection is given up.
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

type Reply = oneshot::Sender<Result<(), StoreError>>;

async fn inserter(
    kept: Arc<KeptConnection>,
    rx: Arc<Mutex<mpsc::Receiver<Job>>>,
    counts: Arc<Counts>,
) {
    loop {
        // Wait for work holding the receiver, take what is queued, and let the next inserter
        // gather while this batch runs.
        let jobs = {
            let mut rx = rx.lock().await;
            let first = match tokio::time::timeout(HOLD, rx.recv()).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(_) => {
                    kept.release().await;
                    let Some(job) = rx.recv().await else {
                        return;
                    };
                    job
                }
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
        let (rows, replies): (Vec<NewRow>, Vec<Reply>) =
            jobs.into_iter().map(|j| (j.row, j.reply)).unzip();
        let mut conn = match kept.get().await {
            Ok(conn) => conn,
            Err(e) => {
                // No connection within the pool's acquire timeout: every row of the batch fails
                // now, rather than each waiting out the timeout again.
                fail_all(replies, e);
                continue;
            }
        };
        let first_try = if let [row] = rows.as_slice() {
            insert_one(conn.conn(), row).await
        } else {
            insert_many(conn.conn(), &rows).await
        };
        // A failure gives the connection back to its pool, which closes it if it broke.
        match conn.done(first_try) {
            Ok(()) => {
                if rows.len() > 1 {
                    counts
                        .batched
                        .fetch_add(rows.len() as u64, Ordering::Relaxed);
                }
                for reply in replies {
                    let _ = reply.send(Ok(()));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, rows = rows.len(), "create failed; writing its rows again one by one");
                counts
                    .rewritten
                    .fetch_add(rows.len() as u64, Ordering::Relaxed);
                write_again(kept.pool(), &rows, replies).await;
            }
        }
    }
}

/// Answers every request of `replies` with `e` (the first) or its message (the others).
fn fail_all(replies: impl IntoIterator<Item = Reply>, e: StoreError) {
    let why = e.to_string();
    let mut first = Some(e);
    for reply in replies {
        let e = first
            .take()
            .unwrap_or_else(|| StoreError::Unavailable(sqlx::Error::Protocol(why.clone())));
        let _ = reply.send(Err(e));
    }
}

/// Writes each row alone after a statement that held them failed, so that one bad row cannot
/// fail the others and a connection that broke (the server closed it while the inserter kept
/// it) costs no request its create. The rows share one connection, checked with a round trip
/// first; if none can be had, the rows left fail at once instead of each waiting for one.
async fn write_again(pool: &PgPool, rows: &[NewRow], replies: Vec<Reply>) {
    let mut replies = replies.into_iter();
    let mut held: Option<PoolConnection<Postgres>> = None;
    for row in rows {
        let Some(reply) = replies.next() else {
            return;
        };
        let mut conn = match held.take() {
            Some(conn) => conn,
            None => match checked_connection(pool).await {
                Ok(conn) => conn,
                Err(e) => {
                    fail_all(std::iter::once(reply).chain(replies), e);
                    return;
                }
            },
        };
        let outcome = insert_again(&mut conn, row).await;
        // An error the server answered leaves the connection usable; any other may not.
        if outcome.as_ref().err().is_none_or(is_server_error) {
            held = Some(conn);
        }
        let _ = reply.send(outcome);
    }
}

fn is_server_error(e: &StoreError) -> bool {
    matches!(e, StoreError::Unavailable(sqlx::Error::Database(_)))
}

/// Writes `row` alone on `conn`. If the failed statement that held it had committed before its
/// answer was lost, the row is there already: a unique violation, with this row's event stored
/// for this row's task, says so, and the create succeeded (ids are fresh UUIDs: nothing else
/// writes them).
async fn insert_again(conn: &mut PgConnection, row: &NewRow) -> Result<(), StoreError> {
    match insert_one(conn, row).await {
        Err(StoreError::Unavailable(sqlx::Error::Database(e)))
            if e.kind() == sqlx::error::ErrorKind::UniqueViolation =>
        {
            let stored: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM outbox WHERE id = $1 AND task_id = $2)",
            )
            .bind(row.event_id)
            .bind(row.raw.id)
            .fetch_one(&mut *conn)
            .await?;
            if stored {
                Ok(())
            } else {
                Err(StoreError::Unavailable(sqlx::Error::Database(e)))
            }
        }
        outcome => outcome,
    }
}

/// A pooled connection that has just answered a round trip (within [`CHECK_TIMEOUT`]): after a
/// restart of the server every idle connection of the pool is dead.
async fn checked_connection(pool: &PgPool) -> Result<PoolConnection<Postgres>, StoreError> {
    let mut tries = pool.options().get_max_connections() + 1;
    loop {
        let mut conn = pool.acquire().await?;
        let checked = match tokio::time::timeout(CHECK_TIMEOUT, conn.ping()).await {
            Ok(checked) => checked,
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        };
        match checked {
            Ok(()) => return Ok(conn),
            Err(e) if tries <= 1 => {
                conn.close_on_drop();
                return Err(e.into());
            }
            Err(_) => {
                conn.close_on_drop();
                tries -= 1;
            }
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
pub async fn insert_one(conn: &mut PgConnection, row: &NewRow) -> Result<(), StoreError> {
    bind_raw(
        sqlx::query(AssertSqlSafe(INSERT_ONE_SQL.as_str())),
        &row.raw,
    )
    .bind(row.event_id)
    .bind(row.event_type)
    .bind(crate::domain::event::TOPIC)
    .bind(Json(&row.cloudevent))
    .bind(row.at)
    .execute(conn)
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

async fn insert_many(conn: &mut PgConnection, rows: &[NewRow]) -> Result<(), StoreError> {
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
        .execute(conn)
        .await?;
    Ok(())
}
