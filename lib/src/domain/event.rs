//! Domain events and their CloudEvents 1.0 (structured JSON) form.
//!
//! The event is built in the same use-case that changes the task and stored in the outbox in
//! the same transaction, so its `id` is fixed before it is ever published: redelivery and
//! replays carry the same id, which is what consumers deduplicate on.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::task::{Task, TaskId};
use super::time::format_utc;

/// The topic every task event goes to.
pub const TOPIC: &str = "task-events";

/// The kinds of event the system publishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// A task was created.
    Created,
    /// Fields of a task changed (the payload lists them).
    Updated,
    /// A task was toggled to or from completed.
    Completed,
    /// A task was deleted.
    Deleted,
    /// A task's reminder time was reached.
    ReminderDue,
    /// The next occurrence of a recurring task was created.
    RecurringTriggered,
}

impl EventType {
    /// All event types.
    pub const ALL: [EventType; 6] = [
        EventType::Created,
        EventType::Updated,
        EventType::Completed,
        EventType::Deleted,
        EventType::ReminderDue,
        EventType::RecurringTriggered,
    ];

    /// The CloudEvents `type` and the payload's `event_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Created => "task.created",
            EventType::Updated => "task.updated",
            EventType::Completed => "task.completed",
            EventType::Deleted => "task.deleted",
            EventType::ReminderDue => "task.reminder.due",
            EventType::RecurringTriggered => "task.recurring.triggered",
        }
    }

    /// Parses a CloudEvents `type`.
    pub fn parse(s: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// One domain event, ready to be stored in the outbox and published.
#[derive(Debug, Clone, PartialEq)]
pub struct DomainEvent {
    /// Unique, stable across redelivery.
    pub id: Uuid,
    /// Kind.
    pub event_type: EventType,
    /// The task it is about (also the partition key).
    pub task_id: TaskId,
    /// The task's owner (consumers file their records under it).
    pub owner: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// The emitting function (CloudEvents `source`).
    pub source: String,
    /// The spec's TaskEvent payload for this type.
    pub payload: Value,
    /// W3C trace context of the request that caused it, when known.
    pub traceparent: Option<String>,
}

impl DomainEvent {
    /// Builds an event with a fresh id.
    pub fn new(
        event_type: EventType,
        task: &Task,
        time: DateTime<Utc>,
        source: &str,
        payload: Value,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type,
            task_id: task.id,
            owner: task.owner.as_str().to_string(),
            time,
            source: source.to_string(),
            payload,
            traceparent: None,
        }
    }

    /// `task.created`: the spec's `title`, `priority`, plus the whole task for consumers.
    pub fn created(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        let payload = json!({ "title": task.title.as_str(), "priority": task.priority.as_str(), "task": task_json(task) });
        Self::new(EventType::Created, task, now, source, payload)
    }

    /// `task.updated`: only the changed fields with their new values.
    pub fn updated(task: &Task, changed: &[&str], source: &str, now: DateTime<Utc>) -> Self {
        let full = task_json(task);
        let mut diff = serde_json::Map::new();
        for f in changed {
            diff.insert(
                (*f).to_string(),
                full.get(*f).cloned().unwrap_or(Value::Null),
            );
        }
        let payload = json!({ "changed": diff, "version": task.version });
        Self::new(EventType::Updated, task, now, source, payload)
    }

    /// `task.completed`: the spec's `status`, `is_recurring`, `recurrence_rule`, plus what the
    /// recurrence consumer needs to create the next occurrence without reading the task back.
    pub fn completed(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        let payload = json!({
            "status": task.status().as_str(),
            "is_recurring": task.is_recurring(),
            "recurrence_rule": task.recurrence_rule().map(|r| r.as_str().to_string()),
            "completed_at": task.completed_at().map(|t| format_utc(&t)),
            "version": task.version,
            "task": task_json(task),
        });
        Self::new(EventType::Completed, task, now, source, payload)
    }

    /// `task.deleted`: the spec's empty payload, plus the title for the audit feed.
    pub fn deleted(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        Self::new(
            EventType::Deleted,
            task,
            now,
            source,
            json!({ "title": task.title.as_str() }),
        )
    }

    /// `task.reminder.due`: the spec's `title`, plus the times the notification shows and the
    /// task's time zone, in which it shows them.
    pub fn reminder_due(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        let payload = json!({
            "title": task.title.as_str(),
            "due_date": task.due_date.map(|t| format_utc(&t)),
            "reminder_at": task.reminder_at.map(|t| format_utc(&t)),
            "timezone": task.timezone.as_str(),
        });
        Self::new(EventType::ReminderDue, task, now, source, payload)
    }

    /// `task.recurring.triggered`, on the completed occurrence: the spec's `original_task_id`,
    /// `recurrence_rule`, `next_due_date`, plus the new task's id.
    pub fn recurring_triggered(done: &Task, next: &Task, source: &str, now: DateTime<Utc>) -> Self {
        let payload = json!({
            "original_task_id": done.id.to_string(),
            "recurrence_rule": done.recurrence_rule().map(|r| r.as_str().to_string()),
            "next_due_date": next.due_date.map(|t| format_utc(&t)),
            "next_task_id": next.id.to_string(),
            "series_id": next.series_id().map(|s| s.to_string()),
            "occurrence": next.occurrence(),
        });
        Self::new(EventType::RecurringTriggered, done, now, source, payload)
    }

    /// The CloudEvents 1.0 structured-mode JSON document.
    pub fn to_cloudevent(&self) -> Value {
        let mut ce = json!({
            "specversion": "1.0",
            "id": self.id.to_string(),
            "source": self.source,
            "type": self.event_type.as_str(),
            "subject": self.task_id.to_string(),
            "time": format_utc(&self.time),
            "datacontenttype": "application/json",
            "partitionkey": self.task_id.to_string(),
            "data": {
                "event_type": self.event_type.as_str(),
                "task_id": self.task_id.to_string(),
                "owner_id": self.owner,
                "timestamp": format_utc(&self.time),
                "payload": self.payload,
            }
        });
        if let (Some(tp), Some(obj)) = (&self.traceparent, ce.as_object_mut()) {
            obj.insert("traceparent".into(), Value::String(tp.clone()));
        }
        ce
    }
}

