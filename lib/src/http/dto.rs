//! Wire formats: request bodies parsed field by field into domain input (so every error names
//! its field), list-query parsing, and the documented response shapes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::extract::json_kind;
use crate::domain::task::NewTask;
use crate::domain::time::parse_rfc3339;
use crate::domain::{
    Description, Priority, RecurrenceAnchor, RecurrenceRule, Status, Tag, Tags, TaskChanges,
    TaskId, TaskTitle, TimeZoneName, ValidationErrors,
};
use crate::ports::{ListQuery, SortField, SortOrder};

/// Fields a client may write.
const WRITABLE: [&str; 11] = [
    "title",
    "description",
    "status",
    "priority",
    "tags",
    "due_date",
    "reminder_at",
    "is_recurring",
    "recurrence_rule",
    "recurrence_anchor",
    "timezone",
];
/// Fields the server owns; sending them is an error that says so.
const READ_ONLY: [&str; 8] = [
    "id",
    "series_id",
    "series_start",
    "occurrence",
    "completed_at",
    "created_at",
    "updated_at",
    "version",
];

/// Default and maximum page sizes.
pub const DEFAULT_LIMIT: u32 = 50;
/// Largest page a client may ask for.
pub const MAX_LIMIT: u32 = 200;
/// The largest page offset accepted (lists, history, activity, notifications).
pub const MAX_OFFSET: u64 = 1_000_000_000;
/// Longest search string accepted.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Reads one field of a body, collecting errors instead of stopping at the first.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    errors: ValidationErrors,
}

/// A field's presence: absent, explicit null, or a value.
enum Slot<'a> {
    Absent,
    Null,
    Value(&'a Value),
}

impl<'a> Fields<'a> {
    fn new(map: &'a Map<String, Value>) -> Self {
        let mut errors = ValidationErrors::default();
        for key in map.keys() {
            if READ_ONLY.contains(&key.as_str()) {
                errors.push(key.as_str(), "is read-only and cannot be set");
            } else if !WRITABLE.contains(&key.as_str()) {
                errors.push(key.as_str(), "is not a known field");
            }
        }
        Self { map, errors }
    }

    fn slot(&self, name: &str) -> Slot<'a> {
        match self.map.get(name) {
            None => Slot::Absent,
            Some(Value::Null) => Slot::Null,
            Some(v) => Slot::Value(v),
        }
    }

    /// A string field that may not be null.
    fn string(&mut self, name: &str) -> Option<&'a str> {
        match self.slot(name) {
            Slot::Absent => None,
            Slot::Null => {
                self.errors.push(name, "must not be null");
                None
            }
            Slot::Value(Value::String(s)) => Some(s.as_str()),
            Slot::Value(v) => {
                self.errors
                    .push(name, format!("must be a string, not {}", json_kind(v)));
                None
            }
        }
    }

    /// A string field where null means "clear": `Some(None)` for null.
    fn nullable_string(&mut self, name: &str) -> Option<Option<&'a str>> {
        match self.slot(name) {
            Slot::Absent => None,
            Slot::Null => Some(None),
            Slot::Value(Value::String(s)) => Some(Some(s.as_str())),
            Slot::Value(v) => {
                self.errors.push(
                    name,
                    format!("must be a string or null, not {}", json_kind(v)),
                );
                None
            }
        }
    }

    fn parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let raw = self.string(name)?;
        match parse(raw) {
            Ok(v) => Some(v),
            Err(m) => {
                self.errors.push(name, m);
                None
            }
        }
    }

    fn nullable_parsed<T>(
        &mut self,
        name: &str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<Option<T>> {
        match self.nullable_string(name)? {
            None => Some(None),
            Some(raw) => match parse(raw) {
                Ok(v) => Some(Some(v)),
                Err(m) => {
                    self.errors.push(name, m);
                    None
                }
            },
        }
    }

    fn boolean(&mut self, name: &str) -> Option<bool> {
        match self.slot(name) {
            Slot::Absent => None,
            Slot::Null => {
                self.errors.push(name, "must not be null");
                None
            }
            Slot::Value(Value::Bool(b)) => Some(*b),
            Slot::Value(v) => {
                self.errors
                    .push(name, format!("must be true or false, not {}", json_kind(v)));
                None
            }
        }
    }

    fn tags(&mut self) -> Option<Tags> {
        match self.slot("tags") {
            Slot::Absent => None,
            Slot::Null => {
                self.errors
                    .push("tags", "must not be null (send [] for no tags)");
                None
            }
            Slot::Value(Value::Array(items)) => {
                let mut raw = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::String(s) => raw.push(s.as_str()),
                        other => self.errors.push(
                            format!("tags[{i}]"),
                            format!("must be a string, not {}", json_kind(other)),
                        ),
                    }
                }
                match Tags::parse(&raw) {
                    Ok(t) => Some(t),
                    Err(e) => {
                        self.errors.0.extend(e.0);
                        None
                    }
                }
            }
            Slot::Value(v) => {
                self.errors.push(
                    "tags",
                    format!("must be an array of strings, not {}", json_kind(v)),
                );
                None
            }
        }
    }

    fn finish<T>(self, value: T) -> Result<T, ValidationErrors> {
        self.errors.into_result().map(|()| value)
    }
}

