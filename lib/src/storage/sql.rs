//! SQL shared by both adapters: the list query builder and the row <-> domain mapping.
//!
//! The two databases differ in placeholders, in how UUIDs, timestamps and tag lists are stored,
//! and in a few functions; everything else (filters, search semantics, sort order, tiebreaker)
//! is written once here so both backends return the same rows in the same order.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::task::TaskParts;
use crate::domain::{
    Description, OwnerId, Priority, RecurrenceAnchor, RecurrenceRule, Status, Tags, Task, TaskId,
    TaskTitle, TimeZoneName,
};
use crate::ports::{ListQuery, SortField, SortOrder, StoreError};

/// The columns of `tasks`, in the order [`RawTask`] binds and reads them.
pub const TASK_COLUMNS: &str = "id, owner_id, title, title_key, description, search_text, status, priority, tags, \
     due_date, reminder_at, recurrence_rule, recurrence_anchor, timezone, series_id, series_start, occurrence, completed_at, \
     created_at, updated_at, version";

/// The columns a read selects, in the order the adapters' `decode` reads them by position: the
/// derived columns written for sorting and searching (`title_key`, `search_text`) are left out.
pub const READ_COLUMNS: &str = "id, owner_id, title, description, status, priority, tags, due_date, reminder_at, \
     recurrence_rule, recurrence_anchor, timezone, series_id, series_start, occurrence, completed_at, created_at, \
     updated_at, version";

/// What differs between the SQL dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `$1` placeholders, `jsonb` tags, `COLLATE "C"` for byte-order text sorting.
    Postgres,
    /// `?` placeholders, JSON text tags, BINARY collation (byte order) by default.
    Sqlite,
}

impl Dialect {
    /// The `n`th (1-based) placeholder.
    pub fn placeholder(self, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("${n}"),
            Dialect::Sqlite => "?".to_string(),
        }
    }

    /// `n` placeholders separated by commas, starting at `first`.
    pub fn placeholders(self, first: usize, n: usize) -> String {
        (first..first + n)
            .map(|i| self.placeholder(i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn tag_match(self, p: &str) -> String {
        match self {
            Dialect::Postgres => format!("tags ? {p}"),
            Dialect::Sqlite => {
                format!("EXISTS (SELECT 1 FROM json_each(tasks.tags) WHERE json_each.value = {p})")
            }
        }
    }

    fn title_order(self) -> &'static str {
        match self {
            Dialect::Postgres => "title_key COLLATE \"C\"",
            Dialect::Sqlite => "title_key",
        }
    }
}

/// A value bound to a list query, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub enum Bind {
    /// Text.
    Text(String),
    /// Small integer.
    Int(i64),
    /// A UUID (native on PostgreSQL, text on SQLite).
    Uuid(Uuid),
}

/// The WHERE clause (without the keyword) and its binds for a list query.
pub fn list_filter(d: Dialect, owner: &OwnerId, q: &ListQuery) -> (String, Vec<Bind>) {
    let mut clauses = Vec::new();
    let mut binds = vec![Bind::Text(owner.as_str().to_string())];
    clauses.push(format!("owner_id = {}", d.placeholder(1)));
    if let Some(s) = q.status {
        binds.push(Bind::Text(s.as_str().to_string()));
        clauses.push(format!("status = {}", d.placeholder(binds.len())));
    }
    if let Some(p) = q.priority {
        binds.push(Bind::Int(i64::from(p.rank())));
        clauses.push(format!("priority = {}", d.placeholder(binds.len())));
    }
    if let Some(t) = &q.tag {
        binds.push(Bind::Text(t.as_str().to_string()));
        clauses.push(d.tag_match(&d.placeholder(binds.len())));
    }
    if let Some(s) = q.search.as_deref().filter(|s| !s.is_empty()) {
        binds.push(Bind::Text(format!("%{}%", escape_like(&fold_case(s)))));
        clauses.push(format!(
            "search_text LIKE {} ESCAPE '\\'",
            d.placeholder(binds.len())
        ));
    }
    if let Some(series) = q.series_id {
        binds.push(Bind::Uuid(series.0));
        clauses.push(format!("series_id = {}", d.placeholder(binds.len())));
    }
    (clauses.join(" AND "), binds)
}

