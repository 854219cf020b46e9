//! The task aggregate and its field types.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::recurrence::{RecurrenceAnchor, RecurrenceRule};
use super::{FieldError, ValidationErrors, time};

/// Maximum length of a title, in characters, after trimming.
pub const TITLE_MAX_CHARS: usize = 200;
/// Maximum length of a description, in characters.
pub const DESCRIPTION_MAX_CHARS: usize = 2000;
/// Maximum number of tags on one task.
pub const TAGS_MAX: usize = 20;
/// Maximum length of one tag, in characters, after trimming.
pub const TAG_MAX_CHARS: usize = 50;

/// A task's identity (a UUID; new ids are v7, so they sort by creation time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TaskId(pub Uuid);

impl TaskId {
    /// A fresh, time-ordered id.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses a path segment; the error names the parameter `id`. Only the hyphenated form the
    /// API writes (either case): the braced, `urn:uuid:` and unhyphenated spellings that UUID
    /// parsers also take would give one task several URLs (and several idempotency keys).
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        let hyphenated = s.len() == 36
            && s.char_indices()
                .all(|(i, c)| matches!(i, 8 | 13 | 18 | 23) == (c == '-'));
        hyphenated
            .then(|| Uuid::parse_str(s).ok())
            .flatten()
            .map(Self)
            .ok_or_else(|| {
                FieldError::new(
                    "id",
                    "must be a UUID such as 0195c7a0-6b1e-7c3a-9f00-2f1d6f3e9a10",
                )
            })
    }
}

impl Default for TaskId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

/// Who owns a task. Until authentication exists every task belongs to [`OwnerId::local`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OwnerId(String);

impl OwnerId {
    /// The single owner used before authentication exists.
    pub fn local() -> Self {
        Self("local".to_string())
    }

    /// Wraps a stored owner id.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The owner id as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A title: 1–200 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskTitle(String);

impl TaskTitle {
    /// Validates and normalises (trims) a title.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let t = raw.trim();
        // Nothing to see: empty, or only characters that show nothing (see `is_invisible`).
        if t.chars().all(is_invisible) {
            return Err(FieldError::new(
                "title",
                "must not be empty (or show nothing)",
            ));
        }
        // Bidirectional overrides make a title display as other text than it is (reversing
        // "fdp.exe" into "exe.pdf"); embeddings and isolates, which right-to-left text copied
        // from office and chat apps carries, stay allowed.
        if t.chars().any(is_bidi_override) {
            return Err(FieldError::new(
                "title",
                "must not contain bidirectional override characters (U+202D, U+202E)",
            ));
        }
        let n = t.chars().count();
        if n > TITLE_MAX_CHARS {
            return Err(FieldError::new(
                "title",
                format!("must be at most {TITLE_MAX_CHARS} characters (got {n})"),
            ));
        }
        // Control characters, and Unicode's line and paragraph separators: a title is one line.
        if t.chars()
            .any(|c| c.is_control() || matches!(c, '\u{2028}' | '\u{2029}'))
        {
            return Err(FieldError::new(
                "title",
                "must not contain control characters such as line breaks",
            ));
        }
        Ok(Self(t.to_string()))
    }

    /// Wraps a stored title as it is. The input rules have grown stricter over time (invisible
    /// characters, line separators); a title stored under older rules must stay readable.
    pub fn from_stored(s: String) -> Self {
        Self(s)
    }

    /// The title text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key titles sort by: Unicode lower case, so both databases order titles identically.
    pub fn sort_key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The left-to-right and right-to-left overrides (U+202D, U+202E): they make text display as
/// other text than it is.
fn is_bidi_override(c: char) -> bool {
    matches!(c, '\u{202D}' | '\u{202E}')
}

/// Characters that show nothing on their own: white space, format characters (zero-width
/// spaces and joiners, direction marks, soft hyphen, tag characters), controls, combining marks
/// with nothing to combine with, unassigned code points and noncharacters, and the letters and
/// symbols that are blank by design (the Hangul fillers, the blank Braille pattern).
pub(crate) fn is_invisible(c: char) -> bool {
    use unicode_properties::{GeneralCategory as G, GeneralCategoryGroup, UnicodeGeneralCategory};
    c.is_whitespace()
        || matches!(
            c,
            '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' | '\u{2800}'
        )
        || c.general_category_group() == GeneralCategoryGroup::Mark
        || matches!(
            c.general_category(),
            G::Format | G::Control | G::Unassigned | G::Surrogate
        )
}

/// A description: at most 2000 characters. Empty (after trimming) is stored as no description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Validates a description; `Ok(None)` for a blank one.
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let n = raw.chars().count();
        if n > DESCRIPTION_MAX_CHARS {
            return Err(FieldError::new(
                "description",
                format!("must be at most {DESCRIPTION_MAX_CHARS} characters (got {n})"),
            ));
        }
        if raw
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err(FieldError::new(
                "description",
                "must not contain control characters",
            ));
        }
        if raw.trim().is_empty() {
            Ok(None)
        } else {
            Ok(Some(Self(raw.to_string())))
        }
    }

    /// The description text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a task is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not started.
    Pending,
    /// Being worked on.
    InProgress,
    /// Done; `completed_at` is set exactly when a task is in this state.
    Completed,
}

impl Status {
    /// All values, for error messages and docs.
    pub const ALL: [Status; 3] = [Status::Pending, Status::InProgress, Status::Completed];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::InProgress => "in_progress",
            Status::Completed => "completed",
        }
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Status::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "must be one of: pending, in_progress, completed".to_string())
    }
}

/// How important a task is. Ordered by meaning: `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    /// Low importance.
    Low,
    /// The default.
    Medium,
    /// High importance.
    High,
}

impl Priority {
    /// All values, in order of meaning.
    pub const ALL: [Priority; 3] = [Priority::Low, Priority::Medium, Priority::High];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
        }
    }

    /// The stored rank (1..=3), which is what the databases sort by.
    pub fn rank(self) -> i16 {
        match self {
            Priority::Low => 1,
            Priority::Medium => 2,
            Priority::High => 3,
        }
    }

    /// Inverse of [`Priority::rank`].
    pub fn from_rank(rank: i16) -> Option<Self> {
        Priority::ALL.into_iter().find(|p| p.rank() == rank)
    }
}

impl FromStr for Priority {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Priority::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| "must be one of: low, medium, high".to_string())
    }
}

/// `s` in Unicode normal form C (canonically equivalent text, one spelling); borrowed when it
/// is already (the usual case: no copy).
pub fn nfc(s: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};
    if is_nfc_quick(s.chars()) == IsNormalized::Yes {
        std::borrow::Cow::Borrowed(s)
    } else {
        std::borrow::Cow::Owned(s.nfc().collect())
    }
}