/// Why a delivered event can never be processed (answered `DROP`, so it goes to the
/// dead-letter topic instead of blocking its partition).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EventRejection {
    /// Not a CloudEvent we can read.
    #[error("malformed event: {0}")]
    Malformed(String),
    /// A CloudEvent of a type nobody here handles.
    #[error("unknown event type '{0}'")]
    UnknownType(String),
}

/// An event as a consumer receives it (from Dapr, or in-process from the outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingEvent {
    /// CloudEvents `id`: what consumers deduplicate on.
    pub id: Uuid,
    /// Kind.
    pub event_type: EventType,
    /// The task.
    pub task_id: TaskId,
    /// Its owner.
    pub owner: String,
    /// CloudEvents `source`.
    pub source: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// The type's payload.
    pub payload: Value,
}

impl IncomingEvent {
    /// Reads a structured CloudEvent (the form our outbox writes and Dapr delivers).
    pub fn from_cloudevent(ce: &Value) -> Result<Self, EventRejection> {
        let bad = |m: &str| EventRejection::Malformed(m.to_string());
        let obj = ce.as_object().ok_or_else(|| bad("not a JSON object"))?;
        let id = obj
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing id"))?;
        let id = Uuid::parse_str(id).map_err(|_| bad("id is not a UUID"))?;
        let ty = obj
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("missing type"))?;
        let event_type = EventType::parse(ty)
            .ok_or_else(|| EventRejection::UnknownType(ty.chars().take(100).collect()))?;
        let data = match obj.get("data") {
            Some(Value::Object(d)) => d.clone(),
            // Some publishers put JSON text in `data`.
            Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
                Ok(Value::Object(d)) => d,
                _ => return Err(bad("data is not a JSON object")),
            },
            _ => return Err(bad("missing data")),
        };
        // No event of ours carries a NUL character, and PostgreSQL cannot store one (in `text`
        // or `jsonb`): such an event would fail every delivery and hold back its partition.
        if contains_nul(ce)
            || data
                .iter()
                .any(|(k, v)| k.contains('\0') || contains_nul(v))
        {
            return Err(bad("contains a NUL character"));
        }
        let task_id = data
            .get("task_id")
            .and_then(Value::as_str)
            .or_else(|| obj.get("subject").and_then(Value::as_str))
            .ok_or_else(|| bad("missing data.task_id"))?;
        let task_id = TaskId::parse(task_id).map_err(|_| bad("data.task_id is not a UUID"))?;
        let time = obj
            .get("time")
            .and_then(Value::as_str)
            .and_then(|t| super::time::parse_rfc3339(t).ok())
            .ok_or_else(|| bad("missing or invalid time"))?;
        Ok(IncomingEvent {
            id,
            event_type,
            task_id,
            owner: data
                .get("owner_id")
                .and_then(Value::as_str)
                .unwrap_or("local")
                .to_string(),
            source: obj
                .get("source")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .chars()
                .take(200)
                .collect(),
            time,
            payload: data
                .get("payload")
                .cloned()
                .unwrap_or(Value::Object(Default::default())),
        })
    }
}