/// The ORDER BY clause (without the keyword): the chosen column, then `id` as a stable
/// tiebreaker. Only `due_date` can be missing; it sorts last in either direction (both databases
/// need saying so: PostgreSQL puts NULLs first when descending, SQLite when ascending). The other
/// columns are NOT NULL and are left bare so PostgreSQL can walk their indexes either way.
pub fn list_order(d: Dialect, q: &ListQuery) -> String {
    let dir = match q.sort_order {
        SortOrder::Asc => "ASC",
        SortOrder::Desc => "DESC",
    };
    match q.sort_by {
        SortField::DueDate => format!("due_date {dir} NULLS LAST, id {dir}"),
        SortField::Priority => format!("priority {dir}, id {dir}"),
        SortField::CreatedAt => format!("created_at {dir}, id {dir}"),
        SortField::Title => format!("{} {dir}, id {dir}", d.title_order()),
    }
}

/// Escapes `%`, `_` and the escape character itself so user search text matches literally.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The text searched by `search`: title and description, case-folded in Rust so both
/// databases match Unicode case-insensitively in the same way.
pub fn search_text(task: &Task) -> String {
    let mut s = fold_case(task.title.as_str());
    if let Some(d) = &task.description {
        s.push('\n');
        s.push_str(&fold_case(d.as_str()));
    }
    s
}

/// Text as search compares it: lower case, without the two spellings lower-casing makes
/// depend on context. A Greek capital sigma lower-cases to final `ς` at the end of a word and
/// to `σ` inside one, so the search `ΟΔΟΣ` (ending in `ς`) missed `ΟΔΟΣΤΡΩΜΑ` (stored with
/// `σ`): both are `σ` here. And the Turkish dotted capital `İ` lower-cases to `i` plus a
/// combining dot, which `istanbul` would never match: it is a plain `i` here. The stored
/// text is rewritten the same way by migration 9 (PostgreSQL) and 5 (SQLite).
///
/// The result is in Unicode normal form C, so text typed with precomposed letters (`é`) and with
/// combining accents (`e` + U+0301) finds each other; rows written before are rewritten to it
/// when the database is opened (migration 12 on PostgreSQL, `unicode_nfc_fix` on SQLite).
pub fn fold_case(s: &str) -> String {
    let lower = s.to_lowercase();
    if !lower.contains(['ς', '\u{307}']) {
        return match crate::domain::task::nfc(&lower) {
            std::borrow::Cow::Borrowed(_) => lower,
            std::borrow::Cow::Owned(normal) => normal,
        };
    }
    let mut out = String::with_capacity(lower.len());
    let mut prev = None;
    for c in lower.chars() {
        match c {
            'ς' => out.push('σ'),
            '\u{307}' if prev == Some('i') => {}
            c => out.push(c),
        }
        prev = Some(c);
    }
    // After the dot is dropped, `i` may compose with a mark that followed it (`i` U+0307
    // U+0301 becomes `í`).
    crate::domain::task::nfc(&out).into_owned()
}

/// A task row in primitive types, between the adapters' rows and the domain.
#[derive(Debug, Clone)]
pub struct RawTask {
    /// id
    pub id: Uuid,
    /// owner_id
    pub owner_id: String,
    /// title
    pub title: String,
    /// title_key (derived; written, never read back: empty on a row that was read)
    pub title_key: String,
    /// description
    pub description: Option<String>,
    /// search_text (derived; written, never read back: empty on a row that was read)
    pub search_text: String,
    /// status
    pub status: String,
    /// priority rank
    pub priority: i16,
    /// tags
    pub tags: Vec<String>,
    /// due_date
    pub due_date: Option<DateTime<Utc>>,
    /// reminder_at
    pub reminder_at: Option<DateTime<Utc>>,
    /// recurrence_rule
    pub recurrence_rule: Option<String>,
    /// recurrence_anchor
    pub recurrence_anchor: String,
    /// timezone
    pub timezone: String,
    /// series_id
    pub series_id: Option<Uuid>,
    /// series_start
    pub series_start: Option<DateTime<Utc>>,
    /// occurrence
    pub occurrence: i32,
    /// completed_at
    pub completed_at: Option<DateTime<Utc>>,
    /// created_at
    pub created_at: DateTime<Utc>,
    /// updated_at
    pub updated_at: DateTime<Utc>,
    /// version
    pub version: i64,
}

