//! Results that stay exact while the tasks have not changed.
//!
//! PostgreSQL can name "the tasks have not changed" exactly: every statement that writes what
//! lists see of `tasks` (all but the reminder scan's `reminder_fired_at`) adds one to a count in
//! the same transaction (migration 7, `task_changes`), so two statements that see the same count
//! see the same tasks in every list, whichever replica wrote them. That count is the
//! "snapshot" here: a result read under it can be kept with it, and handed out again to
//! whoever presents the same one. Two users: list totals (`COUNT(*)` is the expensive half of a
//! list; `storage::postgres`) and whole rendered list pages (`app::tasks`).
//! The same structure keeps rendered tasks by id under their version (a task's version moves
//! with every change to it). See `docs/adr/0003-list-totals.md` and
//! `docs/adr/0005-postgres-hot-paths.md`.
//!
//! Each key keeps only its newest snapshot. The cache is bounded in bytes: when an entry would
//! not fit it starts over (a simple bound: entries are cheap to recompute, and a full cache is
//! one whose contents are mostly stale after the next write anyway).

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// The size a cached value is charged for.
pub trait Weigh {
    /// Bytes this value holds.
    fn weight(&self) -> usize;
}

impl Weigh for u64 {
    fn weight(&self) -> usize {
        8
    }
}

impl Weigh for i64 {
    fn weight(&self) -> usize {
        8
    }
}

impl Weigh for crate::domain::TaskId {
    fn weight(&self) -> usize {
        16
    }
}

impl Weigh for String {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weigh for bytes::Bytes {
    fn weight(&self) -> usize {
        self.len()
    }
}

/// What an entry costs beyond its key, snapshot and value (map slot, allocations).
const ENTRY_OVERHEAD: usize = 64;

/// Values by key (`K`), each with the snapshot (`S`) it was read under: by default both are
/// strings (a filter and the tasks' change count); rendered tasks use their id and version.
#[derive(Debug)]
pub struct SnapshotCache<V, K = String, S = String> {
    budget: usize,
    inner: Mutex<Inner<K, S, V>>,
}

#[derive(Debug)]
struct Inner<K, S, V> {
    entries: HashMap<K, Entry<S, V>>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry<S, V> {
    snapshot: S,
    value: V,
    weight: usize,
}

impl<V: Clone + Weigh, K: Hash + Eq + Weigh, S: Clone + Weigh> SnapshotCache<V, K, S> {
    /// A cache holding at most `budget` bytes; 0 keeps nothing.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                bytes: 0,
            }),
        }
    }

    /// The value for `key` if it was read under exactly `snapshot`.
    pub fn get<Q, T>(&self, key: &Q, snapshot: &T) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
        S: PartialEq<T>,
        T: ?Sized,
    {
        let inner = self.inner.lock().ok()?;
        let e = inner.entries.get(key)?;
        (e.snapshot == *snapshot).then(|| e.value.clone())
    }

    /// The newest value for `key` with its snapshot, for the caller to check against the
    /// database's current one.
    pub fn latest<Q>(&self, key: &Q) -> Option<(S, V)>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let inner = self.inner.lock().ok()?;
        let e = inner.entries.get(key)?;
        Some((e.snapshot.clone(), e.value.clone()))
    }

    /// Remembers a value read under `snapshot` (replacing the key's older one).
    pub fn put(&self, key: K, snapshot: S, value: V) {
        let weight = key.weight() + snapshot.weight() + value.weight() + ENTRY_OVERHEAD;
        if weight > self.budget {
            return;
        }
        let Ok(mut inner) = self.inner.lock() else {
            return;
        };
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= old.weight;
        }
        if inner.bytes + weight > self.budget {
            inner.entries.clear();
            inner.bytes = 0;
        }
        inner.bytes += weight;
        inner.entries.insert(
            key,
            Entry {
                snapshot,
                value,
                weight,
            },
        );
    }

    /// The most this cache holds, in bytes.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.inner.lock().map(|i| i.bytes).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_reused_only_under_the_same_snapshot() {
        let c = SnapshotCache::<u64>::new(1 << 20);
        assert_eq!(c.get("owner=a", "10:12:"), None);
        c.put("owner=a".into(), "10:12:".into(), 7);
        assert_eq!(c.get("owner=a", "10:12:"), Some(7));
        assert_eq!(
            c.get("owner=a", "10:13:"),
            None,
            "a write moved the snapshot"
        );
        assert_eq!(c.get("owner=b", "10:12:"), None, "another key");
        c.put("owner=a".into(), "10:13:".into(), 8);
        assert_eq!(
            c.get("owner=a", "10:12:"),
            None,
            "only the newest snapshot is kept"
        );
        assert_eq!(c.latest("owner=a"), Some(("10:13:".to_string(), 8)));
    }

    #[test]
    fn the_cache_stays_within_its_budget() {
        let budget = 10_000;
        let c = SnapshotCache::<bytes::Bytes>::new(budget);
        for i in 0..100 {
            c.put(
                format!("k{i}"),
                "1:1:".into(),
                bytes::Bytes::from(vec![b'x'; 500]),
            );
            assert!(c.bytes() <= budget, "{} bytes after {i}", c.bytes());
        }
        // The newest entry is always there after a put that fits.
        assert!(c.get("k99", "1:1:").is_some());
        // Replacing a key does not count it twice.
        let before = c.bytes();
        c.put(
            "k99".into(),
            "1:2:".into(),
            bytes::Bytes::from(vec![b'y'; 500]),
        );
        assert_eq!(c.bytes(), before);
        // A value larger than the budget is not kept, and a zero budget keeps nothing.
        c.put(
            "big".into(),
            "1:2:".into(),
            bytes::Bytes::from(vec![0; budget]),
        );
        assert_eq!(c.get("big", "1:2:"), None);
        let off = SnapshotCache::<u64>::new(0);
        off.put("k".into(), "1:1:".into(), 1);
        assert_eq!(off.get("k", "1:1:"), None);
    }
}
