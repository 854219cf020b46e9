//! The in-process [`IdempotencyStore`] of the all-in-one mode: a map with expiry, shared by
//! every router in the process (the same contract as the Dapr state store).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;

use crate::ports::{IdempotencyStore, StoreError, StoredResponse};

/// Entries kept at most (beyond this, finished records are evicted first, soonest expiry first).
const MAX_ENTRIES: usize = 100_000;

type Entries = HashMap<String, (StoredResponse, Instant)>;

/// An expiring in-memory map.
#[derive(Default)]
pub struct MemoryIdempotencyStore {
    map: Mutex<Entries>,
}

impl MemoryIdempotencyStore {
    fn locked(&self) -> Result<std::sync::MutexGuard<'_, Entries>, StoreError> {
        self.map
            .lock()
            .map_err(|_| StoreError::Remote("idempotency store lock poisoned".into()))
    }
}

fn prune(map: &mut Entries, now: Instant) {
    map.retain(|_, (_, exp)| *exp > now);
    if map.len() > MAX_ENTRIES {
        // Finished requests' records go first, soonest expiry first; claims of requests still
        // running go last (evicting one would let its retry run the request again).
        let mut by_expiry: Vec<(String, bool, Instant)> = map
            .iter()
            .map(|(k, (v, e))| (k.clone(), v.status.is_none(), *e))
            .collect();
        by_expiry.sort_by_key(|(_, running, e)| (*running, *e));
        for (k, _, _) in by_expiry.into_iter().take(map.len() - MAX_ENTRIES) {
            map.remove(&k);
        }
    }
}

#[async_trait]
impl IdempotencyStore for MemoryIdempotencyStore {
    async fn get(&self, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        let now = Instant::now();
        Ok(self
            .locked()?
            .get(key)
            .filter(|(_, exp)| *exp > now)
            .map(|(v, _)| v.clone()))
    }

    async fn create(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        let now = Instant::now();
        let mut map = self.locked()?;
        if map.get(key).is_some_and(|(_, exp)| *exp > now) {
            return Ok(false);
        }
        if map.len() >= MAX_ENTRIES {
            prune(&mut map, now);
        }
        map.insert(
            key.to_string(),
            (value.clone(), now + Duration::from_secs(ttl_secs)),
        );
        Ok(true)
    }

    async fn put(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        let expiry = Instant::now() + Duration::from_secs(ttl_secs);
        self.locked()?
            .insert(key.to_string(), (value.clone(), expiry));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.locked()?.remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> StoredResponse {
        StoredResponse {
            fingerprint: s.into(),
            status: None,
            headers: vec![],
            body: String::new(),
        }
    }

    #[tokio::test]
    async fn create_is_create_only_and_entries_expire() {
        let store = MemoryIdempotencyStore::default();
        assert!(store.create("k", &v("a"), 60).await.expect("ok"));
        assert!(!store.create("k", &v("b"), 60).await.expect("ok"));
        assert_eq!(
            store.get("k").await.expect("ok").map(|r| r.fingerprint),
            Some("a".into())
        );
        assert!(store.create("gone", &v("a"), 0).await.expect("ok"));
        assert!(store.get("gone").await.expect("ok").is_none());
        assert!(
            store.create("gone", &v("c"), 60).await.expect("ok"),
            "an expired key can be reused"
        );
    }

    #[test]
    fn a_full_map_evicts_finished_records_before_running_claims() {
        let now = Instant::now();
        let mut map = Entries::new();
        // A running claim expiring soonest, then finished records expiring later.
        map.insert("running".into(), (v("r"), now + Duration::from_secs(60)));
        for i in 0..MAX_ENTRIES {
            let mut done = v("d");
            done.status = Some(201);
            let exp = now + Duration::from_secs(3600 + i as u64);
            map.insert(format!("done-{i}"), (done, exp));
        }
        prune(&mut map, now);
        assert_eq!(map.len(), MAX_ENTRIES);
        assert!(map.contains_key("running"), "the running claim is kept");
        assert!(
            !map.contains_key("done-0"),
            "the soonest finished record goes"
        );
    }
}