fn field_msg<T, E: ToString>(r: Result<T, E>) -> Result<T, String> {
    r.map_err(|e| e.to_string())
}

fn title(s: &str) -> Result<TaskTitle, String> {
    TaskTitle::parse(s).map_err(|e| e.message)
}
fn time(s: &str) -> Result<DateTime<Utc>, String> {
    parse_rfc3339(s)
}
fn rule(s: &str) -> Result<RecurrenceRule, String> {
    RecurrenceRule::parse(s).map_err(|e| e.message)
}
fn zone(s: &str) -> Result<TimeZoneName, String> {
    TimeZoneName::parse(s).map_err(|e| e.message)
}
fn description(s: &str) -> Result<Option<Description>, String> {
    Description::parse(s).map_err(|e| e.message)
}

/// Parses a create body. Nothing is defaulted here: the domain applies defaults.
pub fn parse_new_task(map: &Map<String, Value>) -> Result<NewTask, ValidationErrors> {
    let mut f = Fields::new(map);
    let title = f.parsed("title", title);
    if title.is_none() && matches!(f.slot("title"), Slot::Absent) {
        f.errors.push("title", "is required");
    }
    let input = NewTask {
        title,
        description: f
            .nullable_parsed("description", description)
            .flatten()
            .flatten(),
        status: f.parsed("status", |s| field_msg(s.parse::<Status>())),
        priority: f.parsed("priority", |s| field_msg(s.parse::<Priority>())),
        tags: f.tags(),
        due_date: f.nullable_parsed("due_date", time).flatten(),
        reminder_at: f.nullable_parsed("reminder_at", time).flatten(),
        is_recurring: f.boolean("is_recurring"),
        recurrence_rule: f.nullable_parsed("recurrence_rule", rule).flatten(),
        recurrence_anchor: f.parsed("recurrence_anchor", |s| {
            field_msg(s.parse::<RecurrenceAnchor>())
        }),
        timezone: f.parsed("timezone", zone),
    };
    f.finish(input)
}

/// Parses a PATCH body: absent fields stay, `null` clears nullable ones.
pub fn parse_changes(map: &Map<String, Value>) -> Result<TaskChanges, ValidationErrors> {
    let mut f = Fields::new(map);
    // A refused rule is judged against the stored one (`TaskChanges::refused_rule`).
    let mut refused_rule = None;
    let mut changes = TaskChanges {
        title: f.parsed("title", title),
        description: f
            .nullable_parsed("description", description)
            .map(Option::flatten),
        status: f.parsed("status", |s| field_msg(s.parse::<Status>())),
        priority: f.parsed("priority", |s| field_msg(s.parse::<Priority>())),
        tags: f.tags(),
        due_date: f.nullable_parsed("due_date", time),
        reminder_at: f.nullable_parsed("reminder_at", time),
        is_recurring: f.boolean("is_recurring"),
        recurrence_rule: f.nullable_parsed("recurrence_rule", |s| {
            RecurrenceRule::parse(s).map_err(|e| {
                let message = e.message.clone();
                refused_rule = Some((s.trim().to_string(), e));
                message
            })
        }),
        refused_rule: None,
        recurrence_anchor: f.parsed("recurrence_anchor", |s| {
            field_msg(s.parse::<RecurrenceAnchor>())
        }),
        timezone: f.parsed("timezone", zone),
    };
    if refused_rule.is_some() {
        f.errors.0.retain(|e| e.field != "recurrence_rule");
        changes.refused_rule = refused_rule;
    }
    f.finish(changes)
}