/// One tag: 1–50 characters after trimming, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Validates one tag; `field` is the name used in errors (e.g. `tags[2]` or `tag`).
    pub fn parse(raw: &str, field: &str) -> Result<Self, FieldError> {
        if raw.chars().all(is_invisible) {
            return Err(FieldError::new(
                field,
                "a tag must not be empty (or show nothing)",
            ));
        }
        // As for titles: one line, and no overrides that make it display as other text.
        if raw
            .chars()
            .any(|c| matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_override(c))
        {
            return Err(FieldError::new(
                field,
                "a tag must not contain line separators or bidirectional overrides",
            ));
        }
        Self::normal(raw, field, TAG_MAX_CHARS, "a tag")
    }

    /// A tag to filter by: the rules tags were once written under (trimmed, no control
    /// characters), so a tag stored before the visibility rule can still be found.
    ///
    /// Tags are kept in Unicode normal form C, so `café` typed with a precomposed `é` and with
    /// `e` plus a combining accent is one tag, and a filter finds it either way. Normal form C
    /// can make a text up to three times longer (U+FB2C is three characters in it), so a tag of
    /// 50 characters stored before tags were normalised may now be longer: a filter takes up
    /// to three times the limit, and only a new tag is held to it ([`Tag::parse`]).
    pub fn parse_filter(raw: &str, field: &str) -> Result<Self, FieldError> {
        Self::normal(raw, field, 3 * TAG_MAX_CHARS, "a tag to look for")
    }

    /// `raw` trimmed and in normal form C: not empty, at most `most` characters, no control
    /// characters.
    fn normal(raw: &str, field: &str, most: usize, what: &str) -> Result<Self, FieldError> {
        let t = nfc(raw.trim());
        if t.is_empty() {
            return Err(FieldError::new(field, "a tag must not be empty"));
        }
        let n = t.chars().count();
        if n > most {
            return Err(FieldError::new(
                field,
                format!("{what} must be at most {most} characters (got {n})"),
            ));
        }
        if t.chars().any(char::is_control) {
            return Err(FieldError::new(
                field,
                "a tag must not contain control characters",
            ));
        }
        Ok(Self(t.into_owned()))
    }

    /// The tag text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's tags: at most 20, duplicates removed, first-seen order kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// Validates a list of raw tags.
    pub fn parse<S: AsRef<str>>(raw: &[S]) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let mut tags: Vec<Tag> = Vec::with_capacity(raw.len());
        for (i, r) in raw.iter().enumerate() {
            match Tag::parse(r.as_ref(), &format!("tags[{i}]")) {
                Ok(t) if !tags.contains(&t) => tags.push(t),
                Ok(_) => {}
                Err(e) => errors.0.push(e),
            }
        }
        if tags.len() > TAGS_MAX {
            errors.push(
                "tags",
                format!("at most {TAGS_MAX} tags are allowed (got {})", tags.len()),
            );
        }
        errors.into_result().map(|()| Self(tags))
    }

    /// Tags as once stored, as the current rule keeps them: each in normal form C, and of
    /// those that become equal the first kept in its place (PostgreSQL's migration 12 does the
    /// same in SQL).
    pub fn normalised<S: AsRef<str>>(stored: &[S]) -> Vec<String> {
        let mut kept: Vec<String> = Vec::with_capacity(stored.len());
        for t in stored {
            let t = nfc(t.as_ref());
            if !kept.iter().any(|k| *k == t) {
                kept.push(t.into_owned());
            }
        }
        kept
    }

    /// Builds tags from already-validated storage.
    pub fn from_stored(raw: Vec<String>) -> Self {
        Self(raw.into_iter().map(Tag).collect())
    }

    /// The tags as strings.
    pub fn as_strings(&self) -> Vec<String> {
        self.0.iter().map(|t| t.0.clone()).collect()
    }

    /// Iterates over the tags.
    pub fn iter(&self) -> impl Iterator<Item = &Tag> {
        self.0.iter()
    }
}

/// An IANA time zone name (e.g. `Europe/Paris`), checked against the tz database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeZoneName(chrono_tz::Tz);

impl TimeZoneName {
    /// Validates a zone name.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        raw.trim().parse::<chrono_tz::Tz>().map(Self).map_err(|_| {
            FieldError::new(
                "timezone",
                format!(
                    "'{}' is not an IANA time zone name such as Europe/Paris or America/New_York",
                    super::time::truncate_for_message(raw, 64)
                ),
            )
        })
    }

    /// UTC.
    pub fn utc() -> Self {
        Self(chrono_tz::UTC)
    }

    /// The zone.
    pub fn tz(&self) -> chrono_tz::Tz {
        self.0
    }

    /// The canonical name.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZoneName {
    fn default() -> Self {
        Self::utc()
    }
}

/// A task. Invariants upheld by every constructor and mutator here:
/// - `status == Completed` exactly when `completed_at` is set;
/// - `recurrence_rule` is set exactly when the task is recurring, and then `series_id` is set;
/// - `version` grows by one on every change.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    /// Identity.
    pub id: TaskId,
    /// Owner (a fixed local owner until authentication exists).
    pub owner: OwnerId,
    /// Title.
    pub title: TaskTitle,
    /// Optional description.
    pub description: Option<Description>,
    status: Status,
    /// Priority.
    pub priority: Priority,
    /// Tags.
    pub tags: Tags,
    /// When the task is due.
    pub due_date: Option<DateTime<Utc>>,
    /// When to remind the owner.
    pub reminder_at: Option<DateTime<Utc>>,
    recurrence_rule: Option<RecurrenceRule>,
    /// Whether the next occurrence is scheduled from the due date or from the completion time.
    pub recurrence_anchor: RecurrenceAnchor,
    /// The zone recurrences are expanded in (9:00 stays 9:00 across DST).
    pub timezone: TimeZoneName,
    series_id: Option<TaskId>,
    series_start: Option<DateTime<Utc>>,
    occurrence: i32,
    completed_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Optimistic-concurrency version (the `ETag`).
    pub version: i64,
}

/// What a client supplies to create a task, already validated field by field.
#[derive(Debug, Clone, Default)]
pub struct NewTask {
    /// Title (required).
    pub title: Option<TaskTitle>,
    /// Description.
    pub description: Option<Description>,
    /// Initial status (default pending).
    pub status: Option<Status>,
    /// Priority (default medium).
    pub priority: Option<Priority>,
    /// Tags.
    pub tags: Option<Tags>,
    /// Due date.
    pub due_date: Option<DateTime<Utc>>,
    /// Reminder time.
    pub reminder_at: Option<DateTime<Utc>>,
    /// Explicit recurring flag.
    pub is_recurring: Option<bool>,
    /// Recurrence rule.
    pub recurrence_rule: Option<RecurrenceRule>,
    /// Recurrence anchor.
    pub recurrence_anchor: Option<RecurrenceAnchor>,
    /// Time zone.
    pub timezone: Option<TimeZoneName>,
}

/// A partial update. Outer `None`: leave the field alone; `Some(None)`: clear it.
#[derive(Debug, Clone, Default)]
pub struct TaskChanges {
    /// New title.
    pub title: Option<TaskTitle>,
    /// New or cleared description.
    pub description: Option<Option<Description>>,
    /// New status.
    pub status: Option<Status>,
    /// New priority.
    pub priority: Option<Priority>,
    /// New tags.
    pub tags: Option<Tags>,
    /// New or cleared due date.
    pub due_date: Option<Option<DateTime<Utc>>>,
    /// New or cleared reminder.
    pub reminder_at: Option<Option<DateTime<Utc>>>,
    /// New recurring flag.
    pub is_recurring: Option<bool>,
    /// New or cleared recurrence rule.
    pub recurrence_rule: Option<Option<RecurrenceRule>>,
    /// A rule the checks refused, with their reason, kept to compare with the stored one: a
    /// rule stored under older, looser checks and sent back unchanged (as form-style clients
    /// send every field) is no change; anything else gets the reason.
    pub refused_rule: Option<(String, FieldError)>,
    /// New anchor.
    pub recurrence_anchor: Option<RecurrenceAnchor>,
    /// New time zone.
    pub timezone: Option<TimeZoneName>,
}