/// Whether any string in `v`, key or value, has a NUL character.
fn contains_nul(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || contains_nul(v)),
        _ => false,
    }
}

/// Rebuilds a task from its [`task_json`] snapshot (as carried by `task.completed`), so the
/// recurrence consumer works from the state at completion, whatever happened since.
pub fn task_from_json(v: &Value, owner: &str) -> Result<Task, String> {
    use super::task::{Description, Priority, Status, Tags, TaskParts, TaskTitle, TimeZoneName};
    use super::{RecurrenceAnchor, RecurrenceRule};
    let s = |k: &str| v.get(k).and_then(Value::as_str);
    let req = |k: &str| s(k).ok_or_else(|| format!("task.{k} missing"));
    // A snapshot holds stored values: read them as stored (input rules may have grown stricter
    // since they were written, and a series must not end over that).
    let time = |k: &str| -> Result<Option<DateTime<Utc>>, String> {
        s(k).map(super::time::from_sortable_text).transpose()
    };
    let uuid = |k: &str| -> Result<Option<TaskId>, String> {
        s(k).map(|x| TaskId::parse(x).map_err(|e| e.to_string()))
            .transpose()
    };
    let tags: Vec<String> = v
        .get("tags")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    // The snapshot becomes a new task: whatever the older rules were, a title, a tag or a rule
    // outside the bounds every version of the service kept did not come from its own outbox
    // (the events route takes what it is sent, authenticated only by APP_API_TOKEN), and no
    // task is made from it.
    let title = req("title")?;
    let n = title.chars().count();
    if n == 0 || n > super::task::TITLE_MAX_CHARS || title.chars().any(char::is_control) {
        return Err(format!(
            "task.title is not a title this service writes ({n} characters)"
        ));
    }
    if tags.len() > super::task::TAGS_MAX {
        return Err(format!("task.tags has {} tags", tags.len()));
    }
    // Within the bound a tag written before normal form C keeps (see `Tag::parse_filter`), and
    // in that form, as every tag now is.
    for (i, t) in tags.iter().enumerate() {
        super::task::Tag::parse_filter(t, &format!("task.tags[{i}]")).map_err(|e| e.to_string())?;
    }
    Ok(Task::from_parts(TaskParts {
        id: uuid("id")?.ok_or("task.id missing")?,
        owner: super::OwnerId::from_stored(owner.to_string()),
        title: TaskTitle::from_stored(title.to_string()),
        description: match s("description") {
            Some(d) => Description::parse(d).map_err(|e| e.to_string())?,
            None => None,
        },
        status: req("status")?.parse::<Status>()?,
        priority: req("priority")?.parse::<Priority>()?,
        // As stored: tags accepted under older rules must not end a series.
        tags: Tags::from_stored(Tags::normalised(&tags)),
        due_date: time("due_date")?,
        reminder_at: time("reminder_at")?,
        recurrence_rule: s("recurrence_rule")
            .map(RecurrenceRule::from_snapshot)
            .transpose()?,
        recurrence_anchor: s("recurrence_anchor")
            .unwrap_or("schedule")
            .parse::<RecurrenceAnchor>()?,
        timezone: TimeZoneName::parse(s("timezone").unwrap_or("UTC")).map_err(|e| e.to_string())?,
        series_id: uuid("series_id")?,
        series_start: time("series_start")?,
        occurrence: v
            .get("occurrence")
            .and_then(Value::as_i64)
            .and_then(|o| i32::try_from(o).ok())
            .unwrap_or(1),
        completed_at: time("completed_at")?,
        created_at: time("created_at")?.ok_or("task.created_at missing")?,
        updated_at: time("updated_at")?.ok_or("task.updated_at missing")?,
        version: v.get("version").and_then(Value::as_i64).unwrap_or(1),
    }))
}

