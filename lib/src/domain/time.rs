//! Timestamps: parsed from RFC 3339 with an explicit offset, stored and returned in UTC.

use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Utc};

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or `+01:00`), honouring the offset,
/// and returns it in UTC truncated to microseconds (the precision both databases keep).
///
/// The instant must fall in years 0000–9999 once in UTC (`9999-12-31T23:59:59-05:00` does not):
/// what RFC 3339 can write, so what is stored and returned always reads back.
pub fn parse_rfc3339(input: &str) -> Result<DateTime<Utc>, String> {
    let trimmed = input.trim();
    let dt = DateTime::parse_from_rfc3339(trimmed)
        .map(|dt| dt.with_timezone(&Utc).trunc_subsecs(6))
        .map_err(|_| {
            format!(
                "'{}' is not an RFC 3339 date-time with an offset (e.g. 2026-05-01T09:00:00+02:00 or 2026-05-01T07:00:00Z)",
                truncate_for_message(trimmed, 64)
            )
        })?;
    // chrono keeps a leap second (`:60`) as a 60th second that most clients cannot read back
    // (JavaScript's Date refuses `…:60Z`).
    if dt.timestamp_subsec_nanos() >= 1_000_000_000 {
        return Err(format!(
            "'{}' is a leap second (:60), which is not supported; use :59 or the next minute",
            truncate_for_message(trimmed, 64)
        ));
    }
    if !in_range(&dt) {
        return Err(format!(
            "'{}' is outside the supported range: years 0000 to 9999 in UTC",
            truncate_for_message(trimmed, 64)
        ));
    }
    Ok(dt)
}

/// Whether `dt` is in years 0000–9999: the instants the API accepts, stores and returns.
pub fn in_range(dt: &DateTime<Utc>) -> bool {
    (0..=9999).contains(&dt.year())
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

    #[test]
    fn leap_seconds_are_refused() {
        for input in ["2016-12-31T23:59:60Z", "2026-12-01T09:59:60+05:30"] {
            let e = parse_rfc3339(input).expect_err(input);
            assert!(e.contains("leap second"), "{input}: {e}");
        }
        assert!(parse_rfc3339("2016-12-31T23:59:59.999999Z").is_ok());
    }

    #[test]
    fn instants_outside_four_digit_years_in_utc_are_rejected() {
        // Each is valid RFC 3339, but lands outside 0000–9999 once converted to UTC.
        for input in [
            "9999-12-31T23:59:59-05:00",
            "9999-12-31T23:59:59-23:59",
            "0000-01-01T00:00:00+05:30",
            "0000-01-01T00:00:00+00:01",
        ] {
            let e = parse_rfc3339(input).expect_err(input);
            assert!(e.contains("outside the supported range"), "{input}: {e}");
        }
        // The edges themselves are fine and read back from their stored form.
        for input in [
            "9999-12-31T23:59:59.999999Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T18:59:59-05:00",
        ] {
            let dt = parse_rfc3339(input).expect(input);
            assert_eq!(
                from_sortable_text(&to_sortable_text(&dt)),
                Ok(dt),
                "{input}"
            );
        }
    }
}
