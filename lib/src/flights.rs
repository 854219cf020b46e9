//! Work shared by the requests that need it at the same time.
//!
//! - [`Flights`]: one run per key. After a write, every list in flight misses its kept page (or
//!   total) at once; without sharing, each of them reads the same page again. Callers choose
//!   keys so that a shared result is as fresh as each joiner needs (see the call sites): a key
//!   names the state of the data the joiner observed, and the work starts after that.
//! - [`FreshChecks`]: one read of a value for every request that arrived before the read
//!   started. Kept list pages are checked against the tasks' state with a small query per
//!   request; under load most of those queries answer the same thing at the same moment.
//! - [`KeyedLocks`]: one writer at a time per key (a task) within the process, so concurrent
//!   changes to one task queue instead of racing on its version and running out of retries.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// One piece of work in progress: its result once done (`None` if it failed).
type Flight<T> = tokio::sync::OnceCell<Option<T>>;

/// Work in progress, by key.
pub struct Flights<T> {
    running: Mutex<HashMap<String, Arc<Flight<T>>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Self {
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Flights<T> {
    /// Runs `work` for `key`, or waits for the run already in progress for it and takes its
    /// result. A run that fails gives its error to the request that ran it; the requests that
    /// waited for it each run `work` themselves. A request cancelled while running hands the
    /// run to one of its waiters (the cell's initialisation moves on). Once a run is done the
    /// key is free again: a later request starts a new run.
    pub async fn share<E, F, Fut>(&self, key: String, work: F) -> Result<T, E>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let joined = Joined::new(&self.running, key);
        let mut failed = None;
        let shared = joined
            .flight
            .get_or_init(|| async {
                match work().await {
                    Ok(value) => Some(value),
                    Err(e) => {
                        failed = Some(e);
                        None
                    }
                }
            })
            .await
            .clone();
        // Done: the next request starts another run.
        drop(joined);
        match (shared, failed) {
            (_, Some(e)) => Err(e),
            (Some(value), None) => Ok(value),
            // The run this request waited for failed in another request: its own try.
            (None, None) => work().await,
        }
    }

    /// Keys with a run in progress (for tests: nothing outlives its requests).
    pub fn in_progress(&self) -> usize {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A request's place in the run in progress for its key. Dropping it (done, failed, or the
/// request cancelled) takes that run out of the map, so no entry outlives its requests.
struct Joined<'a, T> {
    running: &'a Mutex<HashMap<String, Arc<Flight<T>>>>,
    key: String,
    flight: Arc<Flight<T>>,
}

impl<'a, T> Joined<'a, T> {
    fn new(running: &'a Mutex<HashMap<String, Arc<Flight<T>>>>, key: String) -> Self {
        let flight = running
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        Self {
            running,
            key,
            flight,
        }
    }
}

impl<T> Drop for Joined<'_, T> {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        // Out of the map once the run is done (a later request starts anew), or when the last
        // request waiting for it leaves (the map's reference and this one are all there is).
        // A request cancelled while others still wait for an unfinished run leaves it there.
        let last = Arc::strong_count(&self.flight) <= 2;
        if (self.flight.initialized() || last)
            && running
                .get(&self.key)
                .is_some_and(|f| Arc::ptr_eq(f, &self.flight))
        {
            running.remove(&self.key);
        }
    }
}

/// Reads of a value that changes (the state of the tasks), shared by the requests waiting for
/// one, without ever answering a request with a read that began before it arrived.
///
/// One read runs at a time. A request that arrives while a read runs waits for it to finish and
/// then for the next read, which starts at once and serves every request that arrived before
/// it began. So each request gets a value read after it arrived (what a read of its own would
/// have given it or newer), in at most two reads' time, and under load one read serves many
/// requests instead of each sending its own.
pub struct FreshChecks<T> {
    /// Requests so far; each takes the next number (its ticket).
    arrivals: AtomicU64,
    /// One read at a time, in arrival order (tokio's mutex is fair).
    lane: tokio::sync::Mutex<()>,
    /// The newest read: the last ticket issued before it began, and what it read.
    last: Mutex<Option<(u64, T)>>,
    /// The last ticket issued before the newest failed read began (0: none failed).
    failed: AtomicU64,
}

impl<T> Default for FreshChecks<T> {
    fn default() -> Self {
        Self {
            arrivals: AtomicU64::new(0),
            lane: tokio::sync::Mutex::new(()),
            last: Mutex::new(None),
            failed: AtomicU64::new(0),
        }
    }
}

