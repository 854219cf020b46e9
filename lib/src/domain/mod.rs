//! The domain: tasks, their validated field types, recurrence rules and domain events.
//!
//! Pure code: no I/O, no clocks read implicitly (callers pass `now`), no framework types.
//! Everything here can be constructed only through `parse`-style constructors, so an invalid
//! value cannot exist past the edge of the system.

pub mod event;
pub mod recurrence;
pub mod task;
pub mod time;

pub use event::{DomainEvent, EventType};
pub use recurrence::{RecurrenceAnchor, RecurrenceRule};
pub use task::{
    Description, OwnerId, Priority, Status, Tag, Tags, Task, TaskChanges, TaskId, TaskTitle,
    TimeZoneName,
};

/// Why a single field was rejected. `field` is the JSON name the client sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// JSON name of the offending field (or query parameter).
    pub field: String,
    /// Human-readable reason, phrased for the API client.
    pub message: String,
}

impl FieldError {
    /// Builds a field error.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every reason a request's input was rejected; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default, thiserror::Error)]
#[error("{}", self.summary())]
pub struct ValidationErrors(pub Vec<FieldError>);

/// How many field errors a response lists one by one.
pub const REPORTED_ERRORS: usize = 20;

impl ValidationErrors {
    /// Adds one field error.
    pub fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// True when nothing was rejected.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok(())` when empty, otherwise `Err(self)`.
    pub fn into_result(self) -> Result<(), Self> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }

    /// One line naming the rejected fields, e.g. `title: must not be empty; priority: ...`,
    /// the first [`REPORTED_ERRORS`] of them and how many more.
    pub fn summary(&self) -> String {
        let mut line = self
            .reported()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        let more = self.0.len().saturating_sub(REPORTED_ERRORS);
        if more > 0 {
            line.push_str(&format!("; and {more} more"));
        }
        line
    }

    /// The errors worth reporting one by one: a body of 30,000 bad tags is refused with a
    /// few reasons, not with a response fifty times its size.
    pub fn reported(&self) -> &[FieldError] {
        &self.0[..self.0.len().min(REPORTED_ERRORS)]
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}
