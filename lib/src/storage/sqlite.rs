//! SQLite adapter, the embedded default: WAL journal, `synchronous = FULL` (an acknowledged write
//! survives a power cut), foreign-key checks on, a busy timeout so concurrent writers queue
//! instead of failing. UUIDs and timestamps are stored as text, tags as a JSON array.

use std::str::FromStr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::query::Query;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Row, Sqlite, SqliteConnection, SqlitePool};
use uuid::Uuid;

use super::sql::{Bind, Dialect, READ_COLUMNS, RawTask, TASK_COLUMNS, list_filter, list_order};

/// The relay's prune on SQLite, as on PostgreSQL in two steps that follow the outbox's rowid
/// (`seq`) from the oldest event instead of reading every row: the first event created at or
/// after the cut-off (`?1`)...
pub const PRUNE_BOUND_SQL: &str =
    "SELECT seq FROM outbox WHERE created_at >= ?1 ORDER BY seq LIMIT 1";
/// ... then the events before it (`?1`) published before the cut-off (`?2`). Public, with
/// [`PRUNE_BOUND_SQL`], so a test can check their plans.
pub const PRUNE_OUTBOX_SQL: &str = "DELETE FROM outbox WHERE seq < ?1 AND published_at < ?2";
use super::sqlite_writer::GroupWriter;
use crate::domain::time::{from_sortable_text, to_sortable_text};
use crate::domain::{DomainEvent, OwnerId, Task, TaskId};
use crate::ports::{ListQuery, StoreError, TaskPage, TaskStore, WriteOutcome};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// The SQLite task store.
#[derive(Clone)]
pub struct SqliteTaskStore {
    /// Reads: several connections (WAL readers never wait for the writer).
    pool: SqlitePool,
    /// Every write, on one connection: SQLite allows one writer at a time, and a second
    /// connection that finds the write lock taken waits in SQLite's busy handler, which polls
    /// with sleeps of up to 100 ms (the source of write-latency spikes of hundreds of ms under
    /// concurrent writes). Queued on the pool instead, writers go in turn, first come first
    /// served. Other processes on the same file still meet the busy handler.
    writer: SqlitePool,
    /// Task writes (insert, update, delete), committed in groups on `writer`.
    group: GroupWriter,
    /// When to look at the planner's statistics again ([`Self::refresh_statistics`]).
    stats: std::sync::Arc<StatsCheck>,
}

/// When [`SqliteTaskStore::refresh_statistics`] runs again: after enough creates by this
/// process that the table may have doubled (or reached [`STATS_MIN_TASKS`]), and, for tables
/// that shrank or grew through another process, from the relay's upkeep at most every
/// [`STATS_CHECK_EVERY`].
#[derive(Default)]
struct StatsCheck {
    /// Creates by this process before the next look (the create that takes it to 0 starts it;
    /// every look sets it again).
    creates_to_go: std::sync::atomic::AtomicI64,
    /// A look is running (one at a time, whichever path started it).
    running: std::sync::atomic::AtomicBool,
    /// When the relay's upkeep last looked.
    upkeep: std::sync::Mutex<Option<std::time::Instant>>,
}

/// How often the relay's upkeep looks at the task count, at most.
const STATS_CHECK_EVERY: Duration = Duration::from_secs(600);
/// Tasks a database needs before statistics are worth having.
const STATS_MIN_TASKS: i64 = 1_000;