/// The parameters of the task list (`parse_list_query` reads each of them).
const LIST_PARAMS: [&str; 9] = [
    "status",
    "priority",
    "tag",
    "search",
    "series_id",
    "sort_by",
    "sort_order",
    "limit",
    "offset",
];

/// Parses the list query string (empty values count as absent; unknown parameters are ignored,
/// as cache-busting parameters are common).
pub fn parse_list_query(pairs: &[(String, String)]) -> Result<ListQuery, ValidationErrors> {
    let mut q = ListQuery {
        limit: DEFAULT_LIMIT,
        ..ListQuery::default()
    };
    let mut errors = ValidationErrors::default();
    let mut once = super::extract::OneValueEach::new(pairs);
    for (key, value) in pairs {
        let v = value.trim();
        if v.is_empty() {
            continue;
        }
        if LIST_PARAMS.contains(&key.as_str()) && !once.readable(key, &mut errors) {
            continue;
        }
        let mut bad = |m: String| errors.push(key.as_str(), m);
        match key.as_str() {
            "status" => match v.parse() {
                Ok(s) => q.status = Some(s),
                Err(m) => bad(m),
            },
            "priority" => match v.parse() {
                Ok(p) => q.priority = Some(p),
                Err(m) => bad(m),
            },
            "tag" => match Tag::parse_filter(v, "tag") {
                Ok(t) => q.tag = Some(t),
                Err(e) => bad(e.message),
            },
            "search" => {
                if v.chars().count() > MAX_SEARCH_CHARS {
                    bad(format!("must be at most {MAX_SEARCH_CHARS} characters"));
                } else if v.chars().any(char::is_control) {
                    bad("must not contain control characters".into());
                } else {
                    q.search = Some(v.to_string());
                }
            }
            "series_id" => match TaskId::parse(v) {
                Ok(id) => q.series_id = Some(id),
                Err(e) => bad(e.message),
            },
            "sort_by" => match SortField::parse(v) {
                Some(s) => q.sort_by = s,
                None => bad("must be one of: due_date, priority, created_at, title".into()),
            },
            "sort_order" => match v {
                "asc" => q.sort_order = SortOrder::Asc,
                "desc" => q.sort_order = SortOrder::Desc,
                _ => bad("must be asc or desc".into()),
            },
            "limit" => match parse_limit(v) {
                Ok(n) => q.limit = n,
                Err(m) => bad(m),
            },
            "offset" => match parse_offset(v) {
                Ok(n) => q.offset = n,
                Err(m) => bad(m),
            },
            _ => {}
        }
    }
    errors.into_result().map(|()| q)
}

/// A page size (`limit`), as every list reads it (trimmed; the caller skips empty values).
pub fn parse_limit(v: &str) -> Result<u32, String> {
    match v.parse::<u32>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!("must be a whole number from 1 to {MAX_LIMIT}")),
    }
}

/// A page start (`offset`), as every list reads it (trimmed; the caller skips empty values).
pub fn parse_offset(v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n <= MAX_OFFSET => Ok(n),
        _ => Err(format!("must be a whole number from 0 to {MAX_OFFSET}")),
    }
}

// ---- Documented shapes (OpenAPI). The handlers serialize `domain::event::task_json`, and a
// test keeps that JSON and `TaskOut` in step.

