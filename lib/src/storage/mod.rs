//! Storage adapters for the [`TaskStore`](crate::ports::TaskStore) port: PostgreSQL and SQLite,
//! each with its own migrations (`lib/migrations/{postgres,sqlite}`), chosen once from
//! `DATABASE_URL`'s scheme.

mod pg_batch;
mod pg_idempotency;
mod pg_kept;
pub mod postgres;
mod postgres_events;
pub mod sql;
pub mod sqlite;
mod sqlite_events;
mod sqlite_writer;

use std::sync::Arc;

use crate::ports::{EventStore, IdempotencyStore, StoreError, TaskStore};

pub use pg_idempotency::PgIdempotencyStore;
pub use postgres::PgTaskStore;
pub use sqlite::SqliteTaskStore;

/// Which backend a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `postgres://` or `postgresql://`.
    Postgres,
    /// `sqlite:`.
    Sqlite,
}

impl Backend {
    /// Picks the backend from a database URL's scheme.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url
            .split(':')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        match scheme.as_str() {
            "postgres" | "postgresql" => Some(Self::Postgres),
            "sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }
}

/// Both ports, served by the same database.
#[derive(Clone)]
pub struct Stores {
    /// Tasks and the outbox writes that go with them.
    pub tasks: Arc<dyn TaskStore>,
    /// The outbox relay's and the consumers' side.
    pub events: Arc<dyn EventStore>,
    /// `Idempotency-Key` records in the database, shared by every process on it (PostgreSQL);
    /// `None` where one process owns the database (SQLite), whose records stay in memory.
    /// A Dapr state store, when configured, is used instead.
    pub idempotency: Option<Arc<dyn IdempotencyStore>>,
}

/// Opens the database named by `url` and applies its migrations.
pub async fn open(url: &str, max_connections: u32) -> Result<Stores, StoreError> {
    match Backend::from_url(url) {
        Some(Backend::Postgres) => {
            let s = Arc::new(PgTaskStore::connect(url, max_connections).await?);
            Ok(Stores {
                idempotency: Some(Arc::new(PgIdempotencyStore::new(s.pool().clone()))),
                tasks: s.clone(),
                events: s,
            })
        }
        Some(Backend::Sqlite) => {
            let s = Arc::new(SqliteTaskStore::connect(url).await?);
            Ok(Stores {
                tasks: s.clone(),
                events: s,
                idempotency: None,
            })
        }
        None => Err(StoreError::Corrupt(format!(
            "unsupported DATABASE_URL scheme in '{}'",
            redact_url(url)
        ))),
    }
}

/// A database URL with its password replaced, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Hands a write to a background writer task (the SQLite group writer, the PostgreSQL
/// inserters): builds the job around a reply channel, queues it, and waits for the answer. A
/// writer that has stopped, or dropped the job, is reported as the database being unavailable.
pub(crate) async fn submit<J, T>(
    tx: &tokio::sync::mpsc::Sender<J>,
    job: impl FnOnce(tokio::sync::oneshot::Sender<Result<T, StoreError>>) -> J,
    writer: &str,
) -> Result<T, StoreError> {
    let gone = |why: String| StoreError::Unavailable(sqlx::Error::Protocol(why));
    let (reply, answer) = tokio::sync::oneshot::channel();
    if tx.send(job(reply)).await.is_err() {
        return Err(gone(format!("the {writer} has stopped")));
    }
    answer
        .await
        .unwrap_or_else(|_| Err(gone(format!("the {writer} dropped the write"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_follows_the_scheme() {
        assert_eq!(
            Backend::from_url("postgres://u:p@h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("postgresql://h/db"),
            Some(Backend::Postgres)
        );
        assert_eq!(
            Backend::from_url("sqlite://data/todo.db?mode=rwc"),
            Some(Backend::Sqlite)
        );
        assert_eq!(Backend::from_url("mysql://h/db"), None);
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://todo:secret@db:5432/todo"),
            "postgres://todo:***@db:5432/todo"
        );
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn only_a_sqlite_url_names_a_file_to_log() {
        // SQLite's options take any text as a file name: a PostgreSQL URL must not come back
        // as one (it would be logged, password and all).
        assert_eq!(sqlite::file_of("postgres://todo:secret@db:5432/todo"), None);
        assert_eq!(sqlite::file_of("sqlite::memory:"), None);
        let file = sqlite::file_of("sqlite://data/todo.db?mode=rwc").expect("a file");
        assert!(
            file.is_absolute() && file.ends_with("data/todo.db"),
            "{file:?}"
        );
    }
}