impl SqliteTaskStore {
    /// Opens (creating if needed, when the URL says `mode=rwc`) and migrates the database.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let in_memory = in_memory(url);
        let opts = SqliteConnectOptions::from_str(url)?
            .journal_mode(if in_memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        // `mode=rwc` asks for the file to be created: create its directory too.
        let dir = opts
            .get_filename()
            .parent()
            .filter(|d| !in_memory && creates(url) && !d.as_os_str().is_empty());
        if let Some(dir) = dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                StoreError::Setup(format!("creating the directory {}: {e}", dir.display()))
            })?;
        }
        let lock_path = {
            let mut p = opts.get_filename().as_os_str().to_owned();
            p.push(".migrate-lock");
            std::path::PathBuf::from(p)
        };
        let pool_options = |n: u32| {
            SqlitePoolOptions::new()
                .max_connections(n)
                .min_connections(if in_memory { 1 } else { 0 })
                .idle_timeout(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(600))
                })
                .max_lifetime(if in_memory {
                    None
                } else {
                    Some(Duration::from_secs(3600))
                })
        };
        // SQLite's migrator takes no lock: serialise processes (and pools) that open the same
        // file at once with an advisory lock on a sibling file, held from before the first
        // connection (which switches a new file to WAL: that needs the file to itself, and a
        // concurrent opener got "database is locked" there) until the migrations are done.
        let _guard = if in_memory {
            None
        } else {
            Some(migration_lock(&lock_path).await?)
        };
        // An in-memory database exists once per connection: keep exactly one, for everything.
        let pool = pool_options(if in_memory { 1 } else { 8 })
            .connect_with(opts.clone())
            .await?;
        let writer = if in_memory {
            pool.clone()
        } else {
            pool_options(1).connect_with(opts).await?
        };
        MIGRATOR.run(&writer).await.map_err(StoreError::Migration)?;
        unicode_nfc_fix(&writer).await?;
        let group = GroupWriter::spawn(writer.clone());
        let store = Self {
            pool,
            writer,
            group,
            stats: Default::default(),
        };
        // In the background, so start-up does not wait for a count of the tasks; best effort:
        // a database that cannot take statistics now (read-only, locked by another process)
        // still serves, and the next look is after more creates.
        let me = store.clone();
        tokio::spawn(async move {
            if let Err(e) = me.refresh_statistics_in_turn().await {
                tracing::warn!(error = %e, "planner statistics not refreshed");
            }
        });
        Ok(store)
    }

    /// Gives the query planner statistics on the tasks table (`ANALYZE tasks`) when it has
    /// none and holds at least [`STATS_MIN_TASKS`] tasks, or when the table has doubled or
    /// halved since they were gathered; returns whether it did. Run at start-up, after enough
    /// creates that the table may have doubled, and by the relay's upkeep
    /// ([`EventStore::tidy_indexes`], at most every [`STATS_CHECK_EVERY`]).
    ///
    /// Without statistics SQLite takes any index on `owner_id` to be selective, so a search's
    /// count walked the owner index and looked up every task by rowid: 10-13 ms for 10,000
    /// tasks of one owner, against 2-4 ms for reading the table straight through, which is
    /// the plan it picks once it knows there is one owner. (`PRAGMA optimize` with its
    /// default sampling limit samples 400 rows and still concludes "selective".) A full
    /// `ANALYZE tasks` takes about 15 ms per 10,000 tasks; doubling as the trigger keeps its
    /// total cost proportional to the table. Other tables are left unanalysed: the outbox's
    /// size swings between empty and a backlog, and statistics from either would mislead.
    pub async fn refresh_statistics(&self) -> Result<bool, StoreError> {
        // Creates counted down from here on, during the look, still count after it.
        let to_go = self.stats.creates_to_go.load(Ordering::Relaxed);
        let analysed = self.analysed_tasks().await?;
        let tasks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks")
            .fetch_one(&self.pool)
            .await?;
        let stale = match analysed {
            None => tasks >= STATS_MIN_TASKS,
            Some(then) => tasks >= STATS_MIN_TASKS && (tasks >= 2 * then || 2 * tasks <= then),
        };
        let basis = if stale {
            // Only this connection (the writer) rereads the statistics at once; the readers
            // read them when they reread the schema, which the first ANALYZE (it creates the
            // statistics table) makes them do, and otherwise when they are replaced (within
            // the pool's idle and lifetime limits).
            sqlx::query("ANALYZE tasks").execute(&self.writer).await?;
            // What ANALYZE counted, which creates running meanwhile may have made more than
            // `tasks`: the next look is at twice that.
            self.analysed_tasks().await?
        } else {
            analysed
        };
        // Look again once this process alone could have doubled the table since it was
        // analysed (or brought it to the minimum).
        let more = match basis {
            Some(then) => 2 * then - tasks,
            None => STATS_MIN_TASKS - tasks,
        }
        .max(100);
        self.stats
            .creates_to_go
            .fetch_add(more - to_go, Ordering::Relaxed);
        Ok(stale)
    }

    /// The number of tasks the planner's statistics were gathered on (`None`: never). Each
    /// index's row starts with its number of entries; the largest is the table's (partial
    /// indexes have fewer).
    async fn analysed_tasks(&self) -> Result<Option<i64>, StoreError> {
        match sqlx::query_scalar::<_, Option<i64>>(
            "SELECT MAX(CAST(stat AS INTEGER)) FROM sqlite_stat1 WHERE tbl = 'tasks'",
        )
        .fetch_one(&self.pool)
        .await
        {
            Ok(n) => Ok(n),
            // No statistics table yet: nothing was ever analysed.
            Err(sqlx::Error::Database(e)) if e.message().contains("no such table") => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// [`Self::refresh_statistics`] unless another look is running (then `Ok(false)`). A look
    /// that fails is tried again after [`STATS_MIN_TASKS`] more creates.
    async fn refresh_statistics_in_turn(&self) -> Result<bool, StoreError> {
        if self
            .stats
            .running
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Relaxed)
            .is_err()
        {
            return Ok(false);
        }
        let outcome = self.refresh_statistics().await;
        if outcome.is_err() {
            self.stats
                .creates_to_go
                .store(STATS_MIN_TASKS, Ordering::Relaxed);
        }
        self.stats.running.store(false, Ordering::Release);
        outcome
    }

    /// Counts a create, and looks at the statistics (in the background) when it is time.
    fn count_create(&self) {
        if self.stats.creates_to_go.fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        let me = self.clone();
        tokio::spawn(async move {
            if let Err(e) = me.refresh_statistics_in_turn().await {
                tracing::debug!(error = %e, "planner statistics not refreshed");
            }
        });
    }

    /// [`Self::refresh_statistics`], if the relay's upkeep has not run it in the last
    /// [`STATS_CHECK_EVERY`].
    pub(super) async fn refresh_statistics_now_and_then(&self) -> Result<(), StoreError> {
        {
            let mut checked = self
                .stats
                .upkeep
                .lock()
                .map_err(|_| StoreError::Remote("statistics lock poisoned".into()))?;
            if checked.is_some_and(|t| t.elapsed() < STATS_CHECK_EVERY) {
                return Ok(());
            }
            *checked = Some(std::time::Instant::now());
        }
        self.refresh_statistics_in_turn().await.map(|_| ())
    }

    /// The readers' pool, for the event-side adapters that share the database.
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The single writer connection's pool: every statement that writes goes here.
    pub fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Closes both pools: every later call fails as if the database were gone.
    pub async fn close(&self) {
        self.pool.close().await;
        self.writer.close().await;
    }
}