/// Every stored field of a task, for rebuilding one from storage.
#[derive(Debug, Clone)]
#[allow(missing_docs)]
pub struct TaskParts {
    pub id: TaskId,
    pub owner: OwnerId,
    pub title: TaskTitle,
    pub description: Option<Description>,
    pub status: Status,
    pub priority: Priority,
    pub tags: Tags,
    pub due_date: Option<DateTime<Utc>>,
    pub reminder_at: Option<DateTime<Utc>>,
    pub recurrence_rule: Option<RecurrenceRule>,
    pub recurrence_anchor: RecurrenceAnchor,
    pub timezone: TimeZoneName,
    pub series_id: Option<TaskId>,
    pub series_start: Option<DateTime<Utc>>,
    pub occurrence: i32,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// Resolves the recurring flag and rule supplied together into the rule to store.
fn resolve_recurrence(
    is_recurring: Option<bool>,
    rule: Option<Option<RecurrenceRule>>,
    current: Option<RecurrenceRule>,
) -> Result<Option<RecurrenceRule>, FieldError> {
    match (is_recurring, rule) {
        (Some(false), Some(Some(_))) => Err(FieldError::new(
            "recurrence_rule",
            "must be null or omitted when is_recurring is false",
        )),
        (Some(false), _) => Ok(None),
        (Some(true), Some(Some(r))) | (None, Some(Some(r))) => Ok(Some(r)),
        (Some(true), Some(None)) => Err(FieldError::new(
            "recurrence_rule",
            "is required when is_recurring is true (daily, weekly, monthly, yearly or an RRULE)",
        )),
        (Some(true), None) => current.map(Some).ok_or_else(|| {
            FieldError::new(
                "recurrence_rule",
                "is required when is_recurring is true (daily, weekly, monthly, yearly or an RRULE)",
            )
        }),
        (None, Some(None)) => Ok(None),
        (None, None) => Ok(current),
    }
}

impl Task {
    /// Creates a task from validated input at `now`.
    pub fn create(
        id: TaskId,
        owner: OwnerId,
        input: NewTask,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let title = input
            .title
            .ok_or_else(|| FieldError::new("title", "is required"));
        let rule = resolve_recurrence(input.is_recurring, input.recurrence_rule.map(Some), None);
        let (title, rule) = match (title, rule) {
            (Ok(t), Ok(r)) => (t, r),
            (t, r) => {
                if let Err(e) = t {
                    errors.0.push(e);
                }
                if let Err(e) = r {
                    errors.0.push(e);
                }
                return Err(errors);
            }
        };
        let status = input.status.unwrap_or(Status::Pending);
        let task = Task {
            id,
            owner,
            title,
            description: input.description,
            status,
            priority: input.priority.unwrap_or(Priority::Medium),
            tags: input.tags.unwrap_or_default(),
            due_date: input.due_date,
            reminder_at: input.reminder_at,
            series_id: rule.as_ref().map(|_| id),
            series_start: rule.as_ref().map(|_| input.due_date.unwrap_or(now)),
            occurrence: 1,
            recurrence_rule: rule,
            recurrence_anchor: input.recurrence_anchor.unwrap_or_default(),
            timezone: input.timezone.unwrap_or_default(),
            completed_at: (status == Status::Completed).then_some(now),
            created_at: now,
            updated_at: now,
            version: 1,
        };
        if let (Some(rule), Some(start)) = (&task.recurrence_rule, task.series_start) {
            rule.check_schedule(start, start, task.timezone.tz(), false)?;
        }
        Ok(task)
    }

    /// Rebuilds a task from storage. Repairs nothing: storage holds only values that passed
    /// validation, and the schema's checks keep `status`/`completed_at` consistent.
    pub fn from_parts(p: TaskParts) -> Self {
        Task {
            id: p.id,
            owner: p.owner,
            title: p.title,
            description: p.description,
            status: p.status,
            priority: p.priority,
            tags: p.tags,
            due_date: p.due_date,
            reminder_at: p.reminder_at,
            recurrence_rule: p.recurrence_rule,
            recurrence_anchor: p.recurrence_anchor,
            timezone: p.timezone,
            series_id: p.series_id,
            series_start: p.series_start,
            occurrence: p.occurrence,
            completed_at: p.completed_at,
            created_at: p.created_at,
            updated_at: p.updated_at,
            version: p.version,
        }
    }

    /// When the series started (the first occurrence's due time): COUNT is counted from here.
    pub fn series_start(&self) -> Option<DateTime<Utc>> {
        self.series_start
    }

    /// This task's position in its series (1 for the first occurrence).
    pub fn occurrence(&self) -> i32 {
        self.occurrence
    }

    /// The next occurrence of a recurring task that has been completed, or `None` when the task
    /// is not recurring, not completed, or its rule has ended. The new task keeps the series, the
    /// rule, the fields and the reminder's offset from the due date.
    pub fn next_occurrence(&self, id: TaskId, now: DateTime<Utc>) -> Option<Task> {
        let rule = self.recurrence_rule.as_ref()?;
        let completed_at = self.completed_at?;
        let tz = self.timezone.tz();
        // RFC 5545: the first occurrence counts toward COUNT even when the rule would not have
        // produced it (a Wednesday due date with BYDAY=MO), and each occurrence is one more.
        if let Some(count) = rule.count()
            && i64::from(self.occurrence) >= i64::from(count)
        {
            return None;
        }
        // The next due date, and where the series restarted when it goes on from the
        // completion.
        let (next_due, restart) = match (self.recurrence_anchor, self.due_date, self.series_start) {
            (RecurrenceAnchor::Schedule, Some(due), Some(start)) => {
                (rule.next_after(start, tz, due)?, None)
            }
            _ => {
                // From the completion, whether it came before the due date or after: the series
                // restarts on the day it was completed, at the due date's local time of day
                // ("every 3 days after I water the plants", at 09:00 as before, not at whatever
                // minute the box was ticked). A task without a due date has no such time of day:
                // it restarts at the completion's minute, and so does an hourly rule, at the
                // due date's minute when the rule names its hours. The next occurrence is the
                // restarted series' first one after both its start and the completion, and
                // never the occurrence just completed again (a Monday/Thursday task due Monday
                // and done on the Friday before goes on to Thursday). A rule with several times
                // a day restarts at the start of the completion's day (as far as the rule's own
                // times go) and goes on to its first time after the completion (due at 17:00
                // yesterday and done at 10:00: next at 17:00 today). Whole seconds, like the
                // rule engine. A restart that leaves the rule no occurrence (an hourly rule
                // whose INTERVAL no longer meets its hours) goes on in the series' own phase.
                // (`next_after` applies UNTIL to the occurrence it finds.)
                use chrono::{DurationRound, SubsecRound, Timelike};
                let done = completed_at.trunc_subsecs(0);
                let local_done = done.with_timezone(&tz);
                let on_done_day = |h: u32, m: u32, s: u32| {
                    let clock = chrono::NaiveTime::from_hms_opt(h, m, s)?;
                    super::recurrence::place(tz, local_done.date_naive().and_time(clock))
                };
                let due = self.due_date.map(|d| d.trunc_subsecs(0).with_timezone(&tz));
                let (start, after) = match due {
                    Some(due) if rule.is_hourly() && rule.values_of("BYHOUR").is_some() => (
                        on_done_day(local_done.hour(), due.minute(), due.second())?,
                        done,
                    ),
                    Some(due) if !rule.is_hourly() => {
                        let start = if rule.several_a_day() {
                            // The rule's own hours, minutes and seconds win over the start's.
                            let own = |name: &str, of_due: u32| {
                                if rule.values_of(name).is_some() {
                                    0
                                } else {
                                    of_due
                                }
                            };
                            on_done_day(
                                own("BYHOUR", due.hour()),
                                own("BYMINUTE", due.minute()),
                                own("BYSECOND", due.second()),
                            )?
                        } else {
                            on_done_day(due.hour(), due.minute(), due.second())?
                        };
                        (start, start.max(done))
                    }
                    _ => (
                        done.duration_trunc(chrono::Duration::minutes(1)).ok()?,
                        done,
                    ),
                };
                let own_due = due.map(|d| d.with_timezone(&Utc));
                let first_after = |from: DateTime<Utc>, after: DateTime<Utc>| {
                    let next = rule.next_after(from, tz, after)?;
                    if Some(next) == own_due {
                        rule.next_after(from, tz, next)
                    } else {
                        Some(next)
                    }
                };
                let next = match first_after(start, after) {
                    Some(next) => next,
                    None => first_after(self.series_start.or(self.due_date)?, done)?,
                };
                (next, Some(start))
            }
        };
        // An occurrence past year 9999 cannot be stored: the series ends. A reminder that
        // would fall outside the range is left off that occurrence.
        if !time::in_range(&next_due) {
            return None;
        }
        // The reminder keeps its distance from the occurrence's time: its due date, or without
        // one, the completion the series went on from (its minute, where the series restarted).
        // Without a due date the distance is only a lead, never a delay: a reminder that was
        // still ahead when the task was completed early would otherwise come after the new
        // occurrence's due date (it reminds at that due date instead).
        let lead = |r: DateTime<Utc>| match self.due_date {
            Some(due) => due - r,
            None => (restart.unwrap_or(completed_at) - r).max(chrono::Duration::zero()),
        };
        let reminder_at = self
            .reminder_at
            .and_then(|r| next_due.checked_sub_signed(lead(r)))
            .filter(time::in_range);
        Some(Task {
            id,
            owner: self.owner.clone(),
            title: self.title.clone(),
            description: self.description.clone(),
            status: Status::Pending,
            priority: self.priority,
            tags: self.tags.clone(),
            due_date: Some(next_due),
            reminder_at,
            recurrence_rule: self.recurrence_rule.clone(),
            recurrence_anchor: self.recurrence_anchor,
            timezone: self.timezone.clone(),
            series_id: self.series_id.or(Some(self.id)),
            // A series that went on from a completion is scheduled from there on (a first
            // occurrence without a due date would otherwise pass on its creation time of day).
            series_start: if restart.is_some() {
                Some(next_due)
            } else {
                self.series_start.or(self.due_date)
            },
            occurrence: self.occurrence.saturating_add(1),
            completed_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        })
    }