impl RawTask {
    /// The row to write for a task.
    pub fn from_task(t: &Task) -> Self {
        RawTask {
            id: t.id.0,
            owner_id: t.owner.as_str().to_string(),
            title: t.title.as_str().to_string(),
            title_key: t.title.sort_key(),
            description: t.description.as_ref().map(|d| d.as_str().to_string()),
            search_text: search_text(t),
            status: t.status().as_str().to_string(),
            priority: t.priority.rank(),
            tags: t.tags.as_strings(),
            due_date: t.due_date,
            reminder_at: t.reminder_at,
            recurrence_rule: t.recurrence_rule().map(|r| r.as_str().to_string()),
            recurrence_anchor: t.recurrence_anchor.as_str().to_string(),
            timezone: t.timezone.as_str().to_string(),
            series_id: t.series_id().map(|s| s.0),
            series_start: t.series_start(),
            occurrence: t.occurrence(),
            completed_at: t.completed_at(),
            created_at: t.created_at,
            updated_at: t.updated_at,
            version: t.version,
        }
    }

    /// Rebuilds the domain task, re-validating every field but the title (kept as stored, see
    /// `TaskTitle::from_stored`).
    pub fn into_task(self) -> Result<Task, StoreError> {
        let bad = |what: &str, e: &dyn std::fmt::Display| {
            StoreError::Corrupt(format!("task {}: {what}: {e}", self.id))
        };
        let title = TaskTitle::from_stored(self.title);
        let description = match &self.description {
            Some(d) => Description::parse(d).map_err(|e| bad("description", &e))?,
            None => None,
        };
        let status: Status = self.status.parse().map_err(|e: String| bad("status", &e))?;
        let priority =
            Priority::from_rank(self.priority).ok_or_else(|| bad("priority", &self.priority))?;
        let rule = self
            .recurrence_rule
            .as_deref()
            .map(RecurrenceRule::from_stored);
        let anchor: RecurrenceAnchor = self
            .recurrence_anchor
            .parse()
            .map_err(|e: String| bad("anchor", &e))?;
        let tz = TimeZoneName::parse(&self.timezone).map_err(|e| bad("timezone", &e))?;
        Ok(Task::from_parts(TaskParts {
            id: TaskId(self.id),
            owner: OwnerId::from_stored(self.owner_id),
            title,
            description,
            status,
            priority,
            tags: Tags::from_stored(self.tags),
            due_date: self.due_date,
            reminder_at: self.reminder_at,
            recurrence_rule: rule,
            recurrence_anchor: anchor,
            timezone: tz,
            series_id: self.series_id.map(TaskId),
            series_start: self.series_start,
            occurrence: self.occurrence,
            completed_at: self.completed_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like("100%_done\\"), "100\\%\\_done\\\\");
    }

    #[test]
    fn filters_use_dialect_placeholders_in_order() {
        let q = ListQuery {
            status: Some(Status::Pending),
            search: Some("a".into()),
            ..ListQuery::default()
        };
        let (pg, binds) = list_filter(Dialect::Postgres, &OwnerId::local(), &q);
        assert_eq!(
            pg,
            "owner_id = $1 AND status = $2 AND search_text LIKE $3 ESCAPE '\\'"
        );
        assert_eq!(binds.len(), 3);
        let (lite, _) = list_filter(Dialect::Sqlite, &OwnerId::local(), &q);
        assert!(lite.starts_with("owner_id = ? AND status = ?"));
    }

    #[test]
    fn order_puts_nulls_last_and_breaks_ties_by_id() {
        let q = ListQuery {
            sort_by: SortField::DueDate,
            sort_order: SortOrder::Desc,
            ..ListQuery::default()
        };
        assert_eq!(
            list_order(Dialect::Sqlite, &q),
            "due_date DESC NULLS LAST, id DESC"
        );
    }
}