/// Holds an exclusive lock on `path` until dropped.
/// Whether a SQLite URL names an in-memory database.
fn in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// Rewrites the tags and search text of rows written before both were kept in Unicode normal
/// form C (SQLite has no `normalize`; migration 7 marks the work, PostgreSQL's migration 12
/// does the same in SQL). Once, under the migration lock: the mark is taken in the same
/// transaction as the rewrite. Search text becomes the normal form of what it was; tags that
/// become equal are kept once, in their first place; a rewritten task's version moves on.
async fn unicode_nfc_fix(writer: &SqlitePool) -> Result<(), StoreError> {
    // Read first: a database opened read-only (or busy with another process's writes) is only
    // written to when there is work.
    let pending: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM data_fixes WHERE name = 'unicode_nfc'")
            .fetch_optional(writer)
            .await?;
    if pending.is_none() {
        return Ok(());
    }
    let mut tx = writer.begin().await?;
    let marked = sqlx::query("DELETE FROM data_fixes WHERE name = 'unicode_nfc'")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if marked == 0 {
        return Ok(());
    }
    let mut changed: Vec<(i64, String, String)> = Vec::new();
    let mut after = i64::MIN;
    loop {
        let rows = sqlx::query_as::<_, (i64, String, String)>(
            "SELECT rowid, search_text, tags FROM tasks WHERE rowid > ?1 ORDER BY rowid LIMIT 1000",
        )
        .bind(after)
        .fetch_all(&mut *tx)
        .await?;
        let Some(&(last, _, _)) = rows.last() else {
            break;
        };
        after = last;
        for (rowid, search, tags) in rows {
            use crate::domain::task::{Tags, nfc};
            let new_search = nfc(&search).into_owned();
            // Tags that are not an array of strings are left as they are (nothing reads them
            // as anything else; they are not this fix's to repair).
            let stored: Option<Vec<String>> = serde_json::from_str(&tags).ok();
            let new_tags = match stored {
                // As PostgreSQL's migration 12 does: only rows whose tags change in normal
                // form C.
                Some(stored) if stored.iter().any(|t| nfc(t) != t.as_str()) => {
                    serde_json::to_string(&Tags::normalised(&stored))
                        .unwrap_or_else(|_| tags.clone())
                }
                _ => tags.clone(),
            };
            if new_search != search || new_tags != tags {
                changed.push((rowid, new_search, new_tags));
            }
        }
    }
    for (rowid, search, tags) in &changed {
        sqlx::query(
            "UPDATE tasks SET search_text = ?1, tags = ?2, version = version + 1 WHERE rowid = ?3",
        )
        .bind(search)
        .bind(tags)
        .bind(rowid)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    if !changed.is_empty() {
        tracing::info!(
            tasks = changed.len(),
            "tags and search text rewritten in Unicode normal form C"
        );
    }
    Ok(())
}

/// Whether a SQLite URL asks for its file to be created (`mode=rwc`).
fn creates(url: &str) -> bool {
    url.contains("mode=rwc")
}

/// The absolute path of the database file a `sqlite:` URL names (`None` for any other URL, an
/// in-memory database or a URL that does not parse): what the logs show, so two processes
/// started from different directories can be seen to use different files.
pub fn file_of(url: &str) -> Option<std::path::PathBuf> {
    // The SQLite options take any text after an optional `sqlite:` as a file name: a
    // PostgreSQL URL, password and all, would come back as one.
    if !url.starts_with("sqlite:") || in_memory(url) {
        return None;
    }
    let opts = SqliteConnectOptions::from_str(url).ok()?;
    std::path::absolute(opts.get_filename()).ok()
}

/// The configuration's check of a SQLite URL: it must name a file (or `:memory:`); without
/// `mode=rwc` the file must exist, since it will not be created (with it, the file and its
/// directory are created by [`SqliteTaskStore::connect`]).
pub fn check_url(url: &str) -> Result<(), String> {
    let opts = SqliteConnectOptions::from_str(url).map_err(|e| e.to_string())?;
    if in_memory(url) {
        return Ok(());
    }
    let file = opts.get_filename();
    if file.as_os_str().is_empty() {
        return Err(
            "names no file: use sqlite://path/to/todo.db?mode=rwc (or sqlite::memory:)".into(),
        );
    }
    if !creates(url) && !file.exists() {
        return Err(format!(
            "{} does not exist (add ?mode=rwc to create it)",
            file.display()
        ));
    }
    Ok(())
}

async fn migration_lock(path: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let path = path.to_path_buf();
    let io =
        |e: std::io::Error| StoreError::Setup(format!("migration lock {}: {e}", path.display()));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io)?;
    tokio::task::spawn_blocking(move || file.lock().map(|()| file))
        .await
        .map_err(|e| StoreError::Setup(format!("migration lock: {e}")))?
        .map_err(|e| StoreError::Setup(format!("migration lock: {e}")))
}

