//! Timestamps: parsed from RFC 3339 with an explicit offset, stored and returned in UTC.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or `+01:00`), honouring the offset,
/// and returns it in UTC truncated to microseconds (the precision both databases keep).
pub fn parse_rfc3339(input: &str) -> Result<DateTime<Utc>, String> {
    let trimmed = input.trim();
    DateTime::parse_from_rfc3339(trimmed)
        .map(|dt| dt.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| {
            format!(
                "'{}' is not an RFC 3339 date-time with an offset (e.g. 2026-05-01T09:00:00+02:00 or 2026-05-01T07:00:00Z)",
                truncate_for_message(trimmed, 64)
            )
        })
}

/// Formats a UTC timestamp as RFC 3339 with a `Z` suffix.
pub fn format_utc(dt: &DateTime<Utc>) -> String {
    dt.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The fixed-width UTC text form used where timestamps are stored as text (SQLite): it sorts
/// lexicographically in chronological order.
pub fn to_sortable_text(dt: &DateTime<Utc>) -> String {
    dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Parses the text form written by [`to_sortable_text`] (or any RFC 3339 timestamp).
pub fn from_sortable_text(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|dt| dt.with_timezone(&Utc))
        .map_err(|e| format!("stored timestamp '{s}' is unreadable: {e}"))
}

/// The current time at the precision the databases keep.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Shortens user input quoted back in an error message.
pub(crate) fn truncate_for_message(s: &str, max_chars: usize) -> String {
    if s.chars().count() <= max_chars {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max_chars).collect();
        out.push('…');
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offset_is_honoured_and_output_is_utc_z() {
        let dt = parse_rfc3339("2026-03-01T09:30:00+02:00").expect("valid");
        assert_eq!(format_utc(&dt), "2026-03-01T07:30:00Z");
    }

    #[test]
    fn missing_offset_is_rejected() {
        assert!(parse_rfc3339("2026-03-01T09:30:00").is_err());
        assert!(parse_rfc3339("2026-03-01").is_err());
        assert!(parse_rfc3339("not a date").is_err());
        assert!(parse_rfc3339("2026-02-30T09:00:00Z").is_err());
    }

    #[test]
    fn sortable_text_round_trips_and_sorts() {
        let a = parse_rfc3339("2026-03-01T09:30:00.5Z").expect("valid");
        let b = parse_rfc3339("2026-03-01T10:00:00Z").expect("valid");
        assert!(to_sortable_text(&a) < to_sortable_text(&b));
        assert_eq!(from_sortable_text(&to_sortable_text(&a)), Ok(a));
    }

    #[test]
    fn sub_microsecond_precision_is_truncated() {
        let dt = parse_rfc3339("2026-03-01T09:30:00.123456789Z").expect("valid");
        assert_eq!(format_utc(&dt), "2026-03-01T09:30:00.123456Z");
    }
}
