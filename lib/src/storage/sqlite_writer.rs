//! Group commit for SQLite: the task writes of concurrent requests share one transaction.
//!
//! SQLite has one writer at a time, and with `synchronous = FULL` every commit waits for an
//! fsync. One transaction per request makes the fsync the ceiling on writes per second. Here
//! requests hand their write to a single writer task; it takes every write queued at that moment
//! (up to [`MAX_BATCH`]), runs them all in one transaction, commits once, and only then answers
//! each request: a request is answered "done" only once its write is durable. Failures are rare
//! (a version conflict or a missing task is an answer, not an error), so they take the slow path:
//! if any write of the group fails, or the commit does, the group is rolled back and every write
//! is run again in a transaction of its own, and each request gets its own write's outcome. That
//! is why a write is a closure that can run twice. With one request in flight a group is a single
//! write in a plain transaction, as before.

use std::future::Future;
use std::pin::Pin;

use sqlx::{Connection, SqliteConnection, SqlitePool};
use tokio::sync::{mpsc, oneshot};

use crate::ports::{StoreError, WriteOutcome};

/// A boxed future borrowing the writer's connection.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The most writes committed together.
pub const MAX_BATCH: usize = 64;

/// One request's write, run on the writer's connection inside the shared transaction (and run
/// again alone if its group is rolled back).
pub type WriteFn = Box<
    dyn for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<WriteOutcome, StoreError>>
        + Send
        + Sync,
>;

struct Job {
    run: WriteFn,
    reply: oneshot::Sender<Result<WriteOutcome, StoreError>>,
}

/// The handle requests send their writes through.
#[derive(Clone)]
pub struct GroupWriter {
    tx: mpsc::Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer task on the current runtime; it uses `pool`'s connection for each batch
    /// and stops when the last handle is dropped.
    pub fn spawn(pool: SqlitePool) -> Self {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx));
        Self { tx }
    }

    /// Runs `f` in the next batch and returns its result once the batch has committed.
    pub async fn write<F>(&self, f: F) -> Result<WriteOutcome, StoreError>
    where
        F: for<'c> Fn(&'c mut SqliteConnection) -> BoxFuture<'c, Result<WriteOutcome, StoreError>>
            + Send
            + Sync
            + 'static,
    {
        super::submit(
            &self.tx,
            |reply| Job {
                run: Box::new(f),
                reply,
            },
            "SQLite writer",
        )
        .await
    }
}

async fn run(pool: SqlitePool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut jobs = vec![first];
        while jobs.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => jobs.push(job),
                Err(_) => break,
            }
        }
        let mut replies = Vec::with_capacity(jobs.len());
        let mut results = Vec::with_capacity(jobs.len());
        let committed = run_batch(&pool, jobs, &mut replies, &mut results).await;
        match committed {
            Ok(()) => {
                for (reply, result) in replies.into_iter().zip(results) {
                    let _ = reply.send(result);
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, writes = replies.len(), "SQLite write batch failed; none of it is committed");
                for reply in replies {
                    let _ = reply.send(Err(StoreError::Unavailable(sqlx::Error::Protocol(
                        format!("write not committed: {e}"),
                    ))));
                }
            }
        }
    }
}

/// Runs the batch; `replies` receives every job's reply channel (also of jobs never run), and
/// `results` each job's outcome, in order. An error means none of the jobs was committed.
async fn run_batch(
    pool: &SqlitePool,
    jobs: Vec<Job>,
    replies: &mut Vec<oneshot::Sender<Result<WriteOutcome, StoreError>>>,
    results: &mut Vec<Result<WriteOutcome, StoreError>>,
) -> Result<(), sqlx::Error> {
    let mut runs = Vec::with_capacity(jobs.len());
    for job in jobs {
        replies.push(job.reply);
        runs.push(job.run);
    }
    let mut conn = pool.acquire().await?;
    if runs.len() > 1 {
        // The fast path: every write in one transaction, one commit.
        let mut tx = conn.begin().await?;
        let mut failed = false;
        for run in &runs {
            let result = run(&mut tx).await;
            failed = result.is_err();
            results.push(result);
            if failed {
                break;
            }
        }
        if !failed && tx.commit().await.is_ok() {
            return Ok(());
        }
        // Rolled back (a failed commit has rolled back already; dropping the transaction
        // rolls back otherwise): every write runs again alone below.
        results.clear();
    }
    // One by one: from here on each write's outcome is its own (some may commit while a later
    // one fails), so no error escapes as the whole batch's.
    for run in &runs {
        let result = match conn.begin().await {
            Err(e) => Err(StoreError::from(e)),
            Ok(mut tx) => match run(&mut tx).await {
                Ok(outcome) => tx
                    .commit()
                    .await
                    .map(|()| outcome)
                    .map_err(StoreError::from),
                Err(e) => {
                    let _ = tx.rollback().await;
                    Err(e)
                }
            },
        };
        results.push(result);
    }
    Ok(())
}