fn ts(t: Option<DateTime<Utc>>) -> Option<String> {
    t.as_ref().map(to_sortable_text)
}

fn get_ts(row: &SqliteRow, col: usize) -> Result<Option<DateTime<Utc>>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| from_sortable_text(&s).map_err(StoreError::Corrupt))
        .transpose()
}

fn get_uuid(row: &SqliteRow, col: usize) -> Result<Option<Uuid>, StoreError> {
    let s: Option<String> = row.try_get(col)?;
    s.map(|s| Uuid::parse_str(&s).map_err(|e| StoreError::Corrupt(format!("column {col}: {e}"))))
        .transpose()
}

fn required<T>(v: Option<T>, col: &str) -> Result<T, StoreError> {
    v.ok_or_else(|| StoreError::Corrupt(format!("{col} is null")))
}

pub(super) fn bind_raw<'q>(
    q: Query<'q, Sqlite, SqliteArguments>,
    r: &RawTask,
) -> Query<'q, Sqlite, SqliteArguments> {
    q.bind(r.id.to_string())
        .bind(r.owner_id.clone())
        .bind(r.title.clone())
        .bind(r.title_key.clone())
        .bind(r.description.clone())
        .bind(r.search_text.clone())
        .bind(r.status.clone())
        .bind(r.priority)
        .bind(serde_json::to_string(&r.tags).unwrap_or_else(|_| "[]".into()))
        .bind(ts(r.due_date))
        .bind(ts(r.reminder_at))
        .bind(r.recurrence_rule.clone())
        .bind(r.recurrence_anchor.clone())
        .bind(r.timezone.clone())
        .bind(r.series_id.map(|u| u.to_string()))
        .bind(ts(r.series_start))
        .bind(r.occurrence)
        .bind(ts(r.completed_at))
        .bind(to_sortable_text(&r.created_at))
        .bind(to_sortable_text(&r.updated_at))
        .bind(r.version)
}