/// A task as the API returns it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    /// Identity (UUID).
    pub id: String,
    /// 1–200 characters.
    pub title: String,
    /// Up to 2000 characters.
    #[schema(required = true)]
    pub description: Option<String>,
    /// `pending`, `in_progress` or `completed`.
    pub status: StatusName,
    /// `low`, `medium` or `high`.
    pub priority: PriorityName,
    /// Up to 20 tags of up to 50 characters.
    pub tags: Vec<String>,
    /// RFC 3339, UTC.
    #[schema(required = true)]
    pub due_date: Option<String>,
    /// RFC 3339, UTC.
    #[schema(required = true)]
    pub reminder_at: Option<String>,
    /// Whether completing the task creates its next occurrence.
    pub is_recurring: bool,
    /// `daily`, `weekly`, `monthly`, `yearly` or an RFC 5545 RRULE.
    #[schema(required = true)]
    pub recurrence_rule: Option<String>,
    /// `schedule` or `completion`.
    pub recurrence_anchor: AnchorName,
    /// IANA time zone the recurrence is expanded in, and a reminder's text shows the due time in.
    pub timezone: String,
    /// The series of a recurring task (id of its first occurrence).
    #[schema(required = true)]
    pub series_id: Option<String>,
    /// Where the series' schedule starts: the first occurrence's due time (or, after a
    /// completion-anchored or undated occurrence, the due time the series went on from).
    #[schema(required = true)]
    pub series_start: Option<String>,
    /// Position in the series (1 for the first occurrence).
    pub occurrence: i32,
    /// Set exactly when status is `completed`.
    #[schema(required = true)]
    pub completed_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// RFC 3339, UTC.
    pub updated_at: String,
    /// Increases on every change; also the `ETag`.
    pub version: i64,
}

/// Task status names.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusName {
    /// Not started.
    Pending,
    /// Started.
    InProgress,
    /// Done (`completed_at` is set).
    Completed,
}

/// Priority names, sorted by meaning: low < medium < high.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriorityName {
    /// Low.
    Low,
    /// Medium (the default).
    Medium,
    /// High.
    High,
}

/// What a recurring task's next occurrence is computed from.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnchorName {
    /// The next slot of the schedule after the current due date (the default).
    Schedule,
    /// The next slot after the moment the task was completed.
    Completion,
}

/// Body of `POST /api/tasks`: only `title` is required. Unknown and read-only fields are
/// rejected, and so is `null` for the fields not marked nullable.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskCreate {
    /// 1–200 characters after trimming.
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Default `pending`.
    #[schema(nullable = false)]
    pub status: Option<StatusName>,
    /// Default `medium`.
    #[schema(nullable = false)]
    pub priority: Option<PriorityName>,
    /// Up to 20 distinct tags of 1–50 characters (repeats are dropped before counting).
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    /// RFC 3339 with an offset.
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    pub due_date: Option<String>,
    /// RFC 3339 with an offset.
    pub reminder_at: Option<String>,
    /// Implied by `recurrence_rule`.
    #[schema(nullable = false)]
    pub is_recurring: Option<bool>,
    /// `daily`, `weekly`, `monthly`, `yearly` or an RRULE such as `FREQ=WEEKLY;BYDAY=MO,WE`.
    #[schema(max_length = 500)]
    pub recurrence_rule: Option<String>,
    /// Default `schedule`.
    #[schema(nullable = false)]
    pub recurrence_anchor: Option<AnchorName>,
    /// IANA name, default `UTC`.
    #[schema(nullable = false, example = "Europe/Paris")]
    pub timezone: Option<String>,
}

