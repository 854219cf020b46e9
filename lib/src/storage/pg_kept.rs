//! One pooled PostgreSQL connection kept by its one user between statements.
//!
//! sqlx checks a connection with a round trip to the server every time it goes back to its
//! pool, so a user that runs a statement every few milliseconds (the inserter that writes
//! every create, the outbox relay: claim, publish, mark) pays a second round trip, and a wake-up
//! of the server process, per statement. Keeping the connection saves that. Each kept
//! connection comes from a pool of its own, so keeping it never takes a connection from the
//! requests. A statement that fails gives the connection back to its pool (which closes it if it
//! broke) and the next one takes another, so a connection the server closed costs one failed
//! statement, which the user retries. A connection kept for [`MAX_KEPT`] goes back to its pool
//! on its next use, so sqlx's lifetime limit still applies to it.

use std::time::{Duration, Instant};

use sqlx::PgConnection;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgArguments, PgQueryResult, PgRow};
use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex, MutexGuard};

use crate::ports::StoreError;

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, PgArguments>;

/// How long one connection is kept at most.
pub const MAX_KEPT: Duration = Duration::from_secs(10 * 60);

/// A connection taken from `pool` on first use and kept until a statement on it fails, it is
/// released, or it has been kept for [`MAX_KEPT`].
pub struct KeptConnection {
    pool: PgPool,
    slot: Mutex<Option<(PoolConnection<Postgres>, Instant)>>,
}

/// The kept connection, held by one caller at a time. Dropped without [`Kept::done`] (the
/// caller's future was cancelled mid-statement), the connection goes back to the pool, whose
/// check settles whatever the statement left unread.
pub struct Kept<'a> {
    slot: MutexGuard<'a, Option<(PoolConnection<Postgres>, Instant)>>,
    conn: PoolConnection<Postgres>,
    since: Instant,
}

impl KeptConnection {
    /// Keeps connections of `pool`, which should be this user's alone: the kept connection is
    /// not given back while it works.
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            slot: Mutex::new(None),
        }
    }

    /// The pool the connections come from.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The kept connection (taken from the pool if there is none), for one caller.
    pub async fn get(&self) -> Result<Kept<'_>, StoreError> {
        let mut slot = self.slot.lock().await;
        let kept = slot.take().filter(|(_, since)| since.elapsed() < MAX_KEPT);
        let (conn, since) = match kept {
            Some(kept) => kept,
            None => (self.pool.acquire().await?, Instant::now()),
        };
        Ok(Kept { slot, conn, since })
    }

    /// Runs one statement on the kept connection (see [`Kept::done`]).
    pub async fn execute(&self, q: PgQuery<'_>) -> Result<PgQueryResult, StoreError> {
        let mut kept = self.get().await?;
        let outcome = q.execute(kept.conn()).await;
        kept.done(outcome)
    }

    /// Runs one query on the kept connection and returns its rows (see [`Kept::done`]).
    pub async fn fetch_all(&self, q: PgQuery<'_>) -> Result<Vec<PgRow>, StoreError> {
        let mut kept = self.get().await?;
        let outcome = q.fetch_all(kept.conn()).await;
        kept.done(outcome)
    }

    /// Gives the kept connection back to the pool (when its user goes idle).
    pub async fn release(&self) {
        self.slot.lock().await.take();
    }
}

impl Kept<'_> {
    /// The connection, for one statement.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// The outcome of the caller's statement: the connection is kept after a success and given
    /// back to the pool after a failure.
    pub fn done<T, E: Into<StoreError>>(self, outcome: Result<T, E>) -> Result<T, StoreError> {
        let Kept {
            mut slot,
            conn,
            since,
        } = self;
        if outcome.is_ok() {
            *slot = Some((conn, since));
        }
        outcome.map_err(Into::into)
    }
}