/// Reads a row selected with [`READ_COLUMNS`], by position.
pub(super) fn decode(row: &SqliteRow) -> Result<Task, StoreError> {
    let tags_json: String = row.try_get(6)?;
    let tags: Vec<String> =
        serde_json::from_str(&tags_json).map_err(|e| StoreError::Corrupt(format!("tags: {e}")))?;
    RawTask {
        id: required(get_uuid(row, 0)?, "id")?,
        owner_id: row.try_get(1)?,
        title: row.try_get(2)?,
        title_key: String::new(),
        description: row.try_get(3)?,
        search_text: String::new(),
        status: row.try_get(4)?,
        priority: row.try_get(5)?,
        tags,
        due_date: get_ts(row, 7)?,
        reminder_at: get_ts(row, 8)?,
        recurrence_rule: row.try_get(9)?,
        recurrence_anchor: row.try_get(10)?,
        timezone: row.try_get(11)?,
        series_id: get_uuid(row, 12)?,
        series_start: get_ts(row, 13)?,
        occurrence: row.try_get(14)?,
        completed_at: get_ts(row, 15)?,
        created_at: required(get_ts(row, 16)?, "created_at")?,
        updated_at: required(get_ts(row, 17)?, "updated_at")?,
        version: row.try_get(18)?,
    }
    .into_task()
}

pub(super) async fn insert_events(
    tx: &mut sqlx::SqliteConnection,
    events: &[DomainEvent],
) -> Result<(), StoreError> {
    for ev in events {
        let at = to_sortable_text(&ev.time);
        sqlx::query(
            "INSERT INTO outbox (id, task_id, event_type, topic, cloudevent, created_at, next_attempt_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(ev.id.to_string())
        .bind(ev.task_id.to_string())
        .bind(ev.event_type.as_str())
        .bind(crate::domain::event::TOPIC)
        .bind(ev.to_cloudevent().to_string())
        .bind(at.clone())
        .bind(at)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

fn bind_list<'q>(
    mut q: Query<'q, Sqlite, SqliteArguments>,
    binds: &[Bind],
) -> Query<'q, Sqlite, SqliteArguments> {
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s.clone()),
            Bind::Int(i) => q.bind(*i),
            Bind::Uuid(u) => q.bind(u.to_string()),
        };
    }
    q
}

async fn miss_reason(
    tx: &mut sqlx::SqliteConnection,
    owner: &OwnerId,
    id: TaskId,
) -> Result<WriteOutcome, StoreError> {
    let exists = sqlx::query("SELECT 1 FROM tasks WHERE id = ? AND owner_id = ?")
        .bind(id.to_string())
        .bind(owner.as_str())
        .fetch_optional(&mut *tx)
        .await?;
    Ok(if exists.is_some() {
        WriteOutcome::VersionMismatch
    } else {
        WriteOutcome::NotFound
    })
}

/// The task insert (built once).
static INSERT_SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "INSERT INTO tasks ({TASK_COLUMNS}) VALUES ({})",
        Dialect::Sqlite.placeholders(1, 21)
    )
});

// The task writes, each run by the group writer inside the batch's transaction (see
// storage::sqlite_writer).

async fn insert_in(
    c: &mut SqliteConnection,
    raw: RawTask,
    events: Vec<DomainEvent>,
) -> Result<WriteOutcome, StoreError> {
    bind_raw(sqlx::query(AssertSqlSafe(INSERT_SQL.as_str())), &raw)
        .execute(&mut *c)
        .await?;
    insert_events(c, &events).await?;
    Ok(WriteOutcome::Done)
}

async fn update_in(
    c: &mut SqliteConnection,
    raw: RawTask,
    owner: OwnerId,
    id: TaskId,
    expected_version: i64,
    events: Vec<DomainEvent>,
) -> Result<WriteOutcome, StoreError> {
    // Numbered placeholders so the shared bind order (id, owner, then the columns) applies.
    // A changed reminder time re-arms the reminder (the CASE sees the old value).
    let sql = "UPDATE tasks SET title = ?3, title_key = ?4, description = ?5, search_text = ?6, status = ?7, \
               priority = ?8, tags = ?9, due_date = ?10, \
               reminder_fired_at = CASE WHEN reminder_at IS NOT ?11 THEN NULL ELSE reminder_fired_at END, \
               reminder_at = ?11, recurrence_rule = ?12, recurrence_anchor = ?13, timezone = ?14, series_id = ?15, \
               series_start = ?16, occurrence = ?17, completed_at = ?18, created_at = ?19, updated_at = ?20, \
               version = ?21 WHERE id = ?1 AND owner_id = ?2 AND version = ?22";
    let done = bind_raw(sqlx::query(sql), &raw)
        .bind(expected_version)
        .execute(&mut *c)
        .await?;
    finish_conditional(c, done.rows_affected() > 0, &owner, id, &events).await
}

