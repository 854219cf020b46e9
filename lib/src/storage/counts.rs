//! Exact list totals, counted once per database snapshot.
//!
//! A list page carries `total`, the number of tasks matching its filters. Counting is the
//! expensive half of a list (an index scan over every match, against 50 rows for the page), and
//! between two writes the answer cannot change. PostgreSQL names "between two writes" exactly:
//! `pg_current_snapshot()` inside a statement is the snapshot that statement reads with, and two
//! statements with the same snapshot see the same committed rows (any change takes a transaction
//! id, which moves the snapshot). So the page query also returns its snapshot, and a count made
//! under that same snapshot is reused: the total is the one a `COUNT(*)` beside the page would
//! give, without running it again for every reader of an unchanged list. See
//! `docs/adr/0003-list-totals.md`.

use std::collections::HashMap;
use std::sync::Mutex;

/// How many distinct filters are remembered; past this the cache starts over (a filter is one
/// combination of owner, status, priority, tag and search text).
const CAPACITY: usize = 1024;

/// Totals by filter, each with the snapshot it was counted under.
#[derive(Debug, Default)]
pub struct CountCache {
    entries: Mutex<HashMap<String, (String, u64)>>,
}

impl CountCache {
    /// The total for `filter` if it was counted under exactly `snapshot`.
    pub fn get(&self, filter: &str, snapshot: &str) -> Option<u64> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(filter)
            .filter(|(snap, _)| snap == snapshot)
            .map(|(_, n)| *n)
    }

    /// Remembers a total counted under `snapshot`.
    pub fn put(&self, filter: String, snapshot: String, total: u64) {
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= CAPACITY && !entries.contains_key(&filter) {
                entries.clear();
            }
            entries.insert(filter, (snapshot, total));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_total_is_reused_only_under_the_same_snapshot() {
        let c = CountCache::default();
        assert_eq!(c.get("owner=a", "10:12:"), None);
        c.put("owner=a".into(), "10:12:".into(), 7);
        assert_eq!(c.get("owner=a", "10:12:"), Some(7));
        assert_eq!(
            c.get("owner=a", "10:13:"),
            None,
            "a write moved the snapshot"
        );
        assert_eq!(c.get("owner=b", "10:12:"), None, "another filter");
        c.put("owner=a".into(), "10:13:".into(), 8);
        assert_eq!(
            c.get("owner=a", "10:12:"),
            None,
            "only the newest snapshot is kept"
        );
        assert_eq!(c.get("owner=a", "10:13:"), Some(8));
    }

    #[test]
    fn the_cache_is_bounded() {
        let c = CountCache::default();
        for i in 0..CAPACITY + 10 {
            c.put(format!("f{i}"), "1:1:".into(), 1);
        }
        let len = c.entries.lock().map(|e| e.len()).unwrap_or(usize::MAX);
        assert!(len <= CAPACITY, "{len} entries");
    }
}