/// The task as the API returns it (also embedded in event payloads).
pub fn task_json(task: &Task) -> Value {
    serde_json::to_value(TaskJson(task)).unwrap_or_default()
}

/// A task in its API shape, serialised straight from the domain type (no intermediate
/// `serde_json::Value`): what the HTTP responses write, and what [`task_json`] builds.
#[derive(Debug, Clone, Copy)]
pub struct TaskJson<'a>(pub &'a Task);

/// An RFC 3339 UTC timestamp (`Z`, fractional seconds only when present).
struct Rfc3339<'a>(&'a DateTime<Utc>);

impl serde::Serialize for Rfc3339<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_utc(self.0))
    }
}

/// The tags as a JSON array of strings.
struct TagList<'a>(&'a Task);

impl serde::Serialize for TagList<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.tags.iter().map(|t| t.as_str()))
    }
}

impl serde::Serialize for TaskJson<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let t = self.0;
        let mut m = s.serialize_struct("Task", 19)?;
        m.serialize_field("id", &t.id.0)?;
        m.serialize_field("title", t.title.as_str())?;
        m.serialize_field("description", &t.description.as_ref().map(|d| d.as_str()))?;
        m.serialize_field("status", t.status().as_str())?;
        m.serialize_field("priority", t.priority.as_str())?;
        m.serialize_field("tags", &TagList(t))?;
        m.serialize_field("due_date", &t.due_date.as_ref().map(Rfc3339))?;
        m.serialize_field("reminder_at", &t.reminder_at.as_ref().map(Rfc3339))?;
        m.serialize_field("is_recurring", &t.is_recurring())?;
        m.serialize_field("recurrence_rule", &t.recurrence_rule().map(|r| r.as_str()))?;
        m.serialize_field("recurrence_anchor", t.recurrence_anchor.as_str())?;
        m.serialize_field("timezone", t.timezone.as_str())?;
        m.serialize_field("series_id", &t.series_id().map(|id| id.0))?;
        let series_start = t.series_start();
        m.serialize_field("series_start", &series_start.as_ref().map(Rfc3339))?;
        m.serialize_field("occurrence", &t.occurrence())?;
        let completed_at = t.completed_at();
        m.serialize_field("completed_at", &completed_at.as_ref().map(Rfc3339))?;
        m.serialize_field("created_at", &Rfc3339(&t.created_at))?;
        m.serialize_field("updated_at", &Rfc3339(&t.updated_at))?;
        m.serialize_field("version", &t.version)?;
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::RecurrenceRule;
    use crate::domain::task::{NewTask, OwnerId, TaskTitle};

    #[test]
    fn cloudevent_has_the_required_attributes_and_the_spec_payload() {
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("Write report").expect("valid")),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let ev = DomainEvent::created(&task, "create-task", now);
        let ce = ev.to_cloudevent();
        assert_eq!(ce["specversion"], "1.0");
        assert_eq!(ce["type"], "task.created");
        assert_eq!(ce["subject"], task.id.to_string());
        assert_eq!(ce["data"]["event_type"], "task.created");
        assert_eq!(ce["data"]["payload"]["title"], "Write report");
        assert_eq!(ce["data"]["payload"]["priority"], "medium");
        assert_eq!(
            EventType::parse("task.reminder.due"),
            Some(EventType::ReminderDue)
        );
    }

    #[test]
    fn a_cloudevent_reads_back_into_the_same_event() {
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("x").expect("valid")),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let ev = DomainEvent::deleted(&task, "delete-task", now);
        let back = IncomingEvent::from_cloudevent(&ev.to_cloudevent()).expect("readable");
        assert_eq!(
            (back.id, back.event_type, back.task_id),
            (ev.id, EventType::Deleted, task.id)
        );
        assert_eq!(back.owner, "local");
    }

    #[test]
    fn a_snapshot_keeps_tags_stored_under_older_rules() {
        // A tag accepted before the "must show something" rule must not make the snapshot of
        // a completed recurring task unreadable (its series would end).
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("x").expect("valid")),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let mut snapshot = task_json(&task);
        snapshot["tags"] = serde_json::json!(["\u{200E}", "ok"]);
        let back = task_from_json(&snapshot, "local").expect("readable");
        assert_eq!(back.tags.as_strings(), vec!["\u{200E}", "ok"]);
    }

    #[test]
    fn a_snapshot_outside_what_the_service_writes_makes_no_task() {
        // The events route takes what it is sent: a forged `task.completed` must not become a
        // task that no request could have made.
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("x").expect("valid")),
            recurrence_rule: Some(RecurrenceRule::parse("daily").expect("valid")),
            due_date: Some(now),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let good = task_json(&task);
        assert!(task_from_json(&good, "local").is_ok());
        let long_tags: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        for (field, value) in [
            ("title", serde_json::json!("x".repeat(201))),
            ("title", serde_json::json!("FORGED\nline")),
            ("title", serde_json::json!("")),
            ("tags", serde_json::json!(long_tags)),
            ("tags", serde_json::json!(["y".repeat(151)])),
            ("recurrence_rule", serde_json::json!("FREQ=SECONDLY")),
            (
                "recurrence_rule",
                serde_json::json!("FREQ=MINUTELY;INTERVAL=5"),
            ),
            ("recurrence_rule", serde_json::json!("INTERVAL=2")),
        ] {
            let mut forged = good.clone();
            forged[field] = value.clone();
            assert!(
                task_from_json(&forged, "local").is_err(),
                "{field} = {value} was taken"
            );
        }
        // Within the bounds every version kept, older spellings still read.
        for rule in ["weekly", "FREQ=HOURLY;BYHOUR=9,17", "freq=monthly"] {
            let mut old = good.clone();
            old["recurrence_rule"] = serde_json::json!(rule);
            assert!(task_from_json(&old, "local").is_ok(), "{rule}");
        }
    }

    #[test]
    fn an_event_with_a_nul_character_is_refused() {
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("x").expect("valid")),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let mut ce = DomainEvent::created(&task, "create-task", now).to_cloudevent();
        assert!(IncomingEvent::from_cloudevent(&ce).is_ok());
        ce["data"]["payload"]["tags"] = serde_json::json!(["ok", "n\u{0}l"]);
        assert!(IncomingEvent::from_cloudevent(&ce).is_err());
        // Also when `data` is JSON text (read only with the NUL left out).
        for (title, readable) in [("a", true), ("a\\u0000", false)] {
            let text = format!(
                r#"{{"task_id":"{}","payload":{{"title":"{title}"}}}}"#,
                task.id
            );
            ce["data"] = Value::String(text);
            assert_eq!(
                IncomingEvent::from_cloudevent(&ce).is_ok(),
                readable,
                "{title}"
            );
        }
    }

    #[test]
    fn unreadable_events_are_rejected_with_a_reason() {
        assert!(matches!(
            IncomingEvent::from_cloudevent(&json!([1])),
            Err(EventRejection::Malformed(_))
        ));
        let unknown = json!({"id": Uuid::now_v7().to_string(), "type": "task.exploded", "time": "2026-01-01T00:00:00Z", "data": {}});
        assert!(matches!(
            IncomingEvent::from_cloudevent(&unknown),
            Err(EventRejection::UnknownType(_))
        ));
        let no_task = json!({"id": Uuid::now_v7().to_string(), "type": "task.created", "time": "2026-01-01T00:00:00Z", "data": {}});
        assert!(matches!(
            IncomingEvent::from_cloudevent(&no_task),
            Err(EventRejection::Malformed(_))
        ));
        let bad_id = json!({"id": "abc", "type": "task.created", "time": "2026-01-01T00:00:00Z", "data": {"task_id": Uuid::now_v7().to_string()}});
        assert!(matches!(
            IncomingEvent::from_cloudevent(&bad_id),
            Err(EventRejection::Malformed(_))
        ));
    }
}
