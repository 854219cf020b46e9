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
        task_id: TaskId,
        time: DateTime<Utc>,
        source: &str,
        payload: Value,
    ) -> Self {
        Self {
            id: Uuid::now_v7(),
            event_type,
            task_id,
            time,
            source: source.to_string(),
            payload,
            traceparent: None,
        }
    }

    /// `task.created`: the spec's `title`, `priority`, plus the whole task for consumers.
    pub fn created(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        let payload = json!({ "title": task.title.as_str(), "priority": task.priority.as_str(), "task": task_json(task) });
        Self::new(EventType::Created, task.id, now, source, payload)
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
        Self::new(EventType::Updated, task.id, now, source, payload)
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
        Self::new(EventType::Completed, task.id, now, source, payload)
    }

    /// `task.deleted`: the spec's empty payload, plus the title for the audit feed.
    pub fn deleted(task: &Task, source: &str, now: DateTime<Utc>) -> Self {
        Self::new(
            EventType::Deleted,
            task.id,
            now,
            source,
            json!({ "title": task.title.as_str() }),
        )
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

/// The task as the API returns it (also embedded in event payloads).
pub fn task_json(task: &Task) -> Value {
    json!({
        "id": task.id.to_string(),
        "title": task.title.as_str(),
        "description": task.description.as_ref().map(|d| d.as_str()),
        "status": task.status().as_str(),
        "priority": task.priority.as_str(),
        "tags": task.tags.as_strings(),
        "due_date": task.due_date.map(|t| format_utc(&t)),
        "reminder_at": task.reminder_at.map(|t| format_utc(&t)),
        "is_recurring": task.is_recurring(),
        "recurrence_rule": task.recurrence_rule().map(|r| r.as_str()),
        "recurrence_anchor": task.recurrence_anchor.as_str(),
        "timezone": task.timezone.as_str(),
        "series_id": task.series_id().map(|s| s.to_string()),
        "completed_at": task.completed_at().map(|t| format_utc(&t)),
        "created_at": format_utc(&task.created_at),
        "updated_at": format_utc(&task.updated_at),
        "version": task.version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
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
}
