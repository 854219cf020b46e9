//! The event side: the outbox relay, the three consumers (audit, recurrence, notification),
//! the reminder scheduler and notification delivery. All of it depends on ports only, so the
//! same code runs in-process (all-in-one) and behind Dapr (on_task_event).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Notify;
use uuid::Uuid;

use crate::domain::event::{IncomingEvent, task_from_json};
use crate::domain::{DomainEvent, EventType, TaskId};
use crate::ports::{EventStore, Notification, PublishError, Publisher, StoreError};

/// Outbox rows claimed per round.
const RELAY_BATCH: u32 = 100;
/// The most rounds in one pass. A pass that used them all, the last one publishing something,
/// may have left events behind: the background loop starts the next pass at once.
const PASS_ROUNDS: usize = 50;
/// The most events one pass publishes: a backlog longer than this goes out over several passes.
pub const RELAY_PASS_MOST: usize = PASS_ROUNDS * RELAY_BATCH as usize;
/// How long a claimed row is reserved for the relay that claimed it.
const RELAY_LEASE_SECS: i64 = 30;
/// The relay's claims (all but those of the drain's last pass) are at least this far apart.
/// Under a steady stream of writes the loop would otherwise claim again as soon as a batch is
/// marked, a few events at a time: at 1,500 creates/s about 380 rounds of claim, consumer writes
/// and mark per second, more statements than the creates themselves. Spaced, the same events go
/// in rounds of ~15 (ADR 0005 §7). A round takes only the oldest unsent event of each task, so
/// a task's k events written at once leave over at least k − 1 spacings (one task's events go
/// out at up to 100 per second).
pub const RELAY_SPACING: Duration = Duration::from_millis(10);

/// The text of a reminder's notification: the title, and when the task is due as a person
/// reads it, to the minute in the task's own time zone (`2026-11-28 09:00 Europe/Paris`). An
/// event without a zone, or with one this build does not know, shows UTC.
fn reminder_message(title: &str, due_at: Option<DateTime<Utc>>, zone: Option<&Value>) -> String {
    let Some(due) = due_at else {
        return format!("Reminder: \"{title}\"");
    };
    let zone = zone
        .and_then(Value::as_str)
        .and_then(|z| crate::domain::TimeZoneName::parse(z).ok())
        .unwrap_or_else(crate::domain::TimeZoneName::utc);
    let local = due.with_timezone(&zone.tz());
    format!(
        "Reminder: \"{title}\" is due {} {}",
        local.format("%Y-%m-%d %H:%M"),
        zone.as_str()
    )
}

/// What a consumer run concluded, mapped to Dapr's `SUCCESS` / `RETRY` / `DROP`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Processed (or already processed before).
    Done,
    /// A transient failure: deliver again later.
    Retry(String),
    /// Can never be processed: dead-letter it.
    Drop(String),
}

/// Delivers a notification outside the app (a Dapr output binding: webhook, SMTP, ...).
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends one notification; `Err` is retried later.
    async fn deliver(&self, n: &Notification) -> Result<(), String>;
}

/// The three consumers behind one entry point.
#[derive(Clone)]
pub struct Consumers {
    store: Arc<dyn EventStore>,
    source: Arc<str>,
    outbox_signal: Arc<Notify>,
    deliver_notifications: bool,
}

impl Consumers {
    /// `deliver_notifications`: whether a [`Notifier`] is configured (notifications are then
    /// queued for delivery as well as shown in the app).
    pub fn new(
        store: Arc<dyn EventStore>,
        source: &str,
        outbox_signal: Arc<Notify>,
        deliver_notifications: bool,
    ) -> Self {
        Self {
            store,
            source: Arc::from(source),
            outbox_signal,
            deliver_notifications,
        }
    }

