//! `Idempotency-Key` records in PostgreSQL (migration 8), for processes that share a database
//! but have no Dapr state store: the same create-only/expiring contract as the state store, with
//! the database's clock as the one clock every replica reads.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use sqlx::PgPool;

use crate::ports::{IdempotencyStore, StoreError, StoredResponse};

/// One create in this many also deletes a batch of expired records.
const PRUNE_EVERY: u64 = 256;
/// Expired records deleted per batch.
const PRUNE_BATCH: i64 = 1_000;

/// The PostgreSQL idempotency store.
#[derive(Clone)]
pub struct PgIdempotencyStore {
    pool: PgPool,
    creates: Arc<AtomicU64>,
}

impl PgIdempotencyStore {
    /// A store on `pool` (whose database has had its migrations).
    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            creates: Arc::default(),
        }
    }

    /// Deletes up to [`PRUNE_BATCH`] expired records; returns how many.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "DELETE FROM idempotency_keys WHERE key IN ( \
               SELECT key FROM idempotency_keys WHERE expires_at <= now() \
               ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)",
        )
        .bind(PRUNE_BATCH)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

fn encode(value: &StoredResponse) -> Result<String, StoreError> {
    serde_json::to_string(value)
        .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")))
}

fn ttl(secs: u64) -> f64 {
    // Whole seconds; a day is the longest anyone asks for.
    secs.min(i32::MAX as u64) as f64
}

#[async_trait]
impl IdempotencyStore for PgIdempotencyStore {
    async fn get(&self, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        let record: Option<String> = sqlx::query_scalar(
            "SELECT record FROM idempotency_keys WHERE key = $1 AND expires_at > now()",
        )
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        record
            .map(|r| {
                serde_json::from_str(&r)
                    .map_err(|e| StoreError::Corrupt(format!("idempotency record: {e}")))
            })
            .transpose()
    }

    async fn create(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        if self.creates.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            let me = self.clone();
            tokio::spawn(async move {
                if let Err(e) = me.prune().await {
                    tracing::debug!(error = %e, "expired idempotency records not pruned");
                }
            });
        }
        // Inserted, or taken over from an expired record: either way this request holds the key.
        let won: Option<i32> = sqlx::query_scalar(
            "INSERT INTO idempotency_keys AS k (key, record, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at \
               WHERE k.expires_at <= now() \
             RETURNING 1",
        )
        .bind(key)
        .bind(encode(value)?)
        .bind(ttl(ttl_secs))
        .fetch_optional(&self.pool)
        .await?;
        Ok(won.is_some())
    }

    async fn put(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (key, record, expires_at) \
             VALUES ($1, $2, now() + make_interval(secs => $3)) \
             ON CONFLICT (key) DO UPDATE SET record = EXCLUDED.record, expires_at = EXCLUDED.expires_at",
        )
        .bind(key)
        .bind(encode(value)?)
        .bind(ttl(ttl_secs))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE key = $1")
            .bind(key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
