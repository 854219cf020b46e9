//! One pooled PostgreSQL connection kept by its one user between statements.
//!
//! sqlx checks a connection with a round trip to the server every time it goes back to its
//! pool, so a user that runs a statement every few milliseconds on a pool of its own (the
//! outbox relay: claim, publish, mark) pays a second round trip, and a wake-up of the server
//! process, per statement. Keeping the connection saves that. A statement that fails gives the
//! connection back to the pool (which closes it if it broke) and the next one takes another,
//! so a connection the server closed costs one failed statement, which the relay retries.

use sqlx::PgConnection;
use sqlx::pool::PoolConnection;
use sqlx::{PgPool, Postgres};
use tokio::sync::{Mutex, MutexGuard};

use crate::ports::StoreError;

/// A connection taken from `pool` on first use and kept until a statement on it fails.
pub struct KeptConnection {
    pool: PgPool,
    slot: Mutex<Option<PoolConnection<Postgres>>>,
}

/// The kept connection, held by one caller at a time. Dropped without [`Kept::done`] (the
/// caller's future was cancelled mid-statement), the connection goes back to the pool, whose
/// check settles whatever the statement left unread.
pub struct Kept<'a> {
    slot: MutexGuard<'a, Option<PoolConnection<Postgres>>>,
    conn: PoolConnection<Postgres>,
}

impl KeptConnection {
    /// Keeps connections of `pool` (which nobody else should use: the kept one is never
    /// given back while it works).
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
        let conn = match slot.take() {
            Some(conn) => conn,
            None => self.pool.acquire().await?,
        };
        Ok(Kept { slot, conn })
    }
}

impl Kept<'_> {
    /// The connection, for one statement.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// The outcome of the caller's statement: the connection is kept after a success and given
    /// back to the pool after a failure.
    pub fn done<T>(self, outcome: Result<T, sqlx::Error>) -> Result<T, StoreError> {
        let Kept { mut slot, conn } = self;
        if outcome.is_ok() {
            *slot = Some(conn);
        }
        Ok(outcome?)
    }
}