    /// Runs every consumer that cares about `ev`. Each is idempotent on its own, so a retry
    /// after a partial failure repeats nothing.
    pub async fn handle(&self, ev: &IncomingEvent) -> Outcome {
        match self.try_handle(ev).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!(event_id = %ev.id, error = %e, "consumer failed; will retry");
                Outcome::Retry(e.to_string())
            }
        }
    }

    /// Runs the consumers over a batch: one audit transaction for all of them, then the
    /// per-event consumers. One outcome per event, in order.
    pub async fn handle_batch(&self, evs: &[IncomingEvent]) -> Vec<Outcome> {
        let now = crate::domain::time::now();
        if let Err(e) = self.store.record_audit_many(evs, now).await {
            tracing::warn!(error = %e, "audit batch failed; will retry");
            return evs.iter().map(|_| Outcome::Retry(e.to_string())).collect();
        }
        let mut out = Vec::with_capacity(evs.len());
        for ev in evs {
            out.push(match self.after_audit(ev, now).await {
                Ok(o) => o,
                Err(e) => {
                    tracing::warn!(event_id = %ev.id, error = %e, "consumer failed; will retry");
                    Outcome::Retry(e.to_string())
                }
            });
        }
        out
    }

    async fn try_handle(&self, ev: &IncomingEvent) -> Result<Outcome, StoreError> {
        let now = crate::domain::time::now();
        // Audit: every event, append-only, keyed by event id.
        self.store.record_audit(ev, now).await?;
        self.after_audit(ev, now).await
    }

    async fn after_audit(
        &self,
        ev: &IncomingEvent,
        now: DateTime<Utc>,
    ) -> Result<Outcome, StoreError> {
        match ev.event_type {
            EventType::Completed => self.recur(ev, now).await,
            EventType::ReminderDue => self.notify(ev, now).await,
            _ => Ok(Outcome::Done),
        }
    }

    /// Recurrence: a completed recurring task gets its next occurrence, exactly once per
    /// completed occurrence (keyed by that task's id, so redelivery, replay and re-completion
    /// create nothing more).
    async fn recur(&self, ev: &IncomingEvent, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        if ev.payload.get("status").and_then(Value::as_str) != Some("completed")
            || ev.payload.get("is_recurring").and_then(Value::as_bool) != Some(true)
        {
            return Ok(Outcome::Done);
        }
        let Some(snapshot) = ev.payload.get("task") else {
            return Ok(Outcome::Drop(
                "task.completed without a task snapshot".into(),
            ));
        };
        let done = match task_from_json(snapshot, &ev.owner) {
            Ok(t) => t,
            Err(e) => return Ok(Outcome::Drop(format!("unreadable task snapshot: {e}"))),
        };
        // Working out the next date is CPU alone (milliseconds for any rule, but rule text is
        // user input): off the async workers, so a costly one cannot stall other requests.
        let done = std::sync::Arc::new(done);
        let next = {
            let done = done.clone();
            tokio::task::spawn_blocking(move || done.next_occurrence(TaskId::new(), now)).await
        };
        let next = match next {
            Ok(next) => next,
            // The runtime is shutting down: the event is delivered again later.
            Err(e) if e.is_cancelled() => return Ok(Outcome::Retry(e.to_string())),
            Err(e) => {
                tracing::error!(task_id = %done.id, error = %e, "working out the next occurrence failed");
                return Ok(Outcome::Drop(format!(
                    "next occurrence not computable: {e}"
                )));
            }
        };
        let Some(next) = next else {
            tracing::info!(task_id = %done.id, "recurring series ended");
            return Ok(Outcome::Done);
        };
        let created = DomainEvent::created(&next, &self.source, now);
        let triggered = DomainEvent::recurring_triggered(&done, &next, &self.source, now);
        if self
            .store
            .spawn_next(done.id, &next, ev.id, &[triggered, created])
            .await?
        {
            tracing::info!(task_id = %done.id, next_task_id = %next.id, due = ?next.due_date, "next occurrence created");
            self.outbox_signal.notify_one();
        }
        Ok(Outcome::Done)
    }

    /// Notification: a due reminder becomes a notification the UI lists (and, when a binding is
    /// configured, one queued for delivery), keyed by the event id.
    async fn notify(&self, ev: &IncomingEvent, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        let title = ev
            .payload
            .get("title")
            .and_then(Value::as_str)
            .unwrap_or("Task")
            .to_string();
        let due_at = ev
            .payload
            .get("due_date")
            .and_then(Value::as_str)
            .and_then(|d| crate::domain::time::parse_rfc3339(d).ok());
        let message = reminder_message(&title, due_at, ev.payload.get("timezone"));
        let n = Notification {
            id: Uuid::now_v7(),
            event_id: ev.id,
            owner: ev.owner.clone(),
            task_id: ev.task_id,
            title,
            message,
            due_at,
            created_at: now,
            read_at: None,
            delivered_at: None,
        };
        self.store
            .record_notification(&n, self.deliver_notifications)
            .await?;
        Ok(Outcome::Done)
    }
}