async fn delete_in(
    c: &mut SqliteConnection,
    owner: OwnerId,
    id: TaskId,
    expected_version: i64,
    events: Vec<DomainEvent>,
) -> Result<WriteOutcome, StoreError> {
    let done = sqlx::query("DELETE FROM tasks WHERE id = ? AND owner_id = ? AND version = ?")
        .bind(id.to_string())
        .bind(owner.as_str())
        .bind(expected_version)
        .execute(&mut *c)
        .await?;
    finish_conditional(c, done.rows_affected() > 0, &owner, id, &events).await
}

/// After a write conditional on the version: its events if it touched the row, else why not.
async fn finish_conditional(
    c: &mut SqliteConnection,
    touched: bool,
    owner: &OwnerId,
    id: TaskId,
    events: &[DomainEvent],
) -> Result<WriteOutcome, StoreError> {
    if !touched {
        return miss_reason(c, owner, id).await;
    }
    insert_events(c, events).await?;
    Ok(WriteOutcome::Done)
}

#[async_trait]
impl TaskStore for SqliteTaskStore {
    async fn insert(&self, task: &Task, events: &[DomainEvent]) -> Result<(), StoreError> {
        let raw = RawTask::from_task(task);
        let events = events.to_vec();
        self.group
            .write(move |c| Box::pin(insert_in(c, raw.clone(), events.clone())))
            .await?;
        self.count_create();
        Ok(())
    }

    async fn get(&self, owner: &OwnerId, id: TaskId) -> Result<Option<Task>, StoreError> {
        let sql = format!("SELECT {READ_COLUMNS} FROM tasks WHERE id = ? AND owner_id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id.to_string())
            .bind(owner.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(decode).transpose()
    }

    async fn update(
        &self,
        task: &Task,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError> {
        let raw = RawTask::from_task(task);
        let (owner, id, events) = (task.owner.clone(), task.id, events.to_vec());
        self.group
            .write(move |c| {
                Box::pin(update_in(
                    c,
                    raw.clone(),
                    owner.clone(),
                    id,
                    expected_version,
                    events.clone(),
                ))
            })
            .await
    }

    async fn delete(
        &self,
        owner: &OwnerId,
        id: TaskId,
        expected_version: i64,
        events: &[DomainEvent],
    ) -> Result<WriteOutcome, StoreError> {
        let (owner, events) = (owner.clone(), events.to_vec());
        self.group
            .write(move |c| {
                Box::pin(delete_in(
                    c,
                    owner.clone(),
                    id,
                    expected_version,
                    events.clone(),
                ))
            })
            .await
    }

    async fn list(&self, owner: &OwnerId, q: &ListQuery) -> Result<TaskPage, StoreError> {
        let (filter, binds) = list_filter(Dialect::Sqlite, owner, q);
        let page_sql = format!(
            "SELECT {READ_COLUMNS} FROM tasks WHERE {filter} ORDER BY {} LIMIT ? OFFSET ?",
            list_order(Dialect::Sqlite, q)
        );
        let count_sql = format!("SELECT COUNT(*) FROM tasks WHERE {filter}");
        let offset = i64::try_from(q.offset).unwrap_or(i64::MAX);
        // The page and the count run at the same time, on two connections.
        let page = bind_list(sqlx::query(AssertSqlSafe(page_sql)), &binds)
            .bind(i64::from(q.limit))
            .bind(offset)
            .fetch_all(&self.pool);
        let count = bind_list(sqlx::query(AssertSqlSafe(count_sql)), &binds).fetch_one(&self.pool);
        let (rows, count) = tokio::try_join!(page, count)?;
        let total: i64 = count.try_get(0)?;
        let tasks = rows.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
        Ok(TaskPage {
            tasks,
            total: u64::try_from(total).unwrap_or(0),
            snapshot: None,
        })
    }

    async fn tags(&self, owner: &OwnerId) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT j.value AS tag, COUNT(*) AS n FROM tasks, json_each(tasks.tags) AS j \
             WHERE owner_id = ? GROUP BY j.value ORDER BY n DESC, j.value ASC",
        )
        .bind(owner.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}