impl<T: Clone> FreshChecks<T> {
    /// The value, read after this call began: by a read of this request's own, or by one that
    /// another request started after this one arrived. A failed read fails the request that
    /// ran it; the requests that were waiting for it then read on their own, all at once (not
    /// one after another: with the database down, each would otherwise wait for the previous
    /// one's timeout).
    pub async fn read<E, F, Fut>(&self, read: F) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        let ticket = self.arrivals.fetch_add(1, Ordering::SeqCst) + 1;
        let lane = self.lane.lock().await;
        if let Some((covers, value)) = &*self.last.lock().unwrap_or_else(|p| p.into_inner())
            && *covers >= ticket
        {
            return Ok(value.clone());
        }
        if self.failed.load(Ordering::SeqCst) >= ticket {
            drop(lane);
            return read().await;
        }
        // Every ticket issued so far belongs to a request that arrived before this read begins.
        let covers = self.arrivals.load(Ordering::SeqCst);
        match read().await {
            Ok(value) => {
                *self.last.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((covers, value.clone()));
                Ok(value)
            }
            Err(e) => {
                self.failed.fetch_max(covers, Ordering::SeqCst);
                Err(e)
            }
        }
    }
}

/// Async locks by key, each taken out of the map when nobody holds or waits for it.
pub struct KeyedLocks<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + std::hash::Hash + Clone> KeyedLocks<K> {
    /// Waits for `key`'s lock (requests for one key are served in arrival order).
    pub async fn lock(&self, key: K) -> KeyGuard<'_, K> {
        let lock = self
            .locks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(key.clone())
            .or_default()
            .clone();
        let held = lock.clone().lock_owned().await;
        KeyGuard {
            locks: self,
            key,
            lock,
            _held: held,
        }
    }

    /// Keys with a lock held or waited for (for tests: nothing outlives its requests).
    pub fn in_use(&self) -> usize {
        self.locks.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// A held key lock; released when dropped.
pub struct KeyGuard<'a, K: Eq + std::hash::Hash> {
    locks: &'a KeyedLocks<K>,
    key: K,
    lock: Arc<tokio::sync::Mutex<()>>,
    _held: tokio::sync::OwnedMutexGuard<()>,
}