/// Body of `PATCH /api/tasks/{id}`: every field optional, only those given change; `null`
/// clears `description`, `due_date`, `reminder_at` and `recurrence_rule`. Unknown and read-only
/// fields are rejected, and so is `null` for the fields not marked nullable.
#[derive(Debug, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskPatch {
    /// 1–200 characters after trimming.
    #[schema(nullable = false, min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Up to 2000 characters.
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// Moving to or from `completed` sets or clears `completed_at`.
    #[schema(nullable = false)]
    pub status: Option<StatusName>,
    /// New priority.
    #[schema(nullable = false)]
    pub priority: Option<PriorityName>,
    /// Replaces the tags: up to 20 distinct ones of 1–50 characters.
    #[schema(nullable = false)]
    pub tags: Option<Vec<String>>,
    /// RFC 3339 with an offset.
    pub due_date: Option<String>,
    /// RFC 3339 with an offset; a new time re-arms the reminder.
    pub reminder_at: Option<String>,
    /// `false` stops the recurrence (with `recurrence_rule` null or absent).
    #[schema(nullable = false)]
    pub is_recurring: Option<bool>,
    /// `daily`, `weekly`, `monthly`, `yearly` or an RRULE.
    #[schema(max_length = 500)]
    pub recurrence_rule: Option<String>,
    /// `schedule` or `completion`.
    #[schema(nullable = false)]
    pub recurrence_anchor: Option<AnchorName>,
    /// IANA name.
    #[schema(nullable = false)]
    pub timezone: Option<String>,
}

/// A page of tasks.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskListOut {
    /// The page.
    pub tasks: Vec<TaskOut>,
    /// All tasks matching the filters.
    pub total: u64,
    /// Page size used.
    pub limit: u32,
    /// Rows skipped.
    pub offset: u64,
}

/// What `GET /health` answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthOut {
    /// `ok` or `unavailable`.
    pub status: &'static str,
    /// Why it is unavailable (absent when ok).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<&'static str>,
}

/// One event of the audit log (a task's history, the activity feed).
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventOut {
    /// The event's id (UUID; its CloudEvents `id`).
    pub id: String,
    /// `task.created`, `task.updated`, `task.completed`, `task.deleted`, `task.reminder.due` or
    /// `task.recurring.triggered`.
    pub event_type: String,
    /// The task (UUID).
    pub task_id: String,
    /// When it happened (RFC 3339, UTC).
    pub timestamp: String,
    /// When the audit consumer recorded it (RFC 3339, UTC).
    pub recorded_at: String,
    /// The function that wrote it (`create-task`, `on-task-event`, ...).
    pub source: String,
    /// The event's payload, as published.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
}

/// A page of audit events.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventsOut {
    /// The page.
    pub events: Vec<AuditEventOut>,
    /// All events matching.
    pub total: u64,
}

/// A notification made from a due reminder.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    /// Identity (UUID).
    pub id: String,
    /// The task (UUID).
    pub task_id: String,
    /// The task's title when the reminder fired.
    pub title: String,
    /// What to show.
    pub message: String,
    /// The task's due date then (RFC 3339, UTC).
    #[schema(required = true)]
    pub due_at: Option<String>,
    /// RFC 3339, UTC.
    pub created_at: String,
    /// When it was marked read.
    #[schema(required = true)]
    pub read_at: Option<String>,
    /// When the notification binding took it, where one is configured.
    #[schema(required = true)]
    pub delivered_at: Option<String>,
}

/// A page of notifications.
#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationsOut {
    /// The page, newest first.
    pub notifications: Vec<NotificationOut>,
    /// All notifications matching (`unread=true`: the unread ones).
    pub total: u64,
    /// Unread notifications in all.
    pub unread: u64,
}

/// One tag and how many tasks carry it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagCount {
    /// Tag.
    pub name: String,
    /// Tasks carrying it.
    pub count: i64,
}

/// All tags in use.
#[derive(Debug, Serialize, ToSchema)]
pub struct TagsOut {
    /// Most used first.
    pub tags: Vec<TagCount>,
}

/// What a list can be sorted by.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortByName {
    /// Due date, missing ones last.
    DueDate,
    /// Priority by meaning.
    Priority,
    /// Creation time (the default).
    CreatedAt,
    /// Title, case-insensitively.
    Title,
}

/// Sort direction.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrderName {
    /// Ascending (the default).
    Asc,
    /// Descending.
    Desc,
}