    /// Current status.
    pub fn status(&self) -> Status {
        self.status
    }

    /// When the task was completed; set exactly when `status` is completed.
    pub fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.completed_at
    }

    /// The recurrence rule, when the task is recurring.
    pub fn recurrence_rule(&self) -> Option<&RecurrenceRule> {
        self.recurrence_rule.as_ref()
    }

    /// Whether completing the task schedules a next occurrence.
    pub fn is_recurring(&self) -> bool {
        self.recurrence_rule.is_some()
    }

    /// The series a recurring task belongs to (the id of its first occurrence).
    pub fn series_id(&self) -> Option<TaskId> {
        self.series_id
    }

    /// Sets the status, keeping `completed_at` in agreement. Returns whether anything changed.
    fn set_status(&mut self, status: Status, now: DateTime<Utc>) -> bool {
        if self.status == status {
            return false;
        }
        self.status = status;
        self.completed_at = (status == Status::Completed).then_some(now);
        true
    }

    /// The complete endpoint's toggle: completed ↔ pending (in-progress counts as not done).
    pub fn toggle_complete(&mut self, now: DateTime<Utc>) {
        let next = if self.status == Status::Completed {
            Status::Pending
        } else {
            Status::Completed
        };
        self.set_status(next, now);
        self.touch(now);
    }

    fn touch(&mut self, now: DateTime<Utc>) {
        self.updated_at = now;
        self.version += 1;
    }