/// Publishes outbox rows until each is accepted, in order per task, with backoff.
#[derive(Clone)]
pub struct Relay {
    store: Arc<dyn EventStore>,
    publisher: Arc<dyn Publisher>,
    signal: Arc<Notify>,
    /// Held for each pass of the background loop, so a shutdown can wait for the one running.
    passing: Arc<tokio::sync::Mutex<()>>,
    /// Set by [`Relay::drain`]: the background loop starts no further pass.
    stopping: Arc<std::sync::atomic::AtomicBool>,
    /// When a spaced pass last claimed (see [`RELAY_SPACING`]).
    last_claim: Arc<std::sync::Mutex<Option<tokio::time::Instant>>>,
}

/// What one relay pass did.
#[derive(Debug, Default)]
struct Pass {
    /// Events accepted.
    published: usize,
    /// It used all its rounds, the last one publishing something: more may be waiting.
    more: bool,
}

impl Relay {
    /// A relay woken by `signal` after each committed write.
    pub fn new(
        store: Arc<dyn EventStore>,
        publisher: Arc<dyn Publisher>,
        signal: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            publisher,
            signal,
            passing: Arc::default(),
            stopping: Arc::default(),
            last_claim: Arc::default(),
        }
    }

    /// At shutdown: waits for the background loop's running pass (whose claimed rows would
    /// otherwise stay leased for [`RELAY_LEASE_SECS`] after a restart, holding back every later
    /// event of their tasks), then publishes what the last requests wrote, all within `within`.
    /// The loop starts no pass after this.
    pub async fn drain(&self, within: Duration) {
        self.stopping
            .store(true, std::sync::atomic::Ordering::SeqCst);
        let last = async {
            let _pass = self.passing.lock().await;
            self.publish_pending(false).await.map(|p| p.published)
        };
        match tokio::time::timeout(within, last).await {
            Ok(Ok(n)) => tracing::info!(published = n, "outbox relay drained"),
            Ok(Err(e)) => tracing::warn!(error = %e, "last outbox relay pass failed"),
            Err(_) => tracing::warn!(?within, "outbox relay still busy at shutdown"),
        }
    }

    /// Deletes outbox rows published more than an hour ago (the audit log keeps the history).
    pub async fn prune(&self) {
        let before = crate::domain::time::now() - chrono::Duration::hours(1);
        match self.store.prune_outbox(before).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(pruned = n, "outbox pruned"),
            Err(e) => tracing::warn!(error = %e, "outbox prune failed"),
        }
    }

    /// The signal that wakes the relay.
    pub fn signal(&self) -> &Notify {
        &self.signal
    }

    /// Publishes what is publishable now, in spaced rounds, up to [`RELAY_PASS_MOST`] events;
    /// returns how many were accepted. Waits for a pass of the background loop that is running
    /// (a cron-driven pass and the loop's own do not overlap, and a stopping process can wait
    /// for either).
    pub async fn pass(&self) -> Result<usize, StoreError> {
        let _pass = self.passing.lock().await;
        Ok(self.publish_pending(true).await?.published)
    }

    /// The pass itself. With `background` (every pass but the drain's last) its claims keep
    /// [`RELAY_SPACING`] from the last one, and it ends at the next batch boundary once the
    /// process is stopping (so no claimed batch is left behind unsent at exit).
    async fn publish_pending(&self, background: bool) -> Result<Pass, StoreError> {
        let mut pass = Pass::default();
        for round in 1..=PASS_ROUNDS {
            if background {
                let last = *self.last_claim.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(last) = last {
                    tokio::time::sleep_until(last + RELAY_SPACING).await;
                }
                if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                *self.last_claim.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(tokio::time::Instant::now());
            }
            let now = crate::domain::time::now();
            let rows = self
                .store
                .claim_outbox(now, RELAY_BATCH, RELAY_LEASE_SECS)
                .await?;
            if rows.is_empty() {
                break;
            }
            let batch: Vec<(Value, String)> = rows
                .iter()
                .map(|r| (r.cloudevent.clone(), r.task_id.to_string()))
                .collect();
            let results = self.publisher.publish_batch(&batch).await;
            let mut done = Vec::with_capacity(rows.len());
            for (row, result) in rows.iter().zip(results) {
                match result {
                    Ok(()) => done.push(row.id),
                    Err(e) => {
                        let retry_at = crate::domain::time::now() + backoff(row.attempts);
                        tracing::warn!(event_id = %row.id, attempts = row.attempts + 1, error = %e, "publish failed; will retry");
                        self.store
                            .outbox_failed(row.id, &e.to_string(), retry_at)
                            .await?;
                    }
                }
            }
            let progressed = !done.is_empty();
            self.store
                .outbox_published_many(&done, crate::domain::time::now())
                .await?;
            pass.published += done.len();
            if !progressed {
                break;
            }
            pass.more = round == PASS_ROUNDS;
        }
        Ok(pass)
    }

    /// Runs the relay until the process ends: after every write signal, every `tick`, and at
    /// once after a pass that used all its rounds.
    pub fn spawn(self, tick: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut last_prune = std::time::Instant::now();
            let mut pruning: Option<tokio::task::JoinHandle<()>> = None;
            let mut last_tidy = std::time::Instant::now();
            let mut published_since_tidy = 0;
            // The last pass used all its rounds and may have left events: the next starts at once.
            let mut backlog = false;
            let mut failing = Failing::default();
            loop {
                if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                    return;
                }
                // Pruning runs beside the loop, not in it: events keep going out meanwhile.
                if last_prune.elapsed() > Duration::from_secs(60)
                    && pruning
                        .as_ref()
                        .is_none_or(tokio::task::JoinHandle::is_finished)
                {
                    last_prune = std::time::Instant::now();
                    let me = self.clone();
                    pruning = Some(tokio::spawn(async move { me.prune().await }));
                }
                // Every half second of writes, merge the search indexes' pending lists here
                // rather than in the create that would fill them (a stall of ~30 ms for
                // every create in flight).
                if published_since_tidy > 0 && last_tidy.elapsed() > Duration::from_millis(500) {
                    last_tidy = std::time::Instant::now();
                    published_since_tidy = 0;
                    if let Err(e) = self.store.tidy_indexes().await {
                        tracing::debug!(error = %e, "index upkeep skipped");
                    }
                }
                if !backlog {
                    tokio::select! {
                        // Gather the commits of the next few milliseconds into one batch: under a
                        // steady stream this turns one set of transactions per event into one per batch.
                        () = self.signal.notified() => tokio::time::sleep(Duration::from_millis(3)).await,
                        () = tokio::time::sleep(tick) => {},
                    }
                }
                let pass = {
                    let _pass = self.passing.lock().await;
                    if self.stopping.load(std::sync::atomic::Ordering::SeqCst) {
                        return;
                    }
                    self.publish_pending(true).await
                };
                backlog = matches!(pass, Ok(Pass { more: true, .. }));
                match pass {
                    Ok(p) => {
                        published_since_tidy += p.published;
                        failing.record(None, "outbox relay pass", std::time::Instant::now());
                    }
                    Err(e) => {
                        failing.record(Some(e), "outbox relay pass", std::time::Instant::now());
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            }
        })
    }
}