impl<K: Eq + std::hash::Hash> Drop for KeyGuard<'_, K> {
    fn drop(&mut self) {
        let mut locks = self.locks.locks.lock().unwrap_or_else(|p| p.into_inner());
        // The map's reference, this guard's and the held lock's: nobody else holds or waits
        // (a newcomer would have to take the map's lock first, which this holds).
        if Arc::strong_count(&self.lock) <= 3 {
            locks.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_requests_for_one_key_share_one_run() {
        let flights = Arc::new(Flights::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut joins = Vec::new();
        for _ in 0..8 {
            let (flights, runs) = (flights.clone(), runs.clone());
            joins.push(tokio::spawn(async move {
                flights
                    .share("k".into(), || async {
                        runs.fetch_add(1, Ordering::SeqCst);
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        Ok::<_, String>(7)
                    })
                    .await
            }));
        }
        for j in joins {
            assert_eq!(j.await.expect("joined"), Ok(7));
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(flights.in_progress(), 0);
        // A later request runs again.
        let again = flights
            .share("k".into(), || async {
                runs.fetch_add(1, Ordering::SeqCst);
                Ok::<_, String>(8)
            })
            .await;
        assert_eq!(again, Ok(8));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn different_keys_do_not_share() {
        let flights = Flights::<String>::default();
        let (a, b) = tokio::join!(
            flights.share("a".into(), || async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Ok::<_, ()>("a".to_string())
            }),
            flights.share("b".into(), || async { Ok::<_, ()>("b".to_string()) }),
        );
        assert_eq!((a, b), (Ok("a".into()), Ok("b".into())));
    }

    #[tokio::test]
    async fn a_failed_run_fails_only_its_runner_and_waiters_try_themselves() {
        let flights = Arc::new(Flights::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let work = |runs: Arc<AtomicUsize>| {
            move || {
                let runs = runs.clone();
                async move {
                    let n = runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(30)).await;
                    if n == 0 {
                        Err("first run fails")
                    } else {
                        Ok(1)
                    }
                }
            }
        };
        let first = {
            let (flights, w) = (flights.clone(), work(runs.clone()));
            tokio::spawn(async move { flights.share("k".into(), w).await })
        };
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = {
            let (flights, w) = (flights.clone(), work(runs.clone()));
            tokio::spawn(async move { flights.share("k".into(), w).await })
        };
        assert_eq!(first.await.expect("joined"), Err("first run fails"));
        assert_eq!(second.await.expect("joined"), Ok(1));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
        assert_eq!(flights.in_progress(), 0);
    }

    #[tokio::test]
    async fn a_cancelled_runner_hands_the_run_to_a_waiter() {
        let flights = Arc::new(Flights::<u32>::default());
        let slow = {
            let flights = flights.clone();
            tokio::spawn(async move {
                flights
                    .share("k".into(), || async {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        Ok::<_, ()>(1)
                    })
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let waiter = {
            let flights = flights.clone();
            tokio::spawn(
                async move { flights.share("k".into(), || async { Ok::<_, ()>(2) }).await },
            )
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        slow.abort();
        let got = tokio::time::timeout(Duration::from_secs(5), waiter)
            .await
            .expect("the waiter is not left waiting")
            .expect("joined");
        assert_eq!(got, Ok(2));
        assert_eq!(flights.in_progress(), 0);
    }

    #[tokio::test]
    async fn a_check_serves_only_requests_that_arrived_before_it_began() {
        // The value moves from 1 to 2 while the first read (which saw 1) is still running; a
        // request that arrives after that must get 2, never the first read's 1.
        let checks = Arc::new(FreshChecks::<u32>::default());
        let value = Arc::new(AtomicUsize::new(1));
        let reads = Arc::new(AtomicUsize::new(0));
        let read = |value: Arc<AtomicUsize>, reads: Arc<AtomicUsize>| {
            move || async move {
                reads.fetch_add(1, Ordering::SeqCst);
                let seen = value.load(Ordering::SeqCst) as u32;
                tokio::time::sleep(Duration::from_millis(100)).await;
                Ok::<_, ()>(seen)
            }
        };
        let early = {
            let (c, r) = (checks.clone(), read(value.clone(), reads.clone()));
            tokio::spawn(async move { c.read(r).await })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        value.store(2, Ordering::SeqCst);
        let late: Vec<_> = (0..6)
            .map(|_| {
                let (c, r) = (checks.clone(), read(value.clone(), reads.clone()));
                tokio::spawn(async move { c.read(r).await })
            })
            .collect();
        assert_eq!(early.await.expect("joined"), Ok(1));
        for l in late {
            assert_eq!(
                l.await.expect("joined"),
                Ok(2),
                "a read older than the request"
            );
        }
        // Six late requests, one read for all of them.
        assert_eq!(reads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_failed_check_fails_its_request_and_the_next_reads_again() {
        let checks = FreshChecks::<u32>::default();
        assert_eq!(
            checks.read(|| async { Err::<u32, _>("down") }).await,
            Err("down")
        );
        assert_eq!(checks.read(|| async { Ok::<_, &str>(3) }).await, Ok(3));
        // One request after another: each reads for itself.
        assert_eq!(checks.read(|| async { Ok::<_, &str>(4) }).await, Ok(4));
    }

    #[tokio::test]
    async fn after_a_failed_check_the_waiting_requests_read_at_once() {
        // The read fails (the database is down). The five requests that were waiting for it
        // then read on their own side by side, not one after another (each would wait for the
        // previous one's timeout).
        let checks = Arc::new(FreshChecks::<u32>::default());
        let in_flight = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let failing = |in_flight: Arc<AtomicUsize>, most: Arc<AtomicUsize>| {
            move || async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(100)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Err::<u32, _>("down")
            }
        };
        let spawn = || {
            let (c, r) = (checks.clone(), failing(in_flight.clone(), most.clone()));
            tokio::spawn(async move { c.read(r).await })
        };
        let mut all = vec![spawn()];
        tokio::time::sleep(Duration::from_millis(20)).await;
        all.extend((0..5).map(|_| spawn()));
        for r in all {
            assert_eq!(r.await.expect("joined"), Err("down"));
        }
        assert!(
            most.load(Ordering::SeqCst) >= 2,
            "the waiters read one at a time"
        );
        // The next request after the failure reads normally.
        assert_eq!(checks.read(|| async { Ok::<_, &str>(9) }).await, Ok(9));
    }

    #[tokio::test]
    async fn a_cancelled_waiter_leaves_the_run_to_the_others() {
        let flights = Arc::new(Flights::<u32>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let run = |runs: Arc<AtomicUsize>| {
            move || {
                let runs = runs.clone();
                async move {
                    runs.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    Ok::<_, ()>(5)
                }
            }
        };
        let spawn = || {
            let (f, r) = (flights.clone(), run(runs.clone()));
            tokio::spawn(async move { f.share("k".into(), r).await })
        };
        let first = spawn();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let quitter = spawn();
        tokio::time::sleep(Duration::from_millis(10)).await;
        quitter.abort();
        tokio::time::sleep(Duration::from_millis(10)).await;
        let late = spawn();
        assert_eq!(first.await.expect("joined"), Ok(5));
        assert_eq!(late.await.expect("joined"), Ok(5));
        assert_eq!(
            runs.load(Ordering::SeqCst),
            1,
            "the late request joined the run"
        );
        assert_eq!(flights.in_progress(), 0);
    }

    #[tokio::test]
    async fn keyed_locks_serialise_one_key_and_leave_nothing_behind() {
        let locks = Arc::new(KeyedLocks::<u32>::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut all = Vec::new();
        for i in 0..8u32 {
            let (locks, inside, most) = (locks.clone(), inside.clone(), most.clone());
            all.push(tokio::spawn(async move {
                let _g = locks.lock(i % 2).await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for j in all {
            j.await.expect("joined");
        }
        // Two keys: at most two holders at once, one per key.
        assert_eq!(most.load(Ordering::SeqCst), 2);
        assert_eq!(locks.in_use(), 0);
    }
}