    /// Applies a partial update and returns the JSON names of the fields whose value changed
    /// (empty when the update changes nothing, in which case the version is not bumped).
    pub fn apply(
        &mut self,
        mut c: TaskChanges,
        now: DateTime<Utc>,
    ) -> Result<Vec<&'static str>, ValidationErrors> {
        if let Some((text, refused)) = c.refused_rule.take() {
            if self.recurrence_rule.as_ref().map(RecurrenceRule::as_str) != Some(text.as_str()) {
                return Err(refused.into());
            }
            c.recurrence_rule = None;
        }
        let rule = resolve_recurrence(
            c.is_recurring,
            c.recurrence_rule,
            self.recurrence_rule.clone(),
        )
        .map_err(ValidationErrors::from)?;
        let mut changed = Vec::new();
        macro_rules! set {
            ($field:ident, $value:expr, $name:literal) => {{
                let v = $value;
                if self.$field != v {
                    self.$field = v;
                    changed.push($name);
                }
            }};
        }
        if let Some(v) = c.title {
            set!(title, v, "title");
        }
        if let Some(v) = c.description {
            set!(description, v, "description");
        }
        if let Some(v) = c.priority {
            set!(priority, v, "priority");
        }
        if let Some(v) = c.tags {
            set!(tags, v, "tags");
        }
        if let Some(v) = c.due_date {
            set!(due_date, v, "due_date");
        }
        if let Some(v) = c.reminder_at {
            set!(reminder_at, v, "reminder_at");
        }
        if let Some(v) = c.recurrence_anchor {
            set!(recurrence_anchor, v, "recurrence_anchor");
        }
        if let Some(v) = c.timezone {
            set!(timezone, v, "timezone");
        }
        let was_recurring = self.is_recurring();
        set!(recurrence_rule, rule, "recurrence_rule");
        if was_recurring != self.is_recurring() {
            changed.push("is_recurring");
        }
        // The series starts at the first occurrence's due time: set when the task becomes
        // recurring, and moved with the first occurrence's due date (later occurrences keep the
        // series' schedule when one of them is moved).
        // Becoming recurring again (the rule removed, then set) starts the schedule afresh too.
        // A due date cleared leaves the start where it was.
        let first_moved =
            self.occurrence == 1 && changed.contains(&"due_date") && self.due_date.is_some();
        let became_recurring = !was_recurring && self.is_recurring();
        if self.recurrence_rule.is_some()
            && (self.series_id.is_none() || first_moved || became_recurring)
        {
            self.series_id.get_or_insert(self.id);
            self.series_start = Some(self.due_date.unwrap_or(now));
        }
        // A rule set by this update, or a series whose due date or zone it moves, must go on
        // after the task (a moved due date may pass UNTIL: the series ends there).
        let rule_set = changed.contains(&"recurrence_rule");
        if (rule_set || changed.contains(&"due_date") || changed.contains(&"timezone"))
            && let (Some(rule), Some(start)) = (&self.recurrence_rule, self.series_start)
        {
            let from = self.due_date.unwrap_or(now).max(start);
            rule.check_schedule(start, from, self.timezone.tz(), !rule_set)?;
        }
        if let Some(s) = c.status
            && self.set_status(s, now)
        {
            changed.push("status");
            changed.push("completed_at");
        }
        if !changed.is_empty() {
            self.touch(now);
        }
        Ok(changed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::time::parse_rfc3339;

    fn t(s: &str) -> DateTime<Utc> {
        parse_rfc3339(s).expect("valid time")
    }

    #[test]
    fn a_task_id_has_one_spelling() {
        let id = "0195c7a0-6b1e-7c3a-9f00-2f1d6f3e9a10";
        let want = TaskId::parse(id).expect("hyphenated");
        assert_eq!(
            TaskId::parse(&id.to_uppercase()).expect("either case"),
            want
        );
        for other in [
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            id.replace('-', ""),
            format!(" {id} "),
            "0195c7a06-b1e-7c3a-9f00-2f1d6f3e9a10".to_string(),
            "0195c7a0-6b1e-7c3a-9f00-2f1d6f3e9a1g".to_string(),
            String::new(),
        ] {
            assert!(TaskId::parse(&other).is_err(), "{other:?} was taken");
        }
    }

    fn new_task(title: &str) -> NewTask {
        NewTask {
            title: Some(TaskTitle::parse(title).expect("valid")),
            ..NewTask::default()
        }
    }

    #[test]
    fn title_is_trimmed_and_bounded() {
        assert_eq!(
            TaskTitle::parse("  Buy milk ").expect("valid").as_str(),
            "Buy milk"
        );
        assert!(TaskTitle::parse("   ").is_err());
        assert!(TaskTitle::parse(&"x".repeat(201)).is_err());
        assert!(
            TaskTitle::parse(&"é".repeat(200)).is_ok(),
            "limit counts characters, not bytes"
        );
        assert!(TaskTitle::parse("a\nb").is_err());
        // Invisible-only titles are empty; Unicode line separators are line breaks.
        for raw in ["\u{200B}", " \u{FEFF} ", "\u{200D}\u{2060}"] {
            assert!(TaskTitle::parse(raw).is_err(), "{raw:?}");
        }
        assert!(TaskTitle::parse("a\u{2028}b").is_err());
        assert!(TaskTitle::parse("a\u{2029}b").is_err());
        // A joiner inside visible text (emoji sequences) is fine.
        assert!(TaskTitle::parse("family \u{1F468}\u{200D}\u{1F469}").is_ok());
        // Titles that show nothing: direction marks, isolates, soft hyphen, Hangul fillers,
        // the blank Braille pattern, a lone combining mark, variation selectors, tag
        // characters, noncharacters and unassigned code points.
        for raw in [
            "\u{200E}\u{200F}",
            "\u{2066}",
            "\u{00AD}",
            "\u{3164}",
            "\u{115F}",
            "\u{FFA0}",
            "\u{2800}",
            "\u{180E}",
            "\u{FE0F}",
            "\u{034F}",
            "\u{0301}",
            "\u{E0020}",
            "\u{FFFE}",
            "\u{FDD0}",
            "\u{10FFFF}",
        ] {
            assert!(TaskTitle::parse(raw).is_err(), "{raw:?}");
            assert!(Tag::parse(raw, "tag").is_err(), "tag {raw:?}");
        }
        // What shows is fine, marks and all.
        for raw in [
            "❤️",
            "e\u{0301}",
            "한국",
            "日本語",
            "\u{1F600}",
            "عربى",
            "\u{E000}",
        ] {
            assert!(TaskTitle::parse(raw).is_ok(), "{raw:?}");
        }
        // Overrides make text display as something else; tags are one line too.
        assert!(TaskTitle::parse("invoice \u{202E}fdp.exe").is_err());
        for raw in ["abc\u{202E}def", "a\u{202D}b", "a\u{2028}b"] {
            assert!(Tag::parse(raw, "tag").is_err(), "tag {raw:?}");
        }
        assert!(TaskTitle::parse("\u{2067}שלום\u{2069} world").is_ok());
        assert!(TaskTitle::parse("\u{202B}שלום\u{202C} world").is_ok());
    }

    #[test]
    fn tags_are_deduplicated_and_bounded() {
        let tags = Tags::parse(&["work", " work ", "home"]).expect("valid");
        assert_eq!(tags.as_strings(), vec!["work", "home"]);
        let many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
        assert!(Tags::parse(&many).is_err());
        let err = Tags::parse(&["ok", ""]).expect_err("empty tag");
        assert_eq!(err.0[0].field, "tags[1]");
    }

    #[test]
    fn priority_orders_by_meaning() {
        assert!(Priority::Low < Priority::Medium && Priority::Medium < Priority::High);
        assert_eq!(
            Priority::from_rank(Priority::High.rank()),
            Some(Priority::High)
        );
        assert!("urgent".parse::<Priority>().is_err());
    }

    #[test]
    fn created_completed_task_has_completed_at() {
        let now = t("2026-01-01T00:00:00Z");
        let mut input = new_task("x");
        input.status = Some(Status::Completed);
        let task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        assert_eq!(task.completed_at(), Some(now));
    }

    #[test]
    fn toggle_keeps_status_and_completed_at_in_agreement() {
        let now = t("2026-01-01T00:00:00Z");
        let mut task =
            Task::create(TaskId::new(), OwnerId::local(), new_task("x"), now).expect("valid");
        task.toggle_complete(t("2026-01-02T00:00:00Z"));
        assert_eq!(task.status(), Status::Completed);
        assert_eq!(task.completed_at(), Some(t("2026-01-02T00:00:00Z")));
        assert_eq!(task.version, 2);
        task.toggle_complete(t("2026-01-03T00:00:00Z"));
        assert_eq!(task.status(), Status::Pending);
        assert_eq!(task.completed_at(), None);
    }

    #[test]
    fn a_rule_that_ended_before_its_series_starts_is_refused() {
        let now = t("2026-01-01T00:00:00Z");
        let rule = |r: &str| RecurrenceRule::parse(r).expect("rule");
        let mut input = new_task("x");
        input.due_date = Some(t("2026-12-01T09:00:00Z"));
        input.recurrence_rule = Some(rule("FREQ=DAILY;UNTIL=20200101T000000Z"));
        let e = Task::create(TaskId::new(), OwnerId::local(), input.clone(), now)
            .expect_err("UNTIL before the due date");
        assert_eq!(e.0[0].field, "recurrence_rule");
        assert!(
            e.0[0].message.contains("2020-01-01T00:00:00Z"),
            "{}",
            e.0[0].message
        );
        // Without a due date the series starts now.
        input.due_date = None;
        assert!(Task::create(TaskId::new(), OwnerId::local(), input.clone(), now).is_err());
        input.recurrence_rule = Some(rule("FREQ=DAILY;UNTIL=20261231T000000Z"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        // An update that sets such a rule is refused; one that moves the due date is not.
        let e = task
            .apply(
                TaskChanges {
                    recurrence_rule: Some(Some(rule("FREQ=WEEKLY;UNTIL=20251231T000000Z"))),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect_err("UNTIL before the series start");
        assert_eq!(e.0[0].field, "recurrence_rule");
        task.apply(
            TaskChanges {
                due_date: Some(Some(t("2027-06-01T09:00:00Z"))),
                ..TaskChanges::default()
            },
            now,
        )
        .expect("moving a due date past UNTIL ends the series there; it is not refused");
    }

    #[test]
    fn a_rule_is_checked_from_the_series_it_is_set_on() {
        let now = t("2026-01-01T00:00:00Z");
        let rule = |r: &str| RecurrenceRule::parse(r).expect(r);
        let create = |r: &str, due: &str| {
            let mut input = new_task("x");
            input.due_date = Some(t(due));
            input.recurrence_rule = Some(rule(r));
            Task::create(TaskId::new(), OwnerId::local(), input, now)
        };
        // 2026-12-01 is a Tuesday.
        create("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-12-01T09:00:00Z")
            .expect("a Tuesday task, every seventh day on Tuesdays");
        for (r, due) in [
            ("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-12-02T09:00:00Z"),
            ("FREQ=HOURLY;INTERVAL=2;BYHOUR=9,11", "2026-12-01T10:00:00Z"),
        ] {
            let e = create(r, due).expect_err(r);
            assert!(
                e.0[0].message.contains("no occurrence after"),
                "{r}: {}",
                e.0[0].message
            );
        }
        // Dense from the task's own start, though not from the rule check's fixed one.
        let e = create(
            "FREQ=HOURLY;INTERVAL=2;BYHOUR=10;BYMINUTE=0,1",
            "2026-12-01T10:00:00Z",
        )
        .expect_err("a minute apart");
        assert!(e.0[0].message.contains("hourly"), "{}", e.0[0].message);
        // The due date itself is the first occurrence: the rule's own first one a minute later
        // is too close.
        let e = create("FREQ=DAILY;BYHOUR=9;BYMINUTE=1", "2026-12-01T09:00:00Z")
            .expect_err("a minute after the due date");
        assert!(
            e.0[0].message.contains("1 minutes apart"),
            "{}",
            e.0[0].message
        );
        // An update that moves the due date or the zone off the rule's days and hours.
        let mut tuesday =
            create("FREQ=DAILY;INTERVAL=7;BYDAY=TU", "2026-12-01T09:00:00Z").expect("valid");
        let moved = |due: &str| TaskChanges {
            due_date: Some(Some(t(due))),
            ..TaskChanges::default()
        };
        tuesday
            .apply(moved("2026-12-02T09:00:00Z"), now)
            .expect_err("moved to a Wednesday");
        let mut hourly =
            create("FREQ=HOURLY;INTERVAL=2;BYHOUR=9,11", "2026-12-01T09:00:00Z").expect("valid");
        hourly
            .apply(
                TaskChanges {
                    timezone: Some(crate::domain::TimeZoneName::parse("Asia/Kolkata").expect("tz")),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect_err("09:00 UTC is 14:30 in Kolkata");
        // An UNTIL before a later occurrence's due date, set by an update.
        let mut task = create("daily", "2024-01-01T09:00:00Z").expect("valid");
        task.occurrence = 2; // a later occurrence: moving it leaves the series start
        task.apply(
            TaskChanges {
                due_date: Some(Some(t("2025-05-15T09:00:00Z"))),
                ..TaskChanges::default()
            },
            now,
        )
        .expect("moved");
        assert_eq!(task.series_start(), Some(t("2024-01-01T09:00:00Z")));
        let e = task
            .apply(
                TaskChanges {
                    recurrence_rule: Some(Some(rule("FREQ=DAILY;UNTIL=20250101T000000Z"))),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect_err("UNTIL before this occurrence's due date");
        assert!(
            e.0[0].message.contains("2025-05-15T09:00:00Z"),
            "{}",
            e.0[0].message
        );
    }

    #[test]
    fn a_stored_rule_the_checks_now_refuse_may_be_sent_back_unchanged() {
        let now = t("2026-01-01T00:00:00Z");
        let mut input = new_task("x");
        input.due_date = Some(t("2026-12-01T09:00:00Z"));
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("rule"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let old = "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30"; // accepted before the 1-hour gap
        task.recurrence_rule = Some(RecurrenceRule::from_stored(old));
        let refused = RecurrenceRule::parse(old).expect_err("refused now");
        let changed = task
            .apply(
                TaskChanges {
                    title: Some(TaskTitle::parse("y").expect("title")),
                    refused_rule: Some((old.to_string(), refused.clone())),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect("the stored rule, sent back");
        assert_eq!(changed, vec!["title"]);
        assert_eq!(
            task.recurrence_rule.as_ref().map(RecurrenceRule::as_str),
            Some(old)
        );
        let other = "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,30";
        let e = task
            .apply(
                TaskChanges {
                    refused_rule: Some((other.to_string(), refused)),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect_err("a different refused rule");
        assert_eq!(e.0[0].field, "recurrence_rule");
    }

    #[test]
    fn patch_status_updates_completed_at_and_reports_changes() {
        let now = t("2026-01-01T00:00:00Z");
        let mut task =
            Task::create(TaskId::new(), OwnerId::local(), new_task("x"), now).expect("valid");
        let later = t("2026-01-05T00:00:00Z");
        let changed = task
            .apply(
                TaskChanges {
                    status: Some(Status::Completed),
                    ..TaskChanges::default()
                },
                later,
            )
            .expect("valid");
        assert_eq!(changed, vec!["status", "completed_at"]);
        assert_eq!(task.completed_at(), Some(later));
        let changed = task
            .apply(
                TaskChanges {
                    status: Some(Status::InProgress),
                    ..TaskChanges::default()
                },
                later,
            )
            .expect("valid");
        assert!(changed.contains(&"status"));
        assert_eq!(task.completed_at(), None);
    }

    #[test]
    fn a_no_op_patch_does_not_bump_the_version() {
        let now = t("2026-01-01T00:00:00Z");
        let mut task =
            Task::create(TaskId::new(), OwnerId::local(), new_task("x"), now).expect("valid");
        let changed = task
            .apply(
                TaskChanges {
                    title: Some(TaskTitle::parse("x").expect("valid")),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect("valid");
        assert!(changed.is_empty());
        assert_eq!(task.version, 1);
    }

    #[test]
    fn recurring_flag_and_rule_must_agree() {
        let now = t("2026-01-01T00:00:00Z");
        let mut input = new_task("x");
        input.is_recurring = Some(true);
        assert!(Task::create(TaskId::new(), OwnerId::local(), input, now).is_err());

        let mut input = new_task("x");
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("valid"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        assert!(task.is_recurring());
        assert_eq!(task.series_id(), Some(task.id));

        let changed = task
            .apply(
                TaskChanges {
                    is_recurring: Some(false),
                    ..TaskChanges::default()
                },
                now,
            )
            .expect("valid");
        assert!(changed.contains(&"is_recurring"));
        assert!(task.recurrence_rule().is_none());
    }

    fn recurring(rule: &str, due: &str, tz: &str, created: &str) -> Task {
        let input = NewTask {
            title: Some(TaskTitle::parse("standup").expect("valid")),
            due_date: Some(t(due)),
            reminder_at: Some(t(due) - chrono::Duration::minutes(15)),
            recurrence_rule: Some(RecurrenceRule::parse(rule).expect("rule")),
            timezone: Some(TimeZoneName::parse(tz).expect("tz")),
            ..NewTask::default()
        };
        Task::create(TaskId::new(), OwnerId::local(), input, t(created)).expect("valid")
    }

    /// The occurrence that follows a completion-anchored `rule` task due at `due` in `tz`,
    /// completed at `done`.
    fn next_after_completion(rule: &str, due: &str, tz: &str, done: &str) -> Option<Task> {
        let mut task = recurring(rule, due, tz, "2026-01-01T00:00:00Z");
        task.recurrence_anchor = RecurrenceAnchor::Completion;
        task.toggle_complete(t(done));
        task.next_occurrence(TaskId::new(), t(done))
    }

    #[test]
    fn next_occurrence_keeps_wall_clock_time_series_and_reminder_offset() {
        // 09:00 in New York before DST (UTC-5), completed a day late: the schedule anchor ignores
        // the delay, and the next one is 09:00 local after the DST switch (UTC-4).
        let mut task = recurring(
            "weekly",
            "2026-03-02T09:00:00-05:00",
            "America/New_York",
            "2026-03-01T00:00:00Z",
        );
        task.toggle_complete(t("2026-03-03T12:00:00Z"));
        let next = task
            .next_occurrence(TaskId::new(), t("2026-03-03T12:00:01Z"))
            .expect("next");
        assert_eq!(next.due_date, Some(t("2026-03-09T09:00:00-04:00")));
        assert_eq!(next.reminder_at, Some(t("2026-03-09T08:45:00-04:00")));
        assert_eq!(next.series_id(), task.series_id());
        assert_eq!(next.occurrence(), 2);
        assert_eq!(next.status(), Status::Pending);
        assert_eq!(next.completed_at(), None);
    }

    #[test]
    fn a_series_whose_next_occurrence_would_pass_year_9999_ends() {
        for (rule, due) in [
            ("yearly", "9999-06-01T09:00:00Z"),
            ("daily", "9999-12-31T09:00:00Z"),
        ] {
            let mut task = recurring(rule, due, "UTC", "2026-01-01T00:00:00Z");
            task.toggle_complete(t("2026-01-02T00:00:00Z"));
            assert!(
                task.next_occurrence(TaskId::new(), t("2026-01-02T00:00:01Z"))
                    .is_none(),
                "{rule} from {due}"
            );
        }
        // The last day that fits still gets its occurrence.
        let mut task = recurring(
            "daily",
            "9999-12-30T09:00:00Z",
            "UTC",
            "2026-01-01T00:00:00Z",
        );
        task.toggle_complete(t("2026-01-02T00:00:00Z"));
        let next = task
            .next_occurrence(TaskId::new(), t("2026-01-02T00:00:01Z"))
            .expect("next");
        assert_eq!(next.due_date, Some(t("9999-12-31T09:00:00Z")));
    }

    #[test]
    fn completion_anchor_schedules_from_the_completion_day_at_the_due_time() {
        // Due 09:00 local, every day or every 3 days counted from the completion: done late in
        // the evening or early in the morning, the next one is due at 09:00 that many days on.
        for (rule, done, want) in [
            (
                "daily",
                "2026-01-05T22:13:47+01:00",
                "2026-01-06T09:00:00+01:00",
            ),
            (
                "daily",
                "2026-01-05T07:00:00+01:00",
                "2026-01-06T09:00:00+01:00",
            ),
            (
                "FREQ=DAILY;INTERVAL=3",
                "2026-01-05T22:13:47+01:00",
                "2026-01-08T09:00:00+01:00",
            ),
            // Across the spring change: still 09:00 on the wall clock.
            (
                "weekly",
                "2026-03-27T18:00:00+01:00",
                "2026-04-03T09:00:00+02:00",
            ),
            // Twice a day: the next of the rule's hours after the completion.
            (
                "FREQ=DAILY;BYHOUR=9,17",
                "2026-01-05T12:00:00+01:00",
                "2026-01-05T17:00:00+01:00",
            ),
            (
                "FREQ=DAILY;BYHOUR=9,17",
                "2026-01-05T22:00:00+01:00",
                "2026-01-06T09:00:00+01:00",
            ),
            (
                "FREQ=DAILY;BYHOUR=9,17",
                "2026-01-05T08:00:00+01:00",
                "2026-01-05T09:00:00+01:00",
            ),
            // An hourly rule counts from the completion's minute.
            (
                "FREQ=HOURLY;INTERVAL=8",
                "2026-01-05T22:13:47+01:00",
                "2026-01-06T06:13:00+01:00",
            ),
            // The monthly preset from the completion's day of the month.
            (
                "monthly",
                "2026-01-20T15:00:00+01:00",
                "2026-02-20T09:00:00+01:00",
            ),
        ] {
            let next =
                next_after_completion(rule, "2026-01-01T09:00:00+01:00", "Europe/Paris", done)
                    .expect("next");
            assert_eq!(next.due_date, Some(t(want)), "{rule} done {done}");
            assert_eq!(
                next.reminder_at,
                Some(t(want) - chrono::Duration::minutes(15)),
                "{rule} done {done}"
            );
        }
    }

    #[test]
    fn completion_anchored_rules_with_their_own_hours_keep_them() {
        // (rule, due, done, next), Europe/Paris.
        for (rule, due, done, want) in [
            // Several times a day: the first of them after the completion, on the completion's
            // day whatever the frequency (a restart on the day before shifted the week, month or
            // year, and an INTERVAL's phase).
            (
                "FREQ=WEEKLY;BYHOUR=9,17",
                "2026-11-27T09:00:00+01:00",
                "2026-11-28T05:20:00+01:00",
                "2026-11-28T09:00:00+01:00",
            ),
            (
                "FREQ=MONTHLY;BYHOUR=9,17",
                "2026-11-27T09:00:00+01:00",
                "2026-11-28T05:20:00+01:00",
                "2026-11-28T09:00:00+01:00",
            ),
            (
                "FREQ=YEARLY;BYHOUR=9,17",
                "2026-11-27T09:00:00+01:00",
                "2026-11-28T05:20:00+01:00",
                "2026-11-28T09:00:00+01:00",
            ),
            (
                "FREQ=DAILY;INTERVAL=2;BYHOUR=9,17",
                "2026-11-27T09:00:00+01:00",
                "2026-11-28T05:20:00+01:00",
                "2026-11-28T09:00:00+01:00",
            ),
            // The due date's minute with the rule's hours.
            (
                "FREQ=DAILY;BYHOUR=9,17",
                "2026-11-27T17:30:00+01:00",
                "2026-11-28T10:00:00+01:00",
                "2026-11-28T17:30:00+01:00",
            ),
            // An hourly rule that names its hours keeps the due date's minute; one whose
            // INTERVAL would no longer meet its hours from the completion goes on in the
            // series' own phase (it used to end there, silently).
            (
                "FREQ=HOURLY;BYHOUR=9,13,17",
                "2026-11-27T09:15:00+01:00",
                "2026-11-28T10:40:00+01:00",
                "2026-11-28T13:15:00+01:00",
            ),
            (
                "FREQ=HOURLY;INTERVAL=2;BYHOUR=9,11",
                "2026-11-28T09:00:00+01:00",
                "2026-11-28T04:26:00+01:00",
                "2026-11-28T11:00:00+01:00",
            ),
            (
                "FREQ=HOURLY;INTERVAL=24;BYHOUR=9",
                "2026-11-27T09:00:00+01:00",
                "2026-11-28T04:26:00+01:00",
                "2026-11-28T09:00:00+01:00",
            ),
        ] {
            let next = next_after_completion(rule, due, "Europe/Paris", done)
                .unwrap_or_else(|| panic!("{rule}: the series ended"));
            assert_eq!(next.due_date, Some(t(want)), "{rule} due {due} done {done}");
        }
    }

    #[test]
    fn a_due_date_with_a_fraction_of_a_second_is_an_occurrence_like_any_other() {
        // The rule engine works in whole seconds: 08:00:00.5 is the 08:00 occurrence, not one
        // 59 minutes and 59.5 seconds before 09:00 (refused as denser than hourly before).
        for rule in ["FREQ=HOURLY", "FREQ=DAILY;BYHOUR=8,9,10"] {
            let task = recurring(
                rule,
                "2026-11-28T08:00:00.5Z",
                "UTC",
                "2026-11-01T00:00:00Z",
            );
            assert_eq!(task.due_date, Some(t("2026-11-28T08:00:00.5Z")), "{rule}");
        }
    }

    #[test]
    fn completing_a_completion_anchored_task_early_moves_the_series_on() {
        // Due Monday 30 Nov 09:00, done early on Friday 27 Nov 14:00: the series goes on from
        // the completion (it came back due on the 30th, again and again, before), and never
        // comes back due at the very time of the occurrence just done.
        for (rule, due, want) in [
            ("weekly", "2026-11-30T09:00:00Z", "2026-12-04T09:00:00Z"),
            (
                "FREQ=WEEKLY;BYDAY=MO,TH",
                "2026-11-30T09:00:00Z",
                "2026-12-03T09:00:00Z",
            ),
            // A due date with a fraction of a second (the API keeps microseconds).
            (
                "FREQ=WEEKLY;BYDAY=MO,TH",
                "2026-11-30T09:00:00.5Z",
                "2026-12-03T09:00:00Z",
            ),
        ] {
            let next =
                next_after_completion(rule, due, "UTC", "2026-11-27T14:00:00Z").expect("next");
            assert_eq!(next.due_date, Some(t(want)), "{rule}");
        }
    }

    #[test]
    fn the_series_starts_where_the_first_occurrence_is_due_even_when_moved() {
        let now = t("2026-11-27T19:23:18Z");
        // A daily task created without a due date, given one later.
        let mut input = new_task("water plants");
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("rule"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        let changes = |due: &str| TaskChanges {
            due_date: Some(Some(t(due))),
            ..TaskChanges::default()
        };
        task.apply(changes("2026-12-01T09:00:00Z"), now)
            .expect("valid");
        assert_eq!(task.series_start(), Some(t("2026-12-01T09:00:00Z")));
        // Moved earlier, to 10:00 on the 5th... then back to the 1st at 10:00.
        task.apply(changes("2026-12-05T10:00:00Z"), now)
            .expect("valid");
        task.apply(changes("2026-12-01T10:00:00Z"), now)
            .expect("valid");
        task.toggle_complete(t("2026-12-01T11:00:00Z"));
        let next = task
            .next_occurrence(TaskId::new(), t("2026-12-01T11:00:01Z"))
            .expect("next");
        assert_eq!(next.due_date, Some(t("2026-12-02T10:00:00Z")));
        // A later occurrence moved once keeps the series' schedule.
        let mut second = next;
        second
            .apply(changes("2026-12-02T15:00:00Z"), now)
            .expect("valid");
        assert_eq!(second.series_start(), Some(t("2026-12-01T10:00:00Z")));
        second.toggle_complete(t("2026-12-02T16:00:00Z"));
        let third = second
            .next_occurrence(TaskId::new(), t("2026-12-02T16:00:01Z"))
            .expect("third");
        assert_eq!(third.due_date, Some(t("2026-12-03T10:00:00Z")));
    }

    #[test]
    fn a_reminder_moves_with_an_occurrence_that_had_no_due_date() {
        let now = t("2026-11-27T19:00:00Z");
        let mut input = new_task("journal");
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("rule"));
        input.reminder_at = Some(t("2026-11-27T21:00:00Z"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        task.toggle_complete(t("2026-11-27T19:30:00.25Z"));
        let next = task
            .next_occurrence(TaskId::new(), t("2026-11-27T19:30:01Z"))
            .expect("next");
        assert_eq!(next.due_date, Some(t("2026-11-28T19:30:00Z")));
        // The reminder was still ahead at the early completion: it does not come after the new
        // due date, it reminds at it.
        assert_eq!(next.reminder_at, Some(t("2026-11-28T19:30:00Z")));

        // A reminder that had already passed keeps its lead on the next due date.
        let mut input = new_task("journal");
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("rule"));
        input.reminder_at = Some(t("2026-11-27T19:10:00Z"));
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, now).expect("valid");
        task.toggle_complete(t("2026-11-27T19:30:00Z"));
        let next = task
            .next_occurrence(TaskId::new(), t("2026-11-27T19:30:01Z"))
            .expect("next");
        assert_eq!(next.reminder_at, Some(t("2026-11-28T19:10:00Z")));
    }

    #[test]
    fn until_ends_a_series_that_goes_on_from_its_completions() {
        // Undated, so each next occurrence follows the completion: past UNTIL there is none.
        for (completed, next) in [
            ("2026-11-28T10:00:00Z", true),
            ("2026-12-05T10:00:00Z", false),
        ] {
            let mut input = new_task("water plants");
            input.recurrence_rule =
                Some(RecurrenceRule::parse("FREQ=DAILY;UNTIL=20261201T000000Z").expect("rule"));
            let mut task = Task::create(
                TaskId::new(),
                OwnerId::local(),
                input,
                t("2026-11-27T09:00:00Z"),
            )
            .expect("valid");
            assert_eq!(
                complete_at(&mut task, completed).is_some(),
                next,
                "{completed}"
            );
        }
    }

    /// Completes `task` at `at` and returns its next occurrence, if any.
    fn complete_at(task: &mut Task, at: &str) -> Option<Task> {
        task.toggle_complete(t(at));
        task.next_occurrence(TaskId::new(), t(at))
    }

    #[test]
    fn count_counts_occurrences_even_when_one_was_moved() {
        let mut task = recurring(
            "FREQ=DAILY;COUNT=5",
            "2026-12-01T09:00:00Z",
            "UTC",
            "2026-11-30T00:00:00Z",
        );
        let mut second = complete_at(&mut task, "2026-12-01T10:00:00Z").expect("2nd");
        // Moved from the 2nd to the 6th: the rule's own five days (1st-5th) are past by then.
        second
            .apply(
                TaskChanges {
                    due_date: Some(Some(t("2026-12-06T09:00:00Z"))),
                    ..TaskChanges::default()
                },
                t("2026-12-01T11:00:00Z"),
            )
            .expect("valid");
        let mut dues = Vec::new();
        let mut current = second;
        while let Some(next) = complete_at(&mut current, "2026-12-20T00:00:00Z") {
            dues.push(next.due_date.expect("due"));
            current = next;
        }
        assert_eq!(
            dues,
            vec![
                t("2026-12-07T09:00:00Z"),
                t("2026-12-08T09:00:00Z"),
                t("2026-12-09T09:00:00Z")
            ],
            "five occurrences in all"
        );
    }

    #[test]
    fn an_undated_first_occurrence_starts_the_schedule_at_its_completion() {
        let mut input = new_task("stretch");
        input.recurrence_rule = Some(RecurrenceRule::parse("daily").expect("rule"));
        let created = t("2026-11-27T19:00:00Z");
        let mut task = Task::create(TaskId::new(), OwnerId::local(), input, created).expect("ok");
        let mut second = complete_at(&mut task, "2026-12-03T19:30:00Z").expect("2nd");
        assert_eq!(second.due_date, Some(t("2026-12-04T19:30:00Z")));
        let third = complete_at(&mut second, "2026-12-04T20:00:00Z").expect("3rd");
        assert_eq!(
            third.due_date,
            Some(t("2026-12-05T19:30:00Z")),
            "not at the creation time of day"
        );
    }

    #[test]
    fn clearing_or_re_adding_parts_of_a_series_keeps_its_schedule_sensible() {
        let now = t("2026-11-27T12:34:56.789Z");
        let mut task = recurring(
            "daily",
            "2026-12-01T09:00:00Z",
            "UTC",
            "2026-11-27T00:00:00Z",
        );
        let change = |c: TaskChanges, task: &mut Task| task.apply(c, now).expect("valid");
        // A cleared due date leaves the start at the last due time, not at the moment of the edit.
        change(
            TaskChanges {
                due_date: Some(None),
                ..TaskChanges::default()
            },
            &mut task,
        );
        assert_eq!(task.series_start(), Some(t("2026-12-01T09:00:00Z")));
        // The rule removed, the due date moved, the rule set again: a fresh schedule.
        change(
            TaskChanges {
                is_recurring: Some(false),
                ..TaskChanges::default()
            },
            &mut task,
        );
        change(
            TaskChanges {
                due_date: Some(Some(t("2026-12-10T15:00:00Z"))),
                ..TaskChanges::default()
            },
            &mut task,
        );
        change(
            TaskChanges {
                recurrence_rule: Some(Some(RecurrenceRule::parse("daily").expect("rule"))),
                ..TaskChanges::default()
            },
            &mut task,
        );
        assert_eq!(task.series_start(), Some(t("2026-12-10T15:00:00Z")));
        let next = complete_at(&mut task, "2026-12-10T16:00:00Z").expect("next");
        assert_eq!(next.due_date, Some(t("2026-12-11T15:00:00Z")));
    }

    #[test]
    fn count_includes_a_first_occurrence_the_rule_would_not_produce() {
        // Due on a Wednesday, repeating on Mondays, twice in all: the Wednesday and one Monday.
        let mut task = recurring(
            "FREQ=WEEKLY;BYDAY=MO;COUNT=2",
            "2026-12-09T09:00:00Z",
            "UTC",
            "2026-12-01T00:00:00Z",
        );
        task.toggle_complete(t("2026-12-09T10:00:00Z"));
        let mut second = task
            .next_occurrence(TaskId::new(), t("2026-12-09T10:00:01Z"))
            .expect("second");
        assert_eq!(second.due_date, Some(t("2026-12-14T09:00:00Z")));
        second.toggle_complete(t("2026-12-14T10:00:00Z"));
        assert!(
            second
                .next_occurrence(TaskId::new(), t("2026-12-14T10:00:01Z"))
                .is_none()
        );
    }

    #[test]
    fn count_ends_the_series_and_pending_tasks_do_not_recur() {
        let mut task = recurring(
            "FREQ=DAILY;COUNT=2",
            "2026-01-01T09:00:00Z",
            "UTC",
            "2026-01-01T00:00:00Z",
        );
        assert!(
            task.next_occurrence(TaskId::new(), t("2026-01-01T10:00:00Z"))
                .is_none(),
            "not completed"
        );
        task.toggle_complete(t("2026-01-01T10:00:00Z"));
        let mut second = task
            .next_occurrence(TaskId::new(), t("2026-01-01T10:00:00Z"))
            .expect("second");
        second.toggle_complete(t("2026-01-02T10:00:00Z"));
        assert!(
            second
                .next_occurrence(TaskId::new(), t("2026-01-02T10:00:00Z"))
                .is_none(),
            "COUNT=2 reached"
        );
    }
}