/// A background job that runs again and again (the relay's loop, the reminder scan) and may
/// fail for as long as its cause lasts (a read-only database, a stopped server): its first
/// failure is logged at once, the next ones once a minute with their count, and the recovery
/// once.
#[derive(Default)]
pub(crate) struct Failing {
    /// Failures since the last line logged.
    unlogged: u32,
    /// When the last failure line was logged; `None` while the job succeeds.
    logged_at: Option<std::time::Instant>,
}

/// How often a job that keeps failing is logged again.
const FAILING_LOG_EVERY: Duration = Duration::from_secs(60);

impl Failing {
    /// Records one run's outcome and logs as above.
    pub(crate) fn record(&mut self, error: Option<StoreError>, job: &str, now: std::time::Instant) {
        match (error, self.logged_at) {
            (None, None) => {}
            (None, Some(_)) => {
                tracing::info!(job, "recovered");
                *self = Self::default();
            }
            (Some(e), last) => {
                self.unlogged += 1;
                if last.is_none_or(|t| now.duration_since(t) >= FAILING_LOG_EVERY) {
                    tracing::warn!(job, error = ?e, failures = self.unlogged, "failed (logged again once a minute while it keeps failing)");
                    self.unlogged = 0;
                    self.logged_at = Some(now);
                }
            }
        }
    }
}