/// Query parameters of `GET /api/tasks`.
#[derive(Debug, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListParams {
    /// Only tasks with this status.
    status: Option<StatusName>,
    /// Only tasks with this priority.
    priority: Option<PriorityName>,
    /// Only tasks with exactly this tag (case-sensitive; trimmed and compared in Unicode normal
    /// form C, the length counted there).
    #[param(max_length = 150)]
    tag: Option<String>,
    /// Case-insensitive text in title or description (`%` and `_` match literally); the length
    /// is counted after trimming.
    #[param(max_length = 200)]
    search: Option<String>,
    /// Only tasks of this recurring series.
    series_id: Option<String>,
    /// Default `created_at`; priority sorts by meaning.
    sort_by: Option<SortByName>,
    /// Default `asc`. Missing due dates sort last either way.
    sort_order: Option<SortOrderName>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Default 0; at most 1,000,000,000.
    #[param(maximum = 1_000_000_000)]
    offset: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn every_bad_field_is_named() {
        let err = parse_new_task(&obj(json!({
            "title": null, "priority": "urgent", "tags": "x", "due_date": "tomorrow", "bogus": 1, "id": "x"
        })))
        .expect_err("invalid");
        let fields: Vec<&str> = err.0.iter().map(|e| e.field.as_str()).collect();
        for f in ["title", "priority", "tags", "due_date", "bogus", "id"] {
            assert!(fields.contains(&f), "{f} missing from {fields:?}");
        }
    }

    #[test]
    fn missing_title_is_required() {
        let err = parse_new_task(&obj(json!({}))).expect_err("invalid");
        assert_eq!(err.0[0].field, "title");
        assert_eq!(err.0[0].message, "is required");
    }

    #[test]
    fn null_clears_nullable_fields_in_a_patch() {
        let c = parse_changes(&obj(json!({"due_date": null, "description": null}))).expect("valid");
        assert_eq!(c.due_date, Some(None));
        assert!(matches!(c.description, Some(None)));
        assert!(parse_changes(&obj(json!({"priority": null}))).is_err());
        // A refused rule is kept, with its reason, for the stored one to judge.
        let c = parse_changes(&obj(
            json!({"recurrence_rule": " FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30 "}),
        ))
        .expect("judged later");
        let (text, why) = c.refused_rule.expect("kept");
        assert_eq!(text, "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30");
        assert!(why.message.contains("hourly"), "{}", why.message);
        assert!(c.recurrence_rule.is_none());
        assert!(parse_changes(&obj(json!({"is_recurring": "yes"}))).is_err());
    }

    #[test]
    fn list_query_validates_and_defaults() {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect::<Vec<_>>()
        };
        let q = parse_list_query(&pairs(&[
            ("status", ""),
            ("sort_by", "priority"),
            ("limit", "10"),
        ]))
        .expect("valid");
        assert_eq!(q.status, None);
        assert_eq!(q.sort_by, SortField::Priority);
        assert_eq!(q.limit, 10);
        let e = parse_list_query(&pairs(&[
            ("limit", "0"),
            ("sort_order", "up"),
            ("priority", "x"),
        ]))
        .expect_err("bad");
        assert_eq!(e.0.len(), 3);
    }

    #[test]
    fn task_out_documents_exactly_the_served_fields() {
        use crate::domain::{OwnerId, Task};
        let now = crate::domain::time::now();
        let input = NewTask {
            title: Some(TaskTitle::parse("x").expect("valid")),
            ..NewTask::default()
        };
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let served = crate::domain::event::task_json(&task);
        let mut served_keys: Vec<String> = served
            .as_object()
            .expect("object")
            .keys()
            .cloned()
            .collect();
        let schema =
            serde_json::to_value(<TaskOut as utoipa::PartialSchema>::schema()).expect("schema");
        let mut documented: Vec<String> = schema["properties"]
            .as_object()
            .expect("props")
            .keys()
            .cloned()
            .collect();
        served_keys.sort();
        documented.sort();
        assert_eq!(served_keys, documented);
    }
}