/// Exponential backoff from 0.5 s, capped at one minute.
pub fn backoff(attempts: i32) -> chrono::Duration {
    let exp = attempts.clamp(0, 7) as u32;
    chrono::Duration::milliseconds((500_i64 << exp).min(60_000))
}

/// Fires due reminders (atomically: once across any number of schedulers) and wakes the relay.
pub async fn fire_reminders(
    store: &Arc<dyn EventStore>,
    source: &str,
    signal: &Notify,
) -> Result<usize, StoreError> {
    let mut fired = 0;
    for _ in 0..20 {
        let batch = store
            .fire_due_reminders(crate::domain::time::now(), 200, source)
            .await?;
        fired += batch.len();
        if batch.len() < 200 {
            break;
        }
    }
    if fired > 0 {
        tracing::info!(fired, "reminders due");
        signal.notify_one();
    }
    Ok(fired)
}

/// Delivers queued notifications through the notifier, retrying failures with backoff.
pub async fn deliver_notifications(
    store: &Arc<dyn EventStore>,
    notifier: &dyn Notifier,
) -> Result<usize, StoreError> {
    let now = crate::domain::time::now();
    let batch = store.claim_deliveries(now, 50, 60).await?;
    let mut delivered = 0;
    for n in batch {
        let result = notifier.deliver(&n).await;
        let retry_at = crate::domain::time::now() + backoff(3);
        match result {
            Ok(()) => {
                store
                    .delivery_result(n.id, crate::domain::time::now(), None, retry_at)
                    .await?;
                delivered += 1;
            }
            Err(e) => {
                tracing::warn!(notification = %n.id, error = %e, "notification delivery failed; will retry");
                store
                    .delivery_result(n.id, crate::domain::time::now(), Some(&e), retry_at)
                    .await?;
            }
        }
    }
    Ok(delivered)
}

/// The all-in-one publisher: hands each event straight to the consumers in this process.
pub struct InProcessPublisher {
    consumers: Consumers,
}

impl InProcessPublisher {
    /// Wraps the consumers.
    pub fn new(consumers: Consumers) -> Self {
        Self { consumers }
    }
}

#[async_trait]
impl Publisher for InProcessPublisher {
    async fn publish(&self, cloudevent: &Value, _partition_key: &str) -> Result<(), PublishError> {
        let ev = match IncomingEvent::from_cloudevent(cloudevent) {
            Ok(ev) => ev,
            Err(e) => {
                // Our own outbox wrote it, so this is a bug: keep it out of the way, loudly.
                tracing::error!(error = %e, "unreadable event in the outbox; skipped");
                return Ok(());
            }
        };
        match self.consumers.handle(&ev).await {
            Outcome::Done => Ok(()),
            Outcome::Drop(reason) => {
                tracing::error!(event_id = %ev.id, %reason, "event dropped by its consumers");
                Ok(())
            }
            Outcome::Retry(reason) => Err(PublishError::Refused(reason)),
        }
    }

    async fn publish_batch(&self, events: &[(Value, String)]) -> Vec<Result<(), PublishError>> {
        // Parse what we can; unreadable rows (a bug: our own outbox wrote them) are skipped.
        let mut readable = Vec::with_capacity(events.len());
        let mut slots = Vec::with_capacity(events.len());
        for (ce, _) in events {
            match IncomingEvent::from_cloudevent(ce) {
                Ok(ev) => {
                    slots.push(Some(readable.len()));
                    readable.push(ev);
                }
                Err(e) => {
                    tracing::error!(error = %e, "unreadable event in the outbox; skipped");
                    slots.push(None);
                }
            }
        }
        let outcomes = self.consumers.handle_batch(&readable).await;
        slots
            .into_iter()
            .map(|slot| match slot.and_then(|i| outcomes.get(i)) {
                Some(Outcome::Retry(reason)) => Err(PublishError::Refused(reason.clone())),
                _ => Ok(()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused() -> Option<StoreError> {
        Some(StoreError::Remote("refused".into()))
    }

    #[test]
    fn a_reminder_says_when_the_task_is_due_in_the_tasks_own_time_zone() {
        let due = crate::domain::time::parse_rfc3339("2026-11-28T08:00:00.042425Z").ok();
        let paris = serde_json::json!("Europe/Paris");
        assert_eq!(
            reminder_message("Dentist", due, Some(&paris)),
            "Reminder: \"Dentist\" is due 2026-11-28 09:00 Europe/Paris"
        );
        // Summer time moves the local hour, not the instant.
        let july = crate::domain::time::parse_rfc3339("2026-07-01T08:00:00Z").ok();
        assert_eq!(
            reminder_message("Dentist", july, Some(&paris)),
            "Reminder: \"Dentist\" is due 2026-07-01 10:00 Europe/Paris"
        );
        // Events written before the zone was in the payload, or naming a zone this build does
        // not know, show UTC; a task with no due date shows no time.
        for zone in [
            None,
            Some(serde_json::json!("Mars/Olympus")),
            Some(serde_json::json!(7)),
        ] {
            assert_eq!(
                reminder_message("Dentist", due, zone.as_ref()),
                "Reminder: \"Dentist\" is due 2026-11-28 08:00 UTC"
            );
        }
        assert_eq!(
            reminder_message("Dentist", None, Some(&paris)),
            "Reminder: \"Dentist\""
        );
    }

    #[test]
    fn a_job_that_keeps_failing_is_logged_once_a_minute_not_every_run() {
        let t0 = std::time::Instant::now();
        let at = |s: u64| t0 + Duration::from_secs(s);
        let mut f = Failing::default();
        f.record(None, "job", at(0));
        assert_eq!(f.logged_at, None, "success logs nothing");
        f.record(refused(), "job", at(1));
        assert_eq!(
            (f.logged_at, f.unlogged),
            (Some(at(1)), 0),
            "the first failure is logged"
        );
        for s in 2..61 {
            f.record(refused(), "job", at(s));
        }
        assert_eq!(
            (f.logged_at, f.unlogged),
            (Some(at(1)), 59),
            "the next minute's are counted"
        );
        f.record(refused(), "job", at(61));
        assert_eq!(
            (f.logged_at, f.unlogged),
            (Some(at(61)), 0),
            "then logged with their count"
        );
        f.record(None, "job", at(62));
        assert_eq!((f.logged_at, f.unlogged), (None, 0), "the recovery ends it");
        f.record(refused(), "job", at(63));
        assert_eq!(f.logged_at, Some(at(63)), "a new failure is logged at once");
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(0), chrono::Duration::milliseconds(500));
        assert_eq!(backoff(1), chrono::Duration::milliseconds(1000));
        assert_eq!(backoff(100), chrono::Duration::milliseconds(60_000));
    }
}
